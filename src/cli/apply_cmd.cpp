#include "cli/apply_cmd.hpp"

#include <future>
#include <map>
#include <set>
#include <sstream>
#include <tuple>

#include <fmt/format.h>

#include "detect/detect.hpp"
#include "util/cancel.hpp"
#include "util/file.hpp"
#include "util/json.hpp"

namespace netpol::cli {
namespace {

using policy::Action;
using report::CaseStatus;

constexpr const char* k_classname = "netpol.apply";

void describe_apply(po::options_description& options, po::positional_options_description&) {
  describe_apply_options(options);
  // clang-format off
  options.add_options()
    ("mode", po::value<std::string>()->value_name("off|audit|enforce"),
     "off: apply nothing; audit: apply only where the provider audits; enforce: apply [NETWORK_POLICY_MODE; default off]")
    ("require-enforcement", po::value<std::string>()->value_name("BOOL")->implicit_value("true"),
     "exit 4 when the provider does not enforce NetworkPolicy [NETWORK_POLICY_REQUIRE_ENFORCEMENT]")
    ("provider-file", po::value<std::string>()->value_name("FILE"),
     "provider.json of an earlier `netpol detect` instead of detecting again");
  // clang-format on
}

// provider.json is a few hundred bytes; anything near the limit is not one.
constexpr size_t k_max_provider_file = 1024 * 1024;

Result<detect::Detection> read_provider_file(const std::string& path) {
  auto text = read_input_file(path, ErrorCode::config, k_max_provider_file);
  if (!text) return fail(text.error());
  auto json = parse_json_strict(*text, path, ErrorCode::config);
  if (!json) {
    Error e = json.error();
    e.message += " (--provider-file takes the provider.json of `netpol detect`)";
    return fail(std::move(e));
  }
  std::optional<detect::Detection> detection;
  try {
    detection = detect::Detection::from_json(*json);
  } catch (const nlohmann::json::exception&) {
    // A field of the wrong type ("enforces_network_policy": "yes"): not detect's output.
  }
  if (!detection) {
    return fail(ErrorCode::config,
                path + ": not a provider.json written by `netpol detect` (run it again)");
  }
  return *detection;
}

// SelfSubjectAccessReviews asked at once (KubeApi is thread-safe), answered when needed: the
// likely questions go out with the plan's lists, so the preflight adds no round trip.
class AccessAnswers {
public:
  using Question = std::tuple<std::string, std::string, std::string, std::string>;

  explicit AccessAnswers(kube::KubeApi& api) : m_api(api) {}

  // Sends the questions not asked yet (verb, group, resource, namespace).
  void ask(const std::set<Question>& questions) {
    for (const auto& q : questions) {
      if (m_answers.count(q)) continue;
      const auto& [verb, group, resource, ns] = q;
      kube::AccessCheck check{verb, group, resource, ns, ""};
      m_answers.emplace(
          q, std::async(std::launch::async, [this, check] { return m_api.can_i(check); }).share());
    }
  }
  Result<bool> answer(const Question& q) { return m_answers.at(q).get(); }

private:
  kube::KubeApi& m_api;
  std::map<Question, std::shared_future<Result<bool>>> m_answers;
};

// What applying to NetworkPolicies in `ns` takes: asked before the plan says what is needed.
std::set<AccessAnswers::Question> likely_questions(const std::string& ns) {
  const auto& np = kube::resources::network_policies;
  return {{"create", np.group, np.resource, ns},
          {"patch", np.group, np.resource, ns},
          {"delete", np.group, np.resource, ns}};
}

// RBAC preflight: every verb the writes need, asked before the first write.
Result<void> preflight(kube::KubeApi& api, const policy::Plan& plan, bool prune,
                       AccessAnswers& answers) {
  std::set<AccessAnswers::Question> needed;
  for (const auto& item : plan.items) {
    if (item.action == Action::unchanged || (item.action == Action::prune && !prune)) continue;
    const auto& object = item.action == Action::prune ? item.live : item.desired;
    auto info = api.resolve(object.value("apiVersion", ""), object.value("kind", ""));
    if (!info) return fail(info.error());
    if (!*info) continue; // make_plan already refused desired kinds the server lacks
    const std::string ns = (*info)->namespaced ? object["metadata"].value("namespace", "") : "";
    const auto& [group, resource] = std::pair{(*info)->group, (*info)->resource};
    // Server-side apply is a PATCH; creating an object through it also needs `create`.
    if (item.action == Action::create) needed.insert({"create", group, resource, ns});
    if (item.action != Action::prune) needed.insert({"patch", group, resource, ns});
    if (item.action == Action::prune) needed.insert({"delete", group, resource, ns});
  }
  answers.ask(needed);
  std::vector<std::string> missing;
  std::optional<Error> first_error;
  for (const auto& question : needed) {
    const auto& [verb, group, resource, ns] = question;
    auto allowed = answers.answer(question);
    if (!allowed) {
      if (!first_error) first_error = allowed.error();
      continue;
    }
    if (!*allowed) {
      missing.push_back(fmt::format("{} {}{}{}", verb, resource, group.empty() ? "" : "." + group,
                                    ns.empty() ? " (cluster-wide)" : " in namespace " + ns));
    }
  }
  if (first_error) return fail(std::move(*first_error));
  if (missing.empty()) return {};
  Error e(ErrorCode::api,
          fmt::format("apply: missing permissions, nothing was changed: {} (grant them to the "
                      "job's identity: examples/rbac/apply-namespace.yaml; see "
                      "docs/cluster-access.md#permissions)",
                      fmt::join(missing, ", ")));
  e.http_status = 403;
  e.reason = "Forbidden";
  e.details = missing;
  return tl::unexpected(std::move(e));
}

// Why nothing may be applied with this mode and provider; nullopt when applying is allowed.
// Sets `check_failed` when that is an error (--require-enforcement).
std::optional<std::string> refusal(PolicyMode mode, const detect::Detection* detection,
                                   bool require_enforcement, bool& check_failed) {
  check_failed = false;
  if (mode == PolicyMode::off) {
    return "mode off: nothing applied (NETWORK_POLICY_MODE audit or enforce applies)";
  }
  const auto& p = detection->provider;
  if (!p.enforces_network_policy) {
    check_failed = require_enforcement;
    return fmt::format("the network provider ({}) does not enforce NetworkPolicy: nothing applied",
                       detect::to_string(p.name));
  }
  if (mode == PolicyMode::audit && !p.audit_mode) {
    return fmt::format("mode audit, but the provider ({}) enforces: applying would block "
                       "traffic, so nothing was applied",
                       detect::to_string(p.name));
  }
  return std::nullopt;
}

// Deletes the plan's prune items; the first failure is returned after trying all. A missing
// object (deleted meanwhile) is no failure.
int prune_items(kube::KubeApi& api, const policy::Plan& plan, bool dry_run,
                report::JUnitReport& junit, std::optional<Error>& first_error) {
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
                            const std::vector<const policy::PlanItem*>& items,
                            kube::ApplyOptions options, const DesiredState& state, Context& ctx,
                            report::JUnitReport& junit) {
  std::map<std::string, std::string> source; // "Kind/ns/name" -> "file:line"
  for (size_t i = 0; i < state.desired.size() && i < state.sources.size(); ++i)
    source[policy::describe_object(state.desired[i])] = state.sources[i];
  options.dry_run = true;
  auto phase = ctx.reporter().phase(
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

Result<int> run_apply(const po::variables_map& args, Context& ctx) {
  auto mode = parse_policy_mode(args.count("mode") ? args["mode"].as<std::string>() : "off",
                                "--mode (NETWORK_POLICY_MODE)");
  if (!mode) return fail(mode.error());
  bool require_enforcement = false;
  if (args.count("require-enforcement")) {
    auto b = parse_bool(args["require-enforcement"].as<std::string>(),
                        "--require-enforcement (NETWORK_POLICY_REQUIRE_ENFORCEMENT)");
    if (!b) return fail(b.error());
    require_enforcement = *b;
  }
  auto& junit = ctx.reports().junit("apply");
  ctx.reports().owe(k_plan_reports);
  auto api = ctx.kube();
  if (!api) return fail(api.error());
  // The provider decides what each mode does; mode off needs no detection.
  std::optional<detect::Detection> detection;
  if (*mode != PolicyMode::off) {
    if (args.count("provider-file")) {
      auto read = read_provider_file(args["provider-file"].as<std::string>());
      if (!read) return fail(read.error());
      detection = std::move(*read);
    } else {
      auto phase = ctx.reporter().phase("Detecting the network provider");
      detect::Hints hints;
      hints.server = (*api)->server();
      auto detected = detect::detect(**api, hints);
      if (!detected) return fail(detected.error());
      phase.done(std::string(detect::to_string(detected->provider.name)));
      detection = std::move(*detected);
    }
  }
  auto outcome = apply_step(args, ctx, **api, detection ? &*detection : nullptr, *mode,
                            require_enforcement, junit);
  if (!outcome) return fail(outcome.error());
  if (outcome->allowed) {
    ctx.out() << fmt::format("{} applied, {} unchanged, {} pruned{}\n", outcome->applied,
                             outcome->unchanged, outcome->pruned,
                             outcome->dry_run ? " (dry run)" : "");
  }
  return 0;
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

void describe_apply_options(po::options_description& options) {
  describe_policy_options(options);
  // clang-format off
  options.add_options()
    ("force-conflicts", po::bool_switch(), "take over fields another field manager owns")
    ("dry-run", po::bool_switch(), "server-side dry run: the server validates, nothing is stored");
  // clang-format on
}

Result<ApplyOutcome> apply_step(const po::variables_map& args, Context& ctx, kube::KubeApi& api,
                                const detect::Detection* detection, PolicyMode mode,
                                bool require_enforcement, report::JUnitReport& junit, bool print) {
  // The permissions a change to NetworkPolicies takes are asked while the plan is made
  // (when writing may follow at all).
  AccessAnswers answers(api);
  if (auto render = render_options(ctx); render && mode != PolicyMode::off) {
    answers.ask(likely_questions(render->namespace_name));
  }
  auto step = plan_step(args, ctx, api, junit, print);
  if (!step) return fail(step.error());
  ApplyOutcome outcome;
  outcome.plan = std::move(step->plan);
  const policy::Plan& plan = outcome.plan;
  outcome.unchanged = plan.count(Action::unchanged);
  outcome.dry_run = args.count("dry-run") != 0 && args["dry-run"].as<bool>();

  // Decide by mode and provider (SPEC §4).
  bool check_failed = false;
  if (auto why = refusal(mode, detection, require_enforcement, check_failed)) {
    outcome.decision = *why;
    if (mode == PolicyMode::audit && !check_failed && step->connectivity) {
      // SPEC §4: where audit mode cannot apply, say what the policies would block.
      outcome.decision += fmt::format("; they would newly deny {} pod pair(s) "
                                      "(connectivity.txt)",
                                      step->connectivity->newly_denied);
    }
    junit.add({k_classname, "policies applied",
               check_failed ? CaseStatus::failed : CaseStatus::skipped, outcome.decision, "", 0});
    if (check_failed) {
      return fail(ErrorCode::check_failed, *why + " (NETWORK_POLICY_REQUIRE_ENFORCEMENT)");
    }
    ctx.reporter().warn(outcome.decision);
    return outcome;
  }
  outcome.allowed = true;
  if (mode == PolicyMode::enforce && detection->provider.audit_mode) {
    ctx.reporter().warn("the provider is in audit mode: the policies are applied, but nothing is "
                        "blocked until audit mode is turned off");
  }

  bool prune = prune_enabled(args);
  if (prune && !step->state.declared && plan.count(Action::prune) > 0) {
    // No policy directory and no profile: most likely the job cannot see the repository
    // (GIT_STRATEGY none, another working directory), not a wish to delete everything.
    ctx.reporter().warn(fmt::format(
        "no policies are declared here (no {} directory, NETWORK_POLICY_DEFAULT none): "
        "the {} object(s) applied earlier are kept; `netpol remove` deletes them",
        args.count("policies") ? args["policies"].as<std::string>() : ".gitlab/network-policies",
        plan.count(Action::prune)));
    prune = false;
  }
  if (auto ok = preflight(api, plan, prune, answers); !ok) {
    junit.add({k_classname, "permissions to apply", CaseStatus::failed, ok.error().message, "", 0});
    return fail(ok.error());
  }

  kube::ApplyOptions options;
  options.field_manager = policy::k_field_manager;
  options.force = args.count("force-conflicts") != 0 && args["force-conflicts"].as<bool>();
  options.dry_run = outcome.dry_run;
  std::vector<nlohmann::json> to_send;
  std::vector<const policy::PlanItem*> sent_items;
  for (const auto& item : plan.items) {
    if (item.action == Action::create || item.action == Action::update) {
      to_send.push_back(item.desired);
      sent_items.push_back(&item);
    }
  }
  if (!options.dry_run && !to_send.empty()) {
    if (auto checked = server_dry_run(api, to_send, sent_items, options, step->state, ctx, junit);
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

  auto phase = ctx.reporter().phase(
      fmt::format("Applying {} object(s){}", to_send.size(), options.dry_run ? " (dry run)" : ""));
  auto results =
      to_send.empty() ? std::vector<Result<nlohmann::json>>{} : api.apply_all(to_send, options);
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
      ctx.reporter().warn(e.message);
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
          ctx.reporter().phase(fmt::format("Pruning {} object(s){}", plan.count(Action::prune),
                                           options.dry_run ? " (dry run)" : ""));
      outcome.pruned = prune_items(api, plan, options.dry_run, junit, first_error);
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

Command apply_command() {
  return Command{
      .name = "apply",
      .summary = "plan, then server-side apply and prune the policies (honours --mode)",
      .usage = "apply [--mode off|audit|enforce] [--policies PATH] [--default-policy PROFILE] "
               "[--dry-run] [--force-conflicts]",
      .help = "Runs `plan`, then by --mode: off applies nothing; audit applies only when the\n"
              "provider is in audit mode (nothing gets blocked); enforce applies, warning when\n"
              "the provider only audits. Before the first write it checks every permission it\n"
              "needs and lists the missing ones. Objects are server-side applied (field\n"
              "manager netpol); unchanged ones are not sent. A field owned by another manager\n"
              "is a conflict unless --force-conflicts. A name that an object netpol did not\n"
              "apply for this project and environment holds is never taken over (exit 3).\n"
              "Objects of this project and environment that are no longer declared are\n"
              "pruned, only when every apply succeeded.\n"
              "Writes policies.yaml, plan.txt, plan.json and junit-apply.xml.\n\n"
              "Examples:\n"
              "  CI_PROJECT_ID=42 CI_ENVIRONMENT_SLUG=review netpol -n shop apply --mode enforce\n"
              "  netpol apply --mode enforce --default-policy gitlab --dry-run",
      .needs_cluster = true,
      .describe = describe_apply,
      .env =
          [] {
            auto env = policy_env();
            env.push_back({"mode", "NETWORK_POLICY_MODE"});
            env.push_back({"require-enforcement", "NETWORK_POLICY_REQUIRE_ENFORCEMENT"});
            return env;
          }(),
      .run = run_apply,
  };
}

} // namespace netpol::cli
