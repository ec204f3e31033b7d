#include "policy/apply.hpp"

#include <map>
#include <vector>

#include <fmt/format.h>

#include "policy/preflight.hpp"
#include "util/cancel.hpp"

namespace netpol::policy {
namespace {

using report::CaseStatus;

constexpr const char* k_classname = "netpol.apply";

// Deletes the plan's prune items; the first failure is returned after trying all. A missing
// object (deleted meanwhile) is no failure.
int prune_items(kube::KubeApi& api, const Plan& plan, bool dry_run, report::JUnitReport& junit,
                std::optional<Error>& first_error) {
  int pruned = 0;
  for (const auto& item : plan.items) {
    if (item.action != Action::prune) continue;
    report::TestCase c{k_classname, "prune " + item.object, CaseStatus::passed, "", "", 0};
    const auto& meta = item.live["metadata"];
    auto info = api.resolve(item.live.value("apiVersion", ""), item.live.value("kind", ""));
    Result<void> removed = {};
    if (!info) {
      removed = fail(info.error());
    } else if (*info) {
      removed = api.remove(**info, meta.value("namespace", ""), meta.value("name", ""),
                           kube::DeleteOptions{"Background", dry_run});
    }
    if (!removed && !kube::is_not_found(removed.error())) {
      c.status = CaseStatus::failed;
      c.message = removed.error().message;
      if (!first_error) first_error = removed.error();
    } else {
      ++pruned;
    }
    junit.add(std::move(c));
  }
  return pruned;
}

// The server's word on every object before the first write (SPEC §6): one concurrent batch of
// server-side dry runs, which run admission (webhooks, quotas, policy engines) and the
// server's own validation, both beyond what netpol checks offline. An object the server
// refuses is an invalid policy (exit 3); a conflict, or the server failing to answer, ends
// the apply too. Either way nothing has been written.
Result<void> server_dry_run(kube::KubeApi& api, const std::vector<nlohmann::json>& objects,
                            const std::vector<const PlanItem*>& items, kube::ApplyOptions options,
                            const DesiredState& state, report::Reporter& reporter,
                            report::JUnitReport& junit) {
  std::map<std::string, std::string> source; // "Kind/ns/name" -> "file:line"
  for (size_t i = 0; i < state.desired.size() && i < state.sources.size(); ++i)
    source[describe_object(state.desired[i])] = state.sources[i];
  options.dry_run = true;
  auto phase = reporter.phase(
      fmt::format("Checking {} object(s) with the server (dry run)", objects.size()));
  const auto results = api.apply_all(objects, options);
  std::vector<Error> refused;
  std::optional<Error> other;
  for (size_t i = 0; i < results.size(); ++i) {
    if (results[i]) continue;
    Error e = results[i].error();
    const auto& object = items[i]->object;
    const bool refusal =
        e.code == ErrorCode::api && (e.http_status == 400 || e.http_status == 403 ||
                                     e.http_status == 404 || e.http_status == 422);
    if (!refusal) {
      if (kube::is_conflict(e)) {
        e.message += " (another field manager owns these fields; --force-conflicts takes them "
                     "over); nothing was applied";
        junit.add({k_classname, "dry run " + object, CaseStatus::failed, e.message, "", 0});
      }
      if (!other) other = std::move(e);
      continue;
    }
    if (auto it = source.find(object); it != source.end())
      e.message = it->second + ": " + e.message;
    junit.add({k_classname, "dry run " + object, CaseStatus::failed, e.message,
               fmt::format("{}", fmt::join(e.details, "\n")), 0});
    refused.push_back(std::move(e));
  }
  if (!refused.empty()) {
    phase.failed(fmt::format("the server refuses {} of {}", refused.size(), objects.size()));
    Error e(ErrorCode::invalid_policy,
            fmt::format("{}{}; nothing was applied", refused.front().message,
                        refused.size() > 1
                            ? fmt::format(" (and {} more, see junit-apply.xml)", refused.size() - 1)
                            : ""));
    e.details = refused.front().details;
    return tl::unexpected(std::move(e));
  }
  if (other) {
    phase.failed(other->message);
    if (other->code != ErrorCode::cancelled && !kube::is_conflict(*other))
      other->message += " (in the server-side dry run; nothing was applied)";
    return tl::unexpected(std::move(*other));
  }
  phase.done("accepted");
  return {};
}

} // namespace

const char* to_string(PolicyMode mode) {
  switch (mode) {
  case PolicyMode::off: return "off";
  case PolicyMode::audit: return "audit";
  case PolicyMode::enforce: return "enforce";
  }
  return "?";
}

Result<PolicyMode> parse_policy_mode(const std::string& text, const std::string& what) {
  for (auto mode : {PolicyMode::off, PolicyMode::audit, PolicyMode::enforce}) {
    if (text == to_string(mode)) return mode;
  }
  return fail(ErrorCode::usage,
              fmt::format("{}: invalid value '{}': use off, audit or enforce", what, text));
}

std::optional<Refusal> refusal(PolicyMode mode, const detect::Provider* provider,
                               bool require_enforcement) {
  if (mode == PolicyMode::off) {
    return Refusal{"mode off: nothing applied (NETWORK_POLICY_MODE audit or enforce applies)"};
  }
  const auto& p = *provider;
  if (!p.enforces_network_policy) {
    return Refusal{
        fmt::format("the network provider ({}) does not enforce NetworkPolicy: nothing applied",
                    detect::to_string(p.name)),
        require_enforcement};
  }
  if (mode == PolicyMode::audit && !p.audit_mode) {
    return Refusal{fmt::format("mode audit, but the provider ({}) enforces: applying would block "
                               "traffic, so nothing was applied",
                               detect::to_string(p.name))};
  }
  return std::nullopt;
}

Result<ApplyOutcome> apply(const ApplyOptions& options, const detect::Provider* provider,
                           const Environment& env, kube::KubeApi& api,
                           const report::Session& session, report::JUnitReport& junit) {
  const PolicyMode mode = options.mode;
  // The permissions a change to NetworkPolicies takes are asked while the plan is made
  // (when writing may follow at all).
  AccessAnswers answers(api);
  if (require_identity(options.plan.render) && mode != PolicyMode::off) {
    answers.ask(likely_questions(options.plan.render.namespace_name));
  }
  auto step = plan_step(options.plan, env, api, session, junit);
  if (!step) return fail(step.error());
  ApplyOutcome outcome;
  outcome.plan = std::move(step->plan);
  const Plan& plan = outcome.plan;
  outcome.unchanged = plan.count(Action::unchanged);
  outcome.dry_run = options.dry_run;

  // Decide by mode and provider (SPEC §4).
  if (auto refused = refusal(mode, provider, options.require_enforcement)) {
    outcome.decision = refused->why;
    if (mode == PolicyMode::audit && !refused->check_failed && step->connectivity) {
      // SPEC §4: where audit mode cannot apply, say what the policies would block.
      outcome.decision += fmt::format("; they would newly deny {} pod pair(s) "
                                      "(connectivity.txt)",
                                      step->connectivity->newly_denied);
    }
    junit.add({k_classname, "policies applied",
               refused->check_failed ? CaseStatus::failed : CaseStatus::skipped, outcome.decision,
               "", 0});
    if (refused->check_failed) {
      return fail(ErrorCode::check_failed, refused->why + " (NETWORK_POLICY_REQUIRE_ENFORCEMENT)");
    }
    session.reporter.warn(outcome.decision);
    return outcome;
  }
  outcome.allowed = true;
  if (mode == PolicyMode::enforce && provider->audit_mode) {
    session.reporter.warn("the provider is in audit mode: the policies are applied, but nothing "
                          "is blocked until audit mode is turned off");
  }

  bool prune = options.plan.prune;
  if (prune && !step->state.declared && plan.count(Action::prune) > 0) {
    // No policy directory and no profile: most likely the job cannot see the repository
    // (GIT_STRATEGY none, another working directory), not a wish to delete everything.
    session.reporter.warn(
        fmt::format("no policies are declared here (no {} directory, NETWORK_POLICY_DEFAULT none): "
                    "the {} object(s) applied earlier are kept; `netpol remove` deletes them",
                    options.plan.desired.path, plan.count(Action::prune)));
    prune = false;
  }
  if (auto ok = preflight(api, plan, prune, answers); !ok) {
    junit.add({k_classname, "permissions to apply", CaseStatus::failed, ok.error().message, "", 0});
    return fail(ok.error());
  }

  kube::ApplyOptions apply_options;
  apply_options.field_manager = k_field_manager;
  apply_options.force = options.force_conflicts;
  apply_options.dry_run = outcome.dry_run;
  std::vector<nlohmann::json> to_send;
  std::vector<const PlanItem*> sent_items;
  for (const auto& item : plan.items) {
    if (item.action == Action::create || item.action == Action::update) {
      to_send.push_back(item.desired);
      sent_items.push_back(&item);
    }
  }
  if (!apply_options.dry_run && !to_send.empty()) {
    if (auto checked = server_dry_run(api, to_send, sent_items, apply_options, step->state,
                                      session.reporter, junit);
        !checked) {
      for (const auto& item : plan.items) {
        const bool write = item.action == Action::create || item.action == Action::update;
        if (!write && !(prune && item.action == Action::prune)) continue;
        junit.add({k_classname, fmt::format("{} {}", to_string(item.action), item.object),
                   CaseStatus::skipped,
                   write ? "not applied: the server-side dry run failed"
                         : "not pruned: the server-side dry run failed",
                   "", 0});
      }
      return fail(checked.error());
    }
  }
  if (cancel::requested()) return tl::unexpected(cancel::error("apply: nothing was written"));

  auto phase = session.reporter.phase(fmt::format("Applying {} object(s){}", to_send.size(),
                                                  apply_options.dry_run ? " (dry run)" : ""));
  auto results = to_send.empty() ? std::vector<Result<nlohmann::json>>{}
                                 : api.apply_all(to_send, apply_options);
  int failures = 0;
  std::optional<Error> first_error;
  for (size_t i = 0; i < results.size(); ++i) {
    report::TestCase c{
        k_classname,
        fmt::format("{} {}", to_string(sent_items[i]->action), sent_items[i]->object),
        CaseStatus::passed,
        "",
        "",
        0};
    if (!results[i]) {
      ++failures;
      Error e = results[i].error();
      if (kube::is_conflict(e)) {
        e.message += " (another field manager owns these fields; --force-conflicts takes them "
                     "over)";
      } else if (e.code == ErrorCode::cancelled) {
        e.message += " (it may or may not have been applied; the next run shows it in its plan)";
      }
      c.status = CaseStatus::failed;
      c.message = e.message;
      session.reporter.warn(e.message);
      if (!first_error) first_error = e;
    }
    junit.add(std::move(c));
  }
  for (const auto& item : plan.items) {
    if (item.action == Action::unchanged)
      junit.add({k_classname, "unchanged " + item.object, CaseStatus::passed, "", "", 0});
  }
  outcome.applied = static_cast<int>(results.size()) - failures;
  if (failures > 0) {
    phase.failed(fmt::format("{} of {} failed", failures, results.size()));
  } else {
    phase.done();
  }

  if (prune && plan.count(Action::prune) > 0) {
    if (failures > 0 || cancel::requested()) {
      // Nothing is deleted on the word of a run that did not finish its applies.
      // A cancel fails the applies in flight too: it is the cause to name.
      const char* why = cancel::requested() ? "not pruned: the run was cancelled"
                                            : "not pruned: an apply failed in this run";
      for (const auto& item : plan.items) {
        if (item.action != Action::prune) continue;
        junit.add({k_classname, "prune " + item.object, CaseStatus::skipped, why, "", 0});
      }
      if (!first_error) first_error = cancel::error("apply: nothing was pruned");
    } else {
      auto prune_phase =
          session.reporter.phase(fmt::format("Pruning {} object(s){}", plan.count(Action::prune),
                                             apply_options.dry_run ? " (dry run)" : ""));
      outcome.pruned = prune_items(api, plan, apply_options.dry_run, junit, first_error);
      if (first_error) {
        prune_phase.failed(first_error->message);
      } else {
        prune_phase.done();
      }
    }
  }
  if (first_error) return fail(std::move(*first_error));
  return outcome;
}

} // namespace netpol::policy
