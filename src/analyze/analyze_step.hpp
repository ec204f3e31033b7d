// The `analyze` workflow: pods and policies read (from files, or from the cluster with
// --live), the connectivity matrix (and its diff) computed, connectivity.txt,
// connectivity.json and junit-analyze.xml written, the results printed.
#pragma once

#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "analyze/engine.hpp"
#include "kube/api.hpp"
#include "model/evidence.hpp"
#include "report/junit.hpp"
#include "report/session.hpp"
#include "util/error.hpp"

namespace netpol::analyze {

// The files `analyze` writes besides junit-analyze.xml, on every way out.
inline constexpr std::initializer_list<const char*> k_analyze_reports = {"connectivity.txt",
                                                                         "connectivity.json"};

struct AnalyzeOptions {
  bool live = false;
  std::string pods_from;       // "" with --live: the cluster's pods
  bool policies_given = false; // --policies or NETWORK_POLICY_PATH
  std::vector<std::string> policies;
  std::vector<std::string> base_policies; // with diff and without live
  bool diff = false;
  std::optional<PortProtocol> port; // nullopt: every port a policy names, plus one other
  EngineOptions engine;
  std::string default_namespace = "default";
  // -n or KUBE_NAMESPACE was given; else --live puts planned policies without a namespace
  // into the context's namespace (AnalyzeServices::cluster_namespace).
  bool namespace_given = false;
  // --flows: traffic seen, joined with the diff (every newly denied or allowed pair says how
  // often its workloads were seen talking on the port). Null without evidence.
  std::shared_ptr<const model::FlowEvidence> evidence;
  // --fail-on-breaking: a connection seen in the evidence that the diff newly denies fails
  // the analysis (ErrorCode::check_failed, exit 4) after every report is written.
  bool fail_on_breaking = false;
};

// What the workflow needs from beside its floor, given by the command line.
struct AnalyzeServices {
  // The cluster, made on first use: only --live asks.
  kube::Connect connect;
  // The kubeconfig context's namespace (--live without -n).
  std::function<Result<std::string>()> cluster_namespace;
  // Loads, validates and lints policy files as `netpol lint` does, and fails (an invalid
  // policy: ErrorCode::invalid_policy) with the first error prefixed by `flag`. policy/
  // does it; analyze/ does not include policy/ (policy/ includes analyze/change).
  std::function<Result<void>(const std::vector<std::string>& paths,
                             const std::string& default_namespace, const char* flag)>
      check_policy_files;
};

// Runs the analysis: progress and warnings to session.reporter, the matrix to session.out
// (text, or JSON in session.format), connectivity.txt/json to session.output and analyze's
// JUnit cases to `junit` (a failure to read the inputs is a case in error).
Result<void> analyze_step(AnalyzeOptions options, const AnalyzeServices& services,
                          const report::Session& session, report::JUnitReport& junit);

} // namespace netpol::analyze
