// `netpol run` as a pipeline (SPEC §3, §4): install Cilium when asked, detect, plan and apply
// (or skip) the policies by mode, collect the drop log — each step a workflow of its own
// floor (cilium::install, detect::detect_and_report, policy::apply, droplog::collect_drops),
// sequenced here with the job's JUnit cases, metrics.txt and the one summary of the job log.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "cilium/install.hpp"
#include "cilium/site.hpp"
#include "detect/evidence.hpp"
#include "droplog/summary.hpp"
#include "policy/apply.hpp"
#include "report/session.hpp"
#include "util/env.hpp"
#include "util/error.hpp"

namespace netpol::pipeline {

// Every option of the job, read and validated before the first step starts.
struct RunOptions {
  policy::PolicyMode mode = policy::PolicyMode::off;
  bool require_enforcement = false; // a provider that does not enforce is exit 4, not a warning
  bool install_cilium = false;
  cilium::InstallOptions cilium;
  // The policy step; nullopt when it plans nothing (mode off and no policies declared). Its
  // namespace (plan.render.namespace_name) is the cluster's: filled in when the step runs.
  std::optional<policy::ApplyOptions> apply;
  // The drop-log step; nullopt with NETWORK_POLICY_DROP_LOG false. With
  // drops_namespace_from_context, its namespace is the kubeconfig context's, filled in when the
  // step runs (drops.namespaces is then empty until then).
  std::optional<droplog::DropsOptions> drops;
  bool drops_namespace_from_context = false;
};

// What the job runs against: the cluster (connected on first use, as are the kubeconfig's
// namespace and the context hint), helm, and the environment templates read.
struct RunSite {
  cilium::Site cilium;                                 // cilium.cluster: the cluster's client
  std::function<Result<std::string>()> namespace_name; // -n, else the context's, else default
  detect::Hints hints;                                 // the kubeconfig context, for detection
  const Environment& env;
};

// The files `run` owes with these options (SPEC §5), declared on session.reports before the
// first step, so that a run that ends early still leaves each file of every step it includes.
void owe_reports(const RunOptions& options, const report::Session& session);

// Runs the steps in order and writes metrics.txt on every way out (the JUnit reports and the
// owed files are the session's). Returns the exit code: 4 when a requested check failed
// (--require-enforcement, --fail-on-drops), else 0; errors as the failing step gives them,
// after the drop log was still collected when only the apply failed.
Result<int> run(const RunOptions& options, const RunSite& site, const report::Session& session);

} // namespace netpol::pipeline
