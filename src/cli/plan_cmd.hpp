// `netpol plan`: renders the desired policies, validates and lints them, and diffs them
// against the cluster; changes nothing.
#pragma once

#include <optional>

#include "cli/analyze_cmd.hpp"
#include "cli/command.hpp"
#include "cli/policy_options.hpp"
#include "policy/plan.hpp"

namespace netpol::cli {

Command plan_command();

// The files plan and apply write (SPEC §5), on every way out.
inline constexpr std::initializer_list<const char*> k_plan_reports = {"policies.yaml", "plan.txt",
                                                                      "plan.json"};

struct PlanStep {
  DesiredState state;
  policy::Plan plan;
  // Pod pairs the change newly denies and allows (analyze_change); nullopt when nothing
  // changes or the cluster could not be read for it (then a warning said why).
  std::optional<ConnectivityChange> connectivity;
};

// The plan part of `plan` and `apply`: builds the desired state, writes policies.yaml,
// plan.txt and plan.json, prints the findings and the plan, adds their cases to `junit`;
// when anything changes, analyses which pod pairs the change newly denies and allows
// (connectivity.txt/json, JUnit cases; a warning when the cluster cannot be read for it).
// Invalid policies: ErrorCode::invalid_policy, after the findings are printed and
// junit filled (nothing is planned then). With `print` false (run's JSON output) nothing
// goes to stdout; the files are written all the same.
Result<PlanStep> plan_step(const po::variables_map& args, Context& ctx, kube::KubeApi& api,
                           report::JUnitReport& junit, bool print = true);

} // namespace netpol::cli
