#include "policy/plan_step.hpp"

#include <future>

#include <fmt/format.h>

#include "util/yaml.hpp"

namespace netpol::policy {
namespace {

nlohmann::ordered_json connectivity_json(const analyze::ConnectivityChange& c) {
  nlohmann::ordered_json out = {{"newly_denied", c.newly_denied},
                                {"newly_allowed", c.newly_allowed},
                                {"ports", c.ports},
                                {"pods", c.pods},
                                {"verified", c.verified}};
  if (c.verified) {
    out["evidence"] = c.evidence;
    auto& breaking = out["will_break"] = nlohmann::ordered_json::array();
    for (const auto& b : c.will_break) {
      breaking.push_back({{"from", b.from},
                          {"to", b.to},
                          {"port", b.port.port.port},
                          {"protocol", analyze::to_string(b.port.port.protocol)},
                          {"other_port", b.port.other},
                          {"pod_pairs", b.pairs},
                          {"observed", b.seen.count},
                          {"first_seen", b.seen.first_seen},
                          {"last_seen", b.seen.last_seen}});
    }
  }
  return out;
}

// The plan's connectivity lines for the job log: the connections it would break first.
std::string connectivity_text(const analyze::ConnectivityChange& c) {
  std::string out;
  for (const auto& b : c.will_break) {
    out += fmt::format("will break: {} -> {} {} ({})\n", b.from, b.to, analyze::port_label(b.port),
                       analyze::describe_seen(b.seen));
  }
  out += fmt::format("connectivity: {} pod pair(s) newly denied, {} newly allowed{} "
                     "(connectivity.txt)\n",
                     c.newly_denied, c.newly_allowed,
                     !c.verified ? "; unverified: no flow evidence given (--flows)"
                     : c.will_break.empty()
                         ? "; none of them seen in traffic"
                         : fmt::format("; {} seen in traffic will break", c.will_break.size()));
  return out;
}

} // namespace

Result<PlanStep> plan_step(const PlanOptions& options, const Environment& env, kube::KubeApi& api,
                           const report::Session& session, report::JUnitReport& junit) {
  session.reports.owe(k_plan_reports);
  // What is live does not depend on the policies: list it on another thread while they are
  // loaded and checked, so the round trips to the server overlap the local work. (An
  // unreachable server is still reported only after the policies check out; invalid policies
  // are reported once the listing has succeeded or failed.)
  std::future<Result<LiveObjects>> live;
  if (require_identity(options.render)) {
    live = std::async(std::launch::async,
                      [&api, render = options.render] { return list_live(api, render); });
  }
  auto phase = session.reporter.phase("Checking policies");
  auto state = build_desired(options.desired, options.render, env, api);
  if (!state) return fail(state.error());
  const auto check_cases = junit_for(state->check, junit.subcommand());
  for (const auto& c : check_cases.cases())
    junit.add(c);
  if (auto w = session.output.write(
          k_code_quality_report,
          report::code_quality_json(code_quality_issues(state->check),
                                    env.get("CI_PROJECT_DIR").value_or("")));
      !w) {
    return fail(w.error());
  }
  const bool json = session.format == report::Format::json;
  const bool print = options.print;
  if (print && !json) {
    for (const auto& f : state->check.findings)
      session.out << f.text() << "\n";
  }
  if (state->check.has_errors()) {
    phase.failed(state->check.error().code == ErrorCode::invalid_policy
                     ? "invalid policies: nothing is applied"
                     : state->check.error().message + ": nothing is applied");
    if (print && json) session.out << to_json(state->check).dump(2) << "\n";
    // plan.txt and plan.json say what is wrong, all of it, for the reviewer who opens them;
    // policies.yaml gets its stand-in (nothing was rendered).
    std::string text = "not planned: the policies are invalid; nothing was applied\n\n";
    for (const auto& f : state->check.findings)
      text += f.text() + "\n";
    nlohmann::ordered_json plan_json;
    plan_json["error"] = state->check.error().message;
    plan_json["lint"] = to_json(state->check);
    for (auto w : {session.output.write("plan.txt", text),
                   session.output.write("plan.json", plan_json.dump(2) + "\n")}) {
      if (!w) session.reporter.warn(w.error().message);
    }
    return fail(state->check.error());
  }
  phase.done(fmt::format("{} objects valid", state->desired.size()));

  std::string policies_yaml;
  for (const auto& d : state->desired)
    policies_yaml += "---\n" + to_yaml(d);
  if (auto w = session.output.write("policies.yaml", policies_yaml); !w) return fail(w.error());

  auto diff_phase = session.reporter.phase("Comparing with the cluster");
  auto listed = live.valid() ? live.get() : list_live(api, options.render);
  auto plan = listed ? make_plan(*listed, state->desired, options.prune)
                     : Result<Plan>(tl::unexpected(listed.error()));
  if (!plan) {
    diff_phase.failed(plan.error().message);
    return fail(plan.error());
  }
  for (const auto& w : plan->warnings)
    session.reporter.warn(w);
  const std::string counts = fmt::format(
      "{} create, {} update, {} unchanged, {} prune", plan->count(Action::create),
      plan->count(Action::update), plan->count(Action::unchanged), plan->count(Action::prune));
  if (auto w = session.output.write("plan.txt", plan->to_text()); !w) return fail(w.error());
  if (auto w = session.output.write("plan.json", plan->to_json().dump(2) + "\n"); !w)
    return fail(w.error());
  if (const int taken = plan->count(Action::taken); taken > 0) {
    // Applying over an object netpol did not apply would change it, and a later prune would
    // delete it: refuse before the first write, as for an invalid policy.
    diff_phase.failed(fmt::format("{}; {} name(s) taken", counts, taken));
    const PlanItem* first = nullptr;
    for (const auto& item : plan->items) {
      if (item.action != Action::taken) continue;
      if (!first) first = &item;
      junit.add({"netpol." + junit.subcommand(), "taken " + item.object, report::CaseStatus::failed,
                 item.diff.front(), "", 0});
    }
    if (print && json) {
      session.out << plan->to_json().dump(2) << "\n";
    } else if (print) {
      session.out << plan->to_text();
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
  std::optional<analyze::ConnectivityChange> connectivity;
  if (plan->count(Action::create) + plan->count(Action::update) + plan->count(Action::prune) != 0) {
    std::vector<std::string> removed;
    for (const auto& item : plan->items) {
      if (item.action == Action::prune) removed.push_back(item.object);
    }
    auto change = analyze::analyze_change(api, state->desired, removed, options.evidence.get(),
                                          session, junit);
    if (change) {
      connectivity = *change;
    } else {
      // Optional rights (pods, namespaces and policies of every namespace): say so, and
      // where to get them, so the warning does not read as a failed plan.
      session.reporter.warn(
          "cannot tell which connections the change denies or allows: " + change.error().message +
          (kube::is_forbidden(change.error())
               ? " (optional: the netpol-connectivity ClusterRole of "
                 "examples/rbac/apply-namespace.yaml grants these reads; the "
                 "plan goes on without them)"
               : ""));
    }
  }
  if (connectivity) {
    // plan.json carries what the change does to connectivity, the connections it would break
    // first.
    auto with_connectivity = plan->to_json();
    with_connectivity["connectivity"] = connectivity_json(*connectivity);
    if (auto w = session.output.write("plan.json", with_connectivity.dump(2) + "\n"); !w)
      return fail(w.error());
  }
  if (print && json) {
    auto out = plan->to_json();
    out["lint"] = to_json(state->check);
    if (connectivity) out["connectivity"] = connectivity_json(*connectivity);
    session.out << out.dump(2) << "\n";
  } else if (print) {
    session.out << plan->to_text();
    if (connectivity) session.out << connectivity_text(*connectivity);
  }
  if (connectivity && options.fail_on_breaking) {
    // Before anything is applied: the change would cut traffic the cluster really carries.
    if (auto ok = analyze::refuse_breaking(connectivity->will_break); !ok) {
      return fail(ErrorCode::check_failed,
                  ok.error().message + "; nothing was applied (NETWORK_POLICY_FAIL_ON_BREAKING)");
    }
  }
  return PlanStep{std::move(*state), std::move(*plan), connectivity};
}

} // namespace netpol::policy
