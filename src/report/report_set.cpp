#include "report/report_set.hpp"

#include <algorithm>
#include <optional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "util/log.hpp"

namespace netpol::report {
namespace {

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool has_failure(const JUnitReport& junit) {
  return std::any_of(junit.cases().begin(), junit.cases().end(), [](const TestCase& c) {
    return c.status == CaseStatus::failed || c.status == CaseStatus::error;
  });
}

// The case that carries a command's failure: "apply succeeded", failed with the reason.
std::string case_name(const std::string& subcommand, bool cancelled) {
  return cancelled ? "cancelled" : subcommand + " succeeded";
}

} // namespace

ReportSet::ReportSet(const OutputDir& dir, std::string command)
    : m_dir(dir), m_command(std::move(command)) {}

JUnitReport& ReportSet::junit(const std::string& subcommand) {
  for (auto& j : m_junit) {
    if (j.subcommand() == subcommand) return j;
  }
  return m_junit.emplace_back(subcommand);
}

void ReportSet::owe(std::string name) {
  if (std::find(m_owed.begin(), m_owed.end(), name) == m_owed.end())
    m_owed.push_back(std::move(name));
}

void ReportSet::owe(std::initializer_list<const char*> names) {
  for (const char* n : names)
    owe(std::string(n));
}

Result<void> ReportSet::settle(const std::string& subcommand,
                               std::initializer_list<const char*> files, const Error& error) {
  auto& j = junit(subcommand);
  if (!has_failure(j)) {
    j.add({"netpol." + subcommand, case_name(subcommand, error.code == ErrorCode::cancelled),
           CaseStatus::failed, log::redact(error.message), "", 0});
  }
  return write_stand_ins(fmt::format("not written: the {} step of {} failed: {}", subcommand,
                                     m_command, log::redact(error.message)),
                         &files);
}

Result<void> ReportSet::skip(const std::string& subcommand, const std::string& name,
                             std::initializer_list<const char*> files, const std::string& why) {
  junit(subcommand).add({"netpol." + subcommand, name, CaseStatus::skipped, why, "", 0});
  if (std::find(m_skipped.begin(), m_skipped.end(), subcommand) == m_skipped.end())
    m_skipped.push_back(subcommand);
  return write_stand_ins("not written: " + log::redact(why), &files);
}

void ReportSet::completed(const std::string& subcommand) {
  if (std::find(m_completed.begin(), m_completed.end(), subcommand) == m_completed.end())
    m_completed.push_back(subcommand);
}

Result<void> ReportSet::write_stand_ins(const std::string& line,
                                        const std::initializer_list<const char*>* only) {
  std::optional<Error> first;
  for (const auto& name : m_owed) {
    if (m_dir.written(name)) continue;
    if (only != nullptr &&
        std::none_of(only->begin(), only->end(), [&](const char* n) { return name == n; }))
      continue;
    if (auto w = m_dir.write(name, stand_in(name, line)); !w && !first) first = w.error();
  }
  if (first) return fail(std::move(*first));
  return {};
}

Result<void> ReportSet::finish(const Error* error) {
  const std::string why = error != nullptr ? log::redact(error->message) : std::string();
  const bool cancelled = error != nullptr && error->code == ErrorCode::cancelled;
  std::optional<Error> first;
  auto keep = [&](const auto& written) {
    if (!written && !first) first = written.error();
  };
  for (auto& junit : m_junit) {
    const auto listed = [&](const std::vector<std::string>& steps) {
      return std::find(steps.begin(), steps.end(), junit.subcommand()) != steps.end();
    };
    const bool own_result = listed(m_skipped) || listed(m_completed);
    if (cancelled || (error != nullptr && !own_result && !has_failure(junit))) {
      junit.add({"netpol." + junit.subcommand(), case_name(junit.subcommand(), cancelled),
                 CaseStatus::failed, why, "", 0});
    }
    keep(m_dir.write("junit-" + junit.subcommand() + ".xml", junit.to_xml()));
  }
  keep(write_stand_ins(fmt::format("not written: {} ended before it: {}", m_command,
                                   error != nullptr ? why : "the command did not get to it")));
  if (first) return fail(std::move(*first));
  return {};
}

std::string stand_in(std::string_view name, const std::string& line) {
  if (ends_with(name, ".jsonl") || ends_with(name, ".env")) return ""; // no record is no claim
  // GitLab reads the Code Quality report as an array of findings: none is no claim.
  if (name == "gl-code-quality-report.json") return "[]\n";
  if (ends_with(name, ".json")) {
    return nlohmann::json{{"error", line}}.dump(2, ' ', false,
                                                nlohmann::json::error_handler_t::replace) +
           "\n";
  }
  if (ends_with(name, ".html")) {
    return fmt::format("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                       "<title>netpol: not written</title></head>\n<body><p>{}</p></body></html>\n",
                       xml_escape(line));
  }
  if (name == "metrics.txt") return "# EOF\n";
  return "# " + line + "\n";
}

} // namespace netpol::report
