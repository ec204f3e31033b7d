// `lint`'s workflow: policy files parsed, validated as the API server would and linted,
// offline, with an optional inventory of the workloads and the cluster's pod CIDRs.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "model/ip.hpp"
#include "report/session.hpp"
#include "util/env.hpp"
#include "util/error.hpp"

namespace netpol::policy {

struct LintFilesOptions {
  std::vector<std::string> paths;            // policy files or directories
  std::vector<std::string> pods_from;        // workload manifests, for the checks that need pods
  std::vector<model::Cidr> pod_cidrs;        // for ipblock-covers-pod-cidr
  std::map<std::string, std::string> vars;   // template variables, over the environment
  std::set<std::string> listed_vars;         // names templates may read besides GitLab's predefined
  std::string default_namespace = "default"; // for objects that name none
  bool strict = false;                       // warnings fail too
};

// Loads `pods_from` (any load error is ErrorCode::usage naming --pods-from; nothing else is
// done then), then loads, validates and lints `paths` with templates reading `env`. Prints one
// line per finding (escaped) and a count line, or the report as JSON, to session.out; adds
// junit-lint.xml's cases. Fails with the report's error when anything is invalid, and with
// ErrorCode::check_failed for warnings with `strict`.
Result<void> lint_files(const LintFilesOptions& options, const Environment& env,
                        const report::Session& session);

} // namespace netpol::policy
