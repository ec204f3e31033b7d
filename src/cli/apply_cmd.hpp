// `netpol apply`: plan, then (depending on --mode and the provider) server-side apply with
// field manager netpol and prune. The step is shared with `run`.
#pragma once

#include <string>

#include "cli/command.hpp"
#include "cli/plan_cmd.hpp"
#include "detect/detection.hpp"
#include "kube/api.hpp"
#include "report/junit.hpp"

namespace netpol::cli {

Command apply_command();

// NETWORK_POLICY_MODE (SPEC §4).
enum class PolicyMode { off, audit, enforce };
const char* to_string(PolicyMode mode);
// "off", "audit" or "enforce"; anything else is ErrorCode::usage naming `what`.
Result<PolicyMode> parse_policy_mode(const std::string& text, const std::string& what);

// The policy options (describe_policy_options) plus --force-conflicts and --dry-run.
void describe_apply_options(po::options_description& options);

struct ApplyOutcome {
  // Did mode and provider allow writing? When not, `decision` says why nothing was applied.
  bool allowed = false;
  std::string decision;
  int applied = 0; // objects sent (created or updated)
  int unchanged = 0;
  int pruned = 0;
  bool dry_run = false;
  policy::Plan plan;
};

// Plans (writing policies.yaml, plan.txt, plan.json), then decides by `mode` and the provider
// in `detection` (may be null with mode off): off applies nothing; audit applies only when the
// provider is in audit mode; enforce applies, warning when the provider only audits. Before
// the first write it asks the server (SelfSubjectAccessReview) for every verb it needs and
// lists the missing ones. Objects are server-side applied concurrently; unchanged ones are not
// sent; objects of this project and environment no longer declared are pruned only when every
// apply succeeded. Every step adds cases to `junit`.
// Failures: invalid policies (ErrorCode::invalid_policy, nothing written); missing
// permissions (api/403, nothing written); the first failed apply or prune; a provider that
// does not enforce NetworkPolicy with `require_enforcement` (ErrorCode::check_failed).
Result<ApplyOutcome> apply_step(const po::variables_map& args, Context& ctx, kube::KubeApi& api,
                                const detect::Detection* detection, PolicyMode mode,
                                bool require_enforcement, report::JUnitReport& junit,
                                bool print = true);

} // namespace netpol::cli
