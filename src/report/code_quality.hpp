// GitLab's Code Quality report, gl-code-quality-report.json (`artifacts:reports:codequality`):
// findings at a file and line of the repository, shown in the merge request (the widget is in
// every GitLab tier). Format (GitLab's subset of the CodeClimate spec): a JSON array of
// {description, check_name, fingerprint, severity, location: {path, lines: {begin}}}.
#pragma once

#include <string>
#include <vector>

namespace netpol::report {

enum class CodeQualitySeverity { info, minor, major, critical, blocker };

struct CodeQualityIssue {
  std::string description; // one line
  std::string check_name;  // stable id, e.g. "netpol/egress-blocks-dns"
  CodeQualitySeverity severity = CodeQualitySeverity::minor;
  std::string path; // as the finding names the file; made repository-relative on output
  int line = 1;
  // What identifies the issue across runs (the object and the message, never the line, which
  // moves with unrelated edits): GitLab compares fingerprints to show new and fixed issues.
  std::string identity;
};

// The report: one entry per issue in the given order; equal fingerprints (the same issue
// found twice) are written once. A path under `project_dir` (CI_PROJECT_DIR; "" for none) is
// made relative to it, a leading "./" dropped, so GitLab can place it in the diff.
std::string code_quality_json(const std::vector<CodeQualityIssue>& issues,
                              const std::string& project_dir);

// "file:line" split; a `where` without a line number is line 1.
void set_location(CodeQualityIssue& issue, const std::string& where);

} // namespace netpol::report
