// Load → validate → lint as one step, shared by `lint`, `plan` and `apply`: everything is
// checked before the first write, and one invalid object means nothing is applied.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "policy/lint.hpp"
#include "policy/loader.hpp"
#include "policy/validate.hpp"
#include "report/code_quality.hpp"
#include "report/junit.hpp"
#include "util/env.hpp"
#include "util/error.hpp"

namespace netpol::policy {

struct CheckReport {
  LoadResult loaded;
  std::vector<ValidationResult> validations; // one per loaded.policies entry
  // Load errors, validation errors and warnings (checks "load", "invalid", "api-warning")
  // and lint findings, in input order.
  std::vector<Finding> findings;
  int invalid_objects = 0; // objects with validation errors

  // True when nothing may be applied: a load error, an invalid object or an error finding.
  bool has_errors() const;
  int count(Severity severity) const;
  // The Error a command returns when has_errors(): invalid_policy ("N invalid ...") unless
  // the first load error is of another kind (an unreadable path, a failed download).
  Error error() const;
};

CheckReport check_policies(LoadResult loaded, const LintOptions& options);

// Loads (templates reading `env`), validates and lints the policy files at `paths` as
// `netpol lint` does, for a command that reads them for another purpose (analyze). Fails with
// check_policies' error; for invalid policies its message is the first error finding
// prefixed by `flag` ("--policies: ...", with how many more there are).
Result<void> check_files(const std::vector<std::string>& paths,
                         const std::string& default_namespace, const Environment& env,
                         const char* flag);

// junit-<subcommand>.xml content: one case per object ("valid") and one per finding.
// Errors and warnings fail their case; info passes with its message.
report::JUnitReport junit_for(const CheckReport& report, const std::string& subcommand);

// GitLab's Code Quality report of `lint`, `plan`, `apply` and `run` (SPEC §5).
inline constexpr const char* k_code_quality_report = "gl-code-quality-report.json";

// One Code Quality issue per finding, at its file:line (check_name "netpol/<check>"; errors
// critical, warnings minor, info info), in the report's order.
std::vector<report::CodeQualityIssue> code_quality_issues(const CheckReport& report);

// {"objects":[{"object","where","valid"}],"findings":[...],"summary":{...}}
nlohmann::ordered_json to_json(const CheckReport& report);

} // namespace netpol::policy
