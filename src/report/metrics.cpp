#include "report/metrics.hpp"

#include <set>

#include <fmt/format.h>

namespace netpol::report {
namespace {

std::string escape_label(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

std::string format_value(double v) {
  if (v == static_cast<double>(static_cast<long long>(v))) {
    return std::to_string(static_cast<long long>(v));
  }
  return fmt::format("{}", v);
}

} // namespace

std::string MetricsReport::to_text() const {
  std::string out;
  std::set<std::string> headed;
  for (const auto& m : m_metrics) {
    if (headed.insert(m.name).second) {
      out += fmt::format("# HELP {} {}\n# TYPE {} gauge\n", m.name, m.help, m.name);
    }
    out += m.name;
    if (!m.labels.empty()) {
      out += "{";
      bool first = true;
      for (const auto& [k, v] : m.labels) {
        out += fmt::format("{}{}=\"{}\"", first ? "" : ",", k, escape_label(v));
        first = false;
      }
      out += "}";
    }
    out += " " + format_value(m.value) + "\n";
  }
  out += "# EOF\n";
  return out;
}

} // namespace netpol::report
