#include "droplog/view_parts.hpp"

#include <charconv>
#include <iterator>

#include <fmt/format.h>

#include "util/log.hpp"

namespace netpol::droplog {

std::string port_text(const DropRow& r) {
  if (r.port != 0) return std::to_string(r.port) + "/" + (r.protocol.empty() ? "?" : r.protocol);
  return r.protocol.empty() ? "-" : r.protocol;
}

std::string policies_text(const DropRow& r) {
  if (r.policies.empty()) return "-";
  std::string out;
  for (const auto& p : r.policies) {
    if (!out.empty()) out += ", ";
    out += p;
  }
  return out;
}

std::string or_dash(const std::string& s) {
  return s.empty() ? "-" : s;
}

size_t width(std::string_view s) {
  size_t n = 0;
  for (char c : s)
    n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

std::string header_line(const DropSummary& s) {
  std::string ns = s.namespaces.empty() ? "all namespaces" : "";
  for (const auto& n : s.namespaces)
    ns += (ns.empty() ? "namespace " : ", ") + n;
  // Matched lines are worth a mention only when aggregated events made them differ from flows.
  const std::string matched =
      s.counts.lines_matched == s.counts.flows_matched
          ? std::string()
          : fmt::format("{} matched (aggregated), ", s.counts.lines_matched);
  return fmt::format("{} flows dropped or audited in {} from {} to {} ({} lines read, {}{} "
                     "skipped, {} malformed)",
                     s.counts.flows_matched, ns, s.since.empty() ? "the start" : s.since,
                     s.until.empty() ? "now" : s.until, s.counts.lines_read, matched,
                     s.counts.lines_skipped, s.counts.lines_malformed);
}

namespace {
// The text views list this many coverage gaps; drop-summary.json has every source.
constexpr size_t k_gaps_shown = 20;
} // namespace

std::vector<std::string> coverage_lines(const DropSummary& s) {
  const auto gaps = coverage_gaps(s);
  if (gaps.empty()) return {};
  std::vector<std::string> out;
  out.push_back(fmt::format("Coverage: {} of {} source{} {} not reach back to {}: flows before "
                            "{} oldest line may be missing",
                            gaps.size(), s.coverage.size(), s.coverage.size() == 1 ? "" : "s",
                            gaps.size() == 1 ? "does" : "do",
                            s.since.empty() ? "the window's start" : s.since,
                            gaps.size() == 1 ? "its" : "their"));
  for (size_t i = 0; i < gaps.size() && i < k_gaps_shown; ++i)
    out.push_back("  " + log::printable(gaps[i]));
  if (gaps.size() > k_gaps_shown) {
    out.push_back(fmt::format("  ... and {} more (drop-summary.json lists every source)",
                              gaps.size() - k_gaps_shown));
  }
  return out;
}

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
    case '&': out += "&amp;"; break;
    case '<': out += "&lt;"; break;
    case '>': out += "&gt;"; break;
    case '"': out += "&quot;"; break;
    case '\'': out += "&#39;"; break;
    default: out += c;
    }
  }
  return out;
}

void append_html(std::string& out, std::string_view text) {
  while (!text.empty()) {
    size_t run = 0;
    while (run < text.size() && text[run] != '&' && text[run] != '<' && text[run] != '>' &&
           text[run] != '"' && text[run] != '\'')
      ++run;
    out.append(text.data(), run);
    if (run == text.size()) return;
    switch (text[run]) {
    case '&': out += "&amp;"; break;
    case '<': out += "&lt;"; break;
    case '>': out += "&gt;"; break;
    case '"': out += "&quot;"; break;
    default: out += "&#39;"; break;
    }
    text.remove_prefix(run + 1);
  }
}

std::string with_port_brackets(std::string name) {
  return name.find(':') != std::string::npos ? "[" + name + "]" : name;
}

} // namespace netpol::droplog
