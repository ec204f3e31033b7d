#include "cli/plan_cmd.hpp"

#include <future>

#include <fmt/format.h>

#include "util/yaml.hpp"

namespace netpol::cli {
namespace {

void describe_plan(po::options_description& options, po::positional_options_description&) {
  describe_policy_options(options);
}

Result<int> run_plan(const po::variables_map& args, Context& ctx) {
  auto& junit = ctx.reports().junit("plan");
  ctx.reports().owe(k_plan_reports);
  auto api = ctx.kube();
  if (!api) return fail(api.error());
  auto step = plan_step(args, ctx, **api, junit);
  if (!step) return fail(step.error());
  return 0;
}

} // namespace

Result<PlanStep> plan_step(const po::variables_map& args, Context& ctx, kube::KubeApi& api,
                           report::JUnitReport& junit, bool print) {
  ctx.reports().owe(k_plan_reports);
  // What is live does not depend on the policies: list it on another thread while they are
  // loaded and checked, so the round trips to the server overlap the local work. (An
  // unreachable server is still reported only after the policies check out; invalid policies
  // are reported once the listing has succeeded or failed.)
  std::future<Result<policy::LiveObjects>> live;
  if (auto render = render_options(ctx)) {
    live = std::async(std::launch::async,
                      [&api, render = *render] { return policy::list_live(api, render); });
  }
  auto phase = ctx.reporter().phase("Checking policies");
  auto state = build_desired(args, ctx, api);
  if (!state) return fail(state.error());
  const auto check_cases = policy::junit_for(state->check, junit.subcommand());
  for (const auto& c : check_cases.cases())
    junit.add(c);
  const bool json = ctx.global().format == OutputFormat::json;
  if (print && !json) {
    for (const auto& f : state->check.findings)
      ctx.out() << f.text() << "\n";
  }
  if (state->check.has_errors()) {
    phase.failed(state->check.error().code == ErrorCode::invalid_policy
                     ? "invalid policies: nothing is applied"
                     : state->check.error().message + ": nothing is applied");
    if (print && json) ctx.out() << policy::to_json(state->check).dump(2) << "\n";
    // plan.txt and plan.json say what is wrong, all of it, for the reviewer who opens them;
    // policies.yaml gets its stand-in (nothing was rendered).
    std::string text = "not planned: the policies are invalid; nothing was applied\n\n";
    for (const auto& f : state->check.findings)
      text += f.text() + "\n";
    nlohmann::ordered_json plan_json;
    plan_json["error"] = state->check.error().message;
    plan_json["lint"] = policy::to_json(state->check);
    for (auto w : {ctx.output().write("plan.txt", text),
                   ctx.output().write("plan.json", plan_json.dump(2) + "\n")}) {
      if (!w) ctx.reporter().warn(w.error().message);
    }
    return fail(state->check.error());
  }
  phase.done(fmt::format("{} objects valid", state->desired.size()));

  std::string policies_yaml;
  for (const auto& d : state->desired)
    policies_yaml += "---\n" + to_yaml(d);
  if (auto w = ctx.output().write("policies.yaml", policies_yaml); !w) return fail(w.error());

  auto diff_phase = ctx.reporter().phase("Comparing with the cluster");
  auto listed = live.valid() ? live.get() : policy::list_live(api, state->render);
  auto plan = listed ? policy::make_plan(*listed, state->desired, prune_enabled(args))
                     : Result<policy::Plan>(tl::unexpected(listed.error()));
  if (!plan) {
    diff_phase.failed(plan.error().message);
    return fail(plan.error());
  }
  for (const auto& w : plan->warnings)
    ctx.reporter().warn(w);
  const std::string counts =
      fmt::format("{} create, {} update, {} unchanged, {} prune",
                  plan->count(policy::Action::create), plan->count(policy::Action::update),
                  plan->count(policy::Action::unchanged), plan->count(policy::Action::prune));
  if (auto w = ctx.output().write("plan.txt", plan->to_text()); !w) return fail(w.error());
  if (auto w = ctx.output().write("plan.json", plan->to_json().dump(2) + "\n"); !w)
    return fail(w.error());
  if (const int taken = plan->count(policy::Action::taken); taken > 0) {
    // Applying over an object netpol did not apply would change it, and a later prune would
    // delete it: refuse before the first write, as for an invalid policy.
    diff_phase.failed(fmt::format("{}; {} name(s) taken", counts, taken));
    const policy::PlanItem* first = nullptr;
    for (const auto& item : plan->items) {
      if (item.action != policy::Action::taken) continue;
      if (!first) first = &item;
      junit.add({"netpol." + junit.subcommand(), "taken " + item.object, report::CaseStatus::failed,
                 item.diff.front(), "", 0});
    }
    if (print && json) {
      ctx.out() << plan->to_json().dump(2) << "\n";
    } else if (print) {
      ctx.out() << plan->to_text();
    }
    return fail(
        ErrorCode::invalid_policy,
        fmt::format("plan {}: {}{}; rename the policy, or delete "
                    "that object (netpol never changes objects it did not apply for "
                    "this project and environment); nothing was applied",
                    first->object, first->diff.front(),
                    taken > 1 ? fmt::format(" (and {} more, see plan.txt)", taken - 1) : ""));
  }
  diff_phase.done(counts);
  std::optional<ConnectivityChange> connectivity;
  if (plan->count(policy::Action::create) + plan->count(policy::Action::update) +
          plan->count(policy::Action::prune) !=
      0) {
    std::vector<std::string> removed;
    for (const auto& item : plan->items) {
      if (item.action == policy::Action::prune) removed.push_back(item.object);
    }
    auto change = analyze_change(api, state->desired, removed, ctx, junit);
    if (change) {
      connectivity = *change;
    } else {
      // Optional rights (pods, namespaces and policies of every namespace): say so, and
      // where to get them, so the warning does not read as a failed plan.
      ctx.reporter().warn(
          "cannot tell which connections the change denies or allows: " + change.error().message +
          (kube::is_forbidden(change.error())
               ? " (optional: the netpol-connectivity ClusterRole of "
                 "examples/rbac/apply-namespace.yaml grants these reads; the "
                 "plan goes on without them)"
               : ""));
    }
  }
  if (print && json) {
    auto out = plan->to_json();
    out["lint"] = policy::to_json(state->check);
    if (connectivity) {
      out["connectivity"] = {{"newly_denied", connectivity->newly_denied},
                             {"newly_allowed", connectivity->newly_allowed},
                             {"ports", connectivity->ports},
                             {"pods", connectivity->pods}};
    }
    ctx.out() << out.dump(2) << "\n";
  } else if (print) {
    ctx.out() << plan->to_text();
    if (connectivity) {
      ctx.out() << fmt::format("connectivity: {} pod pair(s) newly denied, {} newly allowed "
                               "(connectivity.txt)\n",
                               connectivity->newly_denied, connectivity->newly_allowed);
    }
  }
  return PlanStep{std::move(*state), std::move(*plan), connectivity};
}

Command plan_command() {
  return Command{
      .name = "plan",
      .summary = "render, validate and lint the desired policies and diff them against the cluster",
      .usage = "plan [--policies PATH] [--default-policy PROFILE] [--no-prune]",
      .help = "Loads the project's policies and the default profile, validates and lints them,\n"
              "labels them for this project and environment (CI_PROJECT_ID, CI_ENVIRONMENT_SLUG)\n"
              "and compares them with what netpol applied earlier: create, update (with the\n"
              "changed fields), unchanged, prune. Writes policies.yaml, plan.txt, plan.json and\n"
              "junit-plan.xml. Changes nothing. Exit 3 when any policy is invalid.\n",
      .needs_cluster = true,
      .describe = describe_plan,
      .env = policy_env(),
      .run = run_plan,
  };
}

} // namespace netpol::cli
