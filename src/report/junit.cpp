#include "report/junit.hpp"

#include <set>
#include <utility>

#include <fmt/format.h>

#include "util/log.hpp"

namespace netpol::report {

void JUnitReport::add(TestCase test_case) {
  auto key = [](const TestCase& c) { return c.classname + '\x1f' + c.name; };
  const std::string base_name = test_case.name;
  for (int n = 2; m_keys.count(key(test_case)) != 0; ++n) {
    test_case.name = fmt::format("{} ({})", base_name, n);
  }
  m_keys.insert(key(test_case));
  m_cases.push_back(std::move(test_case));
}

namespace {

// XML's five specials; in attributes also the white space an attribute value would
// otherwise normalise to spaces (a parser reads a raw newline in an attribute as ' ').
std::string escape_specials(std::string_view text, bool attribute) {
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    switch (ch) {
    case '&': out += "&amp;"; break;
    case '<': out += "&lt;"; break;
    case '>': out += "&gt;"; break; // also keeps "]]>" out of character data
    case '"': out += "&quot;"; break;
    case '\'': out += "&apos;"; break;
    case '\n': out += attribute ? "&#10;" : "\n"; break;
    case '\t': out += attribute ? "&#9;" : "\t"; break;
    default: out += ch;
    }
  }
  return out;
}

// Redacted (every report passes the redaction pass, and here before escaping, so that a
// secret holding '&' or '<' is still found), then made printable: controls, invalid UTF-8
// and U+FFFE/U+FFFF become visible escapes, which XML 1.0 can carry.
std::string xml_safe(std::string_view text, bool attribute) {
  return escape_specials(log::printable(log::redact(text), /*keep_newlines=*/true), attribute);
}

} // namespace

std::string xml_escape(std::string_view text) {
  return xml_safe(text, false);
}

std::string xml_attribute(std::string_view text) {
  return xml_safe(text, true);
}

std::string JUnitReport::to_xml() const {
  int failures = 0;
  int errors = 0;
  int skipped = 0;
  double total = 0;
  for (const auto& c : m_cases) {
    failures += c.status == CaseStatus::failed;
    errors += c.status == CaseStatus::error;
    skipped += c.status == CaseStatus::skipped;
    total += c.seconds;
  }
  std::string xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  xml += fmt::format(
      "<testsuites>\n  <testsuite name=\"netpol {}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" "
      "skipped=\"{}\" time=\"{:.3f}\">\n",
      xml_attribute(m_subcommand), m_cases.size(), failures, errors, skipped, total);
  for (const auto& c : m_cases) {
    xml += fmt::format("    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3f}\"",
                       xml_attribute(c.classname), xml_attribute(c.name), c.seconds);
    if (c.status == CaseStatus::passed && c.detail.empty()) {
      xml += "/>\n";
      continue;
    }
    xml += ">\n";
    switch (c.status) {
    case CaseStatus::failed:
      xml += fmt::format("      <failure message=\"{}\">{}</failure>\n", xml_attribute(c.message),
                         xml_escape(c.detail.empty() ? c.message : c.detail));
      break;
    case CaseStatus::error:
      xml += fmt::format("      <error message=\"{}\">{}</error>\n", xml_attribute(c.message),
                         xml_escape(c.detail.empty() ? c.message : c.detail));
      break;
    case CaseStatus::skipped:
      xml += fmt::format("      <skipped message=\"{}\"/>\n", xml_attribute(c.message));
      break;
    case CaseStatus::passed:
      xml += fmt::format("      <system-out>{}</system-out>\n", xml_escape(c.detail));
      break;
    }
    xml += "    </testcase>\n";
  }
  xml += "  </testsuite>\n</testsuites>\n";
  return xml;
}

} // namespace netpol::report
