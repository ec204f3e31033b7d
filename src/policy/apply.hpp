// `apply`'s workflow, shared with `run`: plan, decide by mode and provider, check the
// permissions, let the server check every object (dry run), then server-side apply with field
// manager netpol and prune what is no longer declared.
#pragma once

#include <optional>
#include <string>

#include "detect/detection.hpp"
#include "kube/api.hpp"
#include "policy/plan_step.hpp"
#include "report/junit.hpp"
#include "report/session.hpp"
#include "util/env.hpp"
#include "util/error.hpp"

namespace netpol::policy {

// NETWORK_POLICY_MODE (SPEC §4).
enum class PolicyMode { off, audit, enforce };
const char* to_string(PolicyMode mode);
// "off", "audit" or "enforce"; anything else is ErrorCode::usage naming `what`.
Result<PolicyMode> parse_policy_mode(const std::string& text, const std::string& what);

struct ApplyOptions {
  PlanOptions plan; // plan.prune: also delete what is no longer declared
  PolicyMode mode = PolicyMode::off;
  // A provider that does not enforce NetworkPolicy is a failed check, not a warning.
  bool require_enforcement = false;
  bool force_conflicts = false; // take over fields another field manager owns
  bool dry_run = false;         // server-side dry run: the server validates, stores nothing
};

// Why nothing may be applied with this mode and provider (SPEC §4): mode off; a provider
// that does not enforce NetworkPolicy (`check_failed` with require_enforcement); mode audit
// with a provider that enforces. nullopt when applying is allowed. `provider` may be null only
// with mode off.
struct Refusal {
  std::string why;
  bool check_failed = false;
};
std::optional<Refusal> refusal(PolicyMode mode, const detect::Provider* provider,
                               bool require_enforcement);

struct ApplyOutcome {
  // Did mode and provider allow writing? When not, `decision` says why nothing was applied.
  bool allowed = false;
  std::string decision;
  int applied = 0; // objects sent (created or updated)
  int unchanged = 0;
  int pruned = 0;
  bool dry_run = false;
  Plan plan;
};

// Plans (plan_step: policies.yaml, plan.txt, plan.json), then decides by options.mode and
// `provider` (refusal(); the refusal is warned about and a skipped case, or a failed one).
// Before the first write it asks the server (SelfSubjectAccessReview) for every verb it needs
// and lists the missing ones (preflight), and has the server dry-run every object to send.
// Objects are server-side applied concurrently; unchanged ones are not sent; objects of this
// project and environment no longer declared are pruned only with options.plan.prune, when
// something is declared here, and when every apply succeeded. Every step adds cases to
// `junit`; progress and warnings go to session.reporter; the plan is printed as plan_step
// prints it (the counts are the caller's to print).
// Failures: invalid policies or a name taken (ErrorCode::invalid_policy, nothing written);
// missing permissions (api/403, nothing written); an object the server refuses in the dry run
// (ErrorCode::invalid_policy, nothing written); the first failed apply or prune; a provider
// that does not enforce NetworkPolicy with require_enforcement (ErrorCode::check_failed).
Result<ApplyOutcome> apply(const ApplyOptions& options, const detect::Provider* provider,
                           const Environment& env, kube::KubeApi& api,
                           const report::Session& session, report::JUnitReport& junit);

} // namespace netpol::policy
