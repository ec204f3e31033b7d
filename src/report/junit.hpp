// JUnit XML for GitLab's merge-request test widget (artifacts:reports:junit). One
// <testsuite name="netpol <subcommand>"> per file; classname+name must be unique, because
// GitLab collapses duplicates; failures carry the reason and skips say why.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "util/error.hpp"

namespace netpol::report {

enum class CaseStatus { passed, failed, skipped, error };

struct TestCase {
  std::string classname; // e.g. "netpol.detect" or "netpol.apply.shop"
  std::string name;      // e.g. "provider enforces NetworkPolicy"
  CaseStatus status = CaseStatus::passed;
  std::string message; // one line: failure reason or skip reason
  std::string detail;  // longer text (shown when the case is opened)
  double seconds = 0.0;
};

class JUnitReport {
public:
  explicit JUnitReport(std::string subcommand) : m_subcommand(std::move(subcommand)) {}

  // Adds a case. A repeated classname+name gets " (2)", " (3)"... appended so the report
  // stays valid for GitLab.
  void add(TestCase test_case);
  const std::vector<TestCase>& cases() const { return m_cases; }
  const std::string& subcommand() const { return m_subcommand; }

  std::string to_xml() const;

private:
  std::string m_subcommand;
  std::vector<TestCase> m_cases;
  std::set<std::string> m_keys; // classname + '\x1f' + name of every case, for uniqueness
};

// Character data for XML 1.0: redacted (log::redact), control characters, invalid UTF-8
// and U+FFFE/U+FFFF shown as visible escapes ("\x1b"), and &, <, >, " and ' escaped, so any
// message (a file name, a plugin's stderr) leaves the report well-formed.
std::string xml_escape(std::string_view text);
// The same for an attribute value, where newlines and tabs are also written as character
// references (a parser would read them as spaces).
std::string xml_attribute(std::string_view text);

} // namespace netpol::report
