#include "policy/check.hpp"

#include <fmt/format.h>

#include "policy/template.hpp"

namespace netpol::policy {

bool CheckReport::has_errors() const {
  return !loaded.errors.empty() || invalid_objects > 0 || count(Severity::error) > 0;
}

int CheckReport::count(Severity severity) const {
  int n = 0;
  for (const auto& f : findings)
    n += f.severity == severity ? 1 : 0;
  return n;
}

Error CheckReport::error() const {
  for (const auto& e : loaded.errors) {
    if (e.code != ErrorCode::invalid_policy) return e;
  }
  Error e(ErrorCode::invalid_policy,
          fmt::format("{} of {} objects invalid, {} input errors, {} errors", invalid_objects,
                      loaded.policies.size(), loaded.errors.size(), count(Severity::error)));
  if (loaded.errors.size() == 1 && invalid_objects == 0) e.message = loaded.errors[0].message;
  return e;
}

CheckReport check_policies(LoadResult loaded, const LintOptions& options) {
  CheckReport report;
  report.loaded = std::move(loaded);
  for (const auto& e : report.loaded.errors) {
    // "file:line: detail" → where + message
    const std::string& m = e.message;
    size_t split = m.find(": ");
    report.findings.push_back({Severity::error, "load", "",
                               split == std::string::npos ? "" : m.substr(0, split),
                               split == std::string::npos ? m : m.substr(split + 2)});
  }
  for (const auto& object : report.loaded.policies) {
    auto v = validate(object);
    if (!v.ok()) ++report.invalid_objects;
    for (const auto& e : v.errors)
      report.findings.push_back(
          {Severity::error, "invalid", object.describe(), object.where(e.pointer), e.text()});
    for (const auto& w : v.warnings)
      report.findings.push_back({Severity::warning, "api-warning", object.describe(),
                                 object.where(w.pointer), w.field + ": " + w.detail});
    report.validations.push_back(std::move(v));
  }
  auto findings = lint(report.loaded.policies, options);
  report.findings.insert(report.findings.end(), findings.begin(), findings.end());
  return report;
}

std::vector<report::CodeQualityIssue> code_quality_issues(const CheckReport& report) {
  std::vector<report::CodeQualityIssue> out;
  for (const auto& f : report.findings) {
    report::CodeQualityIssue issue;
    issue.description = f.object.empty() ? f.message : f.object + ": " + f.message;
    issue.check_name = "netpol/" + f.check;
    issue.severity = f.severity == Severity::error     ? report::CodeQualitySeverity::critical
                     : f.severity == Severity::warning ? report::CodeQualitySeverity::minor
                                                       : report::CodeQualitySeverity::info;
    report::set_location(issue, f.where);
    issue.identity = f.object + "\n" + f.message;
    out.push_back(std::move(issue));
  }
  return out;
}

report::JUnitReport junit_for(const CheckReport& report, const std::string& subcommand) {
  report::JUnitReport junit(subcommand);
  const std::string classname = "netpol." + subcommand;
  for (size_t i = 0; i < report.loaded.policies.size(); ++i) {
    const auto& object = report.loaded.policies[i];
    const auto& v = report.validations[i];
    report::TestCase c;
    c.classname = classname;
    c.name = object.describe() + " is valid";
    if (!v.ok()) {
      c.status = report::CaseStatus::failed;
      c.message = format_field_error(object, v.errors.front());
      for (const auto& e : v.errors)
        c.detail += format_field_error(object, e) + "\n";
    } else {
      c.message = object.where();
    }
    junit.add(std::move(c));
  }
  for (const auto& f : report.findings) {
    if (f.check == "invalid") continue; // already the object's case
    report::TestCase c;
    c.classname = classname + "." + f.check;
    c.name = (f.object.empty() ? f.where : f.object + " " + f.where);
    c.status =
        f.severity == Severity::info ? report::CaseStatus::passed : report::CaseStatus::failed;
    c.message = f.text();
    junit.add(std::move(c));
  }
  return junit;
}

nlohmann::ordered_json to_json(const CheckReport& report) {
  nlohmann::ordered_json out;
  out["objects"] = nlohmann::ordered_json::array();
  for (size_t i = 0; i < report.loaded.policies.size(); ++i) {
    const auto& object = report.loaded.policies[i];
    out["objects"].push_back({{"object", object.describe()},
                              {"where", object.where()},
                              {"valid", report.validations[i].ok()}});
  }
  out["findings"] = nlohmann::ordered_json::array();
  for (const auto& f : report.findings) {
    out["findings"].push_back({{"severity", to_string(f.severity)},
                               {"check", f.check},
                               {"object", f.object},
                               {"where", f.where},
                               {"message", f.message}});
  }
  out["summary"] = {
      {"objects", report.loaded.policies.size()},    {"invalid", report.invalid_objects},
      {"input_errors", report.loaded.errors.size()}, {"errors", report.count(Severity::error)},
      {"warnings", report.count(Severity::warning)}, {"info", report.count(Severity::info)}};
  return out;
}

Result<void> check_files(const std::vector<std::string>& paths,
                         const std::string& default_namespace, const Environment& env,
                         const char* flag) {
  const TemplateVariables vars(env);
  LoadOptions load;
  load.vars = &vars;
  LintOptions lint;
  lint.default_namespace = default_namespace;
  const auto report = check_policies(load_policies(paths, load), lint);
  if (!report.has_errors()) return {};
  Error e = report.error();
  if (e.code != ErrorCode::invalid_policy) return fail(e.wrap(flag));
  const int errors = report.count(Severity::error);
  for (const auto& f : report.findings) {
    if (f.severity != Severity::error) continue;
    e.message =
        fmt::format("{}: {}{}", flag, f.text(),
                    errors > 1 ? fmt::format(" (and {} more: `netpol lint` lists them)", errors - 1)
                               : std::string());
    break;
  }
  return fail(std::move(e));
}

} // namespace netpol::policy
