// The plan step of `plan`, `apply` and `run`: the desired state checked and compared with the
// cluster, its reports written, and what the change does to connectivity. Changes nothing
// in the cluster.
#pragma once

#include <initializer_list>
#include <memory>
#include <optional>

#include "analyze/change.hpp"
#include "kube/api.hpp"
#include "model/evidence.hpp"
#include "policy/defaults.hpp"
#include "policy/desired.hpp"
#include "policy/plan.hpp"
#include "report/junit.hpp"
#include "report/session.hpp"
#include "util/env.hpp"

namespace netpol::policy {

// The files plan and apply write (SPEC §5), on every way out.
inline constexpr std::initializer_list<const char*> k_plan_reports = {
    "policies.yaml", "plan.txt", "plan.json", "gl-code-quality-report.json"};

struct PlanOptions {
  DesiredOptions desired;
  // Project, environment and namespace; the identity is checked by build_desired, so a
  // missing one fails as a configuration error after the listing has started.
  RenderOptions render;
  bool prune = defaults::k_prune; // plan prune items for objects no longer declared
  // Results (findings, the plan, the connectivity line) to session.out in session.format;
  // false for run's JSON output, which prints its own summary. Files are written either way.
  bool print = true;
  // --flows: traffic seen, so the connectivity analysis says which newly denied connections
  // are really used (null: the preview is unverified).
  std::shared_ptr<const model::FlowEvidence> evidence;
  // --fail-on-breaking: a newly denied connection seen in `evidence` fails the plan
  // (ErrorCode::check_failed) after its reports are written, before anything is applied.
  bool fail_on_breaking = false;
};

struct PlanStep {
  DesiredState state;
  Plan plan;
  // Pod pairs the change newly denies and allows (analyze_change); nullopt when nothing
  // changes or the cluster could not be read for it (then a warning said why).
  std::optional<analyze::ConnectivityChange> connectivity;
};

// Builds the desired state (templates reading `env`), writes policies.yaml, plan.txt and
// plan.json, prints the findings and the plan, adds their cases to `junit`; when anything
// changes, analyses which pod pairs the change newly denies and allows (connectivity.txt/json,
// JUnit cases; a warning when the cluster cannot be read for it). What is live is listed while
// the policies are checked. Failures: invalid policies (ErrorCode::invalid_policy, after the
// findings are printed, junit filled and plan.txt/plan.json say why; nothing is planned); a
// desired name held by an object netpol did not apply for this project and environment
// (ErrorCode::invalid_policy, after the plan is written and printed); configuration, listing
// and write failures as they come.
Result<PlanStep> plan_step(const PlanOptions& options, const Environment& env, kube::KubeApi& api,
                           const report::Session& session, report::JUnitReport& junit);

} // namespace netpol::policy
