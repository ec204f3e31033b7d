#include "pipeline/run.hpp"

#include <fmt/format.h>

#include "cilium/version.hpp"
#include "detect/reports.hpp"
#include "pipeline/run_report.hpp"
#include "policy/defaults.hpp"

namespace netpol::pipeline {
namespace {

using report::CaseStatus;

constexpr const char* k_classname = k_run_classname;

// Step 1: Cilium first when asked, so detection sees the provider the job leaves behind.
Result<void> install_step(const RunOptions& options, const RunSite& site,
                          const report::Session& session, RunState& state) {
  if (!options.install_cilium) {
    state.junit.add({k_classname, "Cilium installed", CaseStatus::skipped,
                     "not requested (CILIUM_INSTALL is false)", "", 0});
    return {};
  }
  const auto t = std::chrono::steady_clock::now();
  auto installed = cilium::install(options.cilium, site.cilium, session);
  if (!installed) {
    state.junit.add({k_classname, "Cilium installed", CaseStatus::failed, installed.error().message,
                     "", seconds_since(t)});
    return fail(installed.error());
  }
  state.installed = true;
  session.reports.completed("install-cilium");
  state.junit.add({k_classname, "Cilium installed", CaseStatus::passed, "", "", seconds_since(t)});
  return {};
}

// Step 2: detection, with its own reports (provider.json, netpol.env, junit-detect.xml). Returns
// the exit code of an unmet --require-enforcement (4) or 0.
Result<int> detect_step(const RunOptions& options, const RunSite& site,
                        const report::Session& session, RunState& state) {
  const auto t = std::chrono::steady_clock::now();
  detect::DetectOptions detect_options;
  detect_options.require_enforcement = options.require_enforcement;
  detect_options.unsupported_version = cilium::unsupported_provider_version;
  auto detection =
      detect::detect_and_report(site.cilium.cluster, site.hints, detect_options, session);
  if (!detection) {
    state.junit.add({k_classname, "cluster detected", CaseStatus::failed, detection.error().message,
                     "", seconds_since(t)});
    return fail(detection.error());
  }
  state.detection = std::move(*detection);
  session.reports.completed("detect");
  const auto& provider = state.detection->provider;
  state.junit.add({k_classname, "cluster detected", CaseStatus::passed, "", "", seconds_since(t)});

  if (provider.enforces_network_policy) {
    state.junit.add({k_classname, "NetworkPolicy is enforced", CaseStatus::passed, "", "", 0});
    return 0;
  }
  const std::string why =
      fmt::format("provider {} does not enforce NetworkPolicy", detect::to_string(provider.name));
  if (options.require_enforcement) {
    state.junit.add({k_classname, "NetworkPolicy is enforced", CaseStatus::failed, why, "", 0});
    return exit_code(ErrorCode::check_failed);
  }
  session.reporter.warn(why + ": policies would have no effect on this cluster");
  state.junit.add({k_classname, "NetworkPolicy is enforced", CaseStatus::skipped,
                   why + " (NETWORK_POLICY_REQUIRE_ENFORCEMENT is false)", "", 0});
  return 0;
}

// policy::apply with the cluster's namespace filled in; the run itself decided about
// --require-enforcement, so apply only skips.
Result<policy::ApplyOutcome> apply_policies(const policy::ApplyOptions& given, const RunSite& site,
                                            const report::Session& session,
                                            const detect::Provider& provider) {
  auto api = site.cilium.cluster();
  if (!api) return fail(api.error());
  auto ns = site.namespace_name();
  if (!ns) return fail(ns.error());
  auto options = given;
  options.plan.render.namespace_name = *ns;
  options.plan.print = session.format == report::Format::text;
  return policy::apply(options, &provider, site.env, **api, session,
                       session.reports.junit("apply"));
}

// Step 3: plan and apply (or skip) the policies by mode.
Result<void> policies_step(const RunOptions& options, const RunSite& site,
                           const report::Session& session, RunState& state) {
  if (!options.apply) {
    state.policies_line = "mode off, none declared: nothing planned or applied";
    state.junit.add({k_classname, "policies applied", CaseStatus::skipped,
                     fmt::format("NETWORK_POLICY_MODE is off and no policies are declared (no "
                                 "{}, NETWORK_POLICY_DEFAULT none)",
                                 policy::defaults::k_policy_dir),
                     "", 0});
    return {};
  }
  const auto t = std::chrono::steady_clock::now();
  auto outcome = apply_policies(*options.apply, site, session, state.detection->provider);
  if (!outcome) {
    state.policies_line = "failed: " + outcome.error().message;
    state.junit.add({k_classname, "policies applied", CaseStatus::failed, outcome.error().message,
                     "", seconds_since(t)});
    if (auto settled = session.reports.settle("apply", policy::k_plan_reports, outcome.error());
        !settled)
      session.reporter.warn(settled.error().message);
    return fail(outcome.error());
  }
  const auto& plan = outcome->plan;
  const auto mode = to_string(options.mode);
  if (outcome->allowed) {
    state.policies_line =
        fmt::format("mode {}: {} applied, {} unchanged, {} pruned{}", mode, outcome->applied,
                    outcome->unchanged, outcome->pruned, outcome->dry_run ? " (dry run)" : "");
    state.junit.add(
        {k_classname, "policies applied", CaseStatus::passed, "", "", seconds_since(t)});
  } else {
    state.policies_line =
        fmt::format("mode {}: planned {} to create, {} to update, {} unchanged, {} to prune; {}",
                    mode, plan.count(policy::Action::create), plan.count(policy::Action::update),
                    plan.count(policy::Action::unchanged), plan.count(policy::Action::prune),
                    outcome->decision);
    state.junit.add({k_classname, "policies applied", CaseStatus::skipped, outcome->decision, "",
                     seconds_since(t)});
  }
  state.applied = std::move(*outcome);
  session.reports.completed("apply");
  return {};
}

// droplog::collect_drops with the cluster (unless a file is read), the context's namespace
// when that is the one asked for, and detection's agents namespace.
Result<droplog::DropsOutcome> collect(const RunOptions& options, const RunSite& site,
                                      const report::Session& session,
                                      const detect::Provider& provider) {
  session.reports.junit("drops");
  auto drops = *options.drops;
  if (options.drops_namespace_from_context) {
    auto ns = site.namespace_name();
    if (!ns) return fail(ns.error());
    drops.namespaces = {*ns};
  }
  drops.print = false;
  drops.agents_namespace = provider.namespace_name.value_or("");
  kube::KubeApi* api = nullptr;
  if (drops.from_file.empty()) {
    auto cluster = site.cilium.cluster();
    if (!cluster) return fail(cluster.error());
    api = *cluster;
  }
  return droplog::collect_drops(drops, session, api);
}

// Step 4: the drop log. Returns the exit code of a failed --fail-on-drops check (4) or 0.
Result<int> drops_step(const RunOptions& options, const RunSite& site,
                       const report::Session& session, RunState& state) {
  const auto& provider = state.detection->provider;
  if (!options.drops) {
    state.drops_line = "not collected (NETWORK_POLICY_DROP_LOG is false)";
    state.junit.add({k_classname, "drop log collected", CaseStatus::skipped,
                     "NETWORK_POLICY_DROP_LOG is false", "", 0});
    return 0;
  }
  if (options.drops->from_file.empty() && provider.drop_log_source == detect::DropLogSource::none) {
    state.drops_line = fmt::format("not collected: the provider ({}) exports no flow log netpol "
                                   "reads (Cilium with Hubble export does)",
                                   detect::to_string(provider.name));
    state.junit.add(
        {k_classname, "drop log collected", CaseStatus::skipped, state.drops_line, "", 0});
    if (auto skipped = session.reports.skip("drops", "drop log collected", droplog::k_drop_reports,
                                            "drop log " + state.drops_line);
        !skipped)
      session.reporter.warn(skipped.error().message);
    return 0;
  }
  const auto t = std::chrono::steady_clock::now();
  auto outcome = collect(options, site, session, provider);
  if (!outcome) {
    state.drops_line = "failed: " + outcome.error().message;
    state.junit.add({k_classname, "drop log collected", CaseStatus::failed, outcome.error().message,
                     "", seconds_since(t)});
    if (auto settled = session.reports.settle("drops", droplog::k_drop_reports, outcome.error());
        !settled)
      session.reporter.warn(settled.error().message);
    // The drop log reports; it does not gate the deployment, unless the job asked to fail on
    // drops: then an unreadable log cannot pass that check (fail closed). A cancellation ends
    // the job either way.
    if (outcome.error().code == ErrorCode::cancelled || options.drops->fail_on_drops)
      return fail(outcome.error());
    session.reporter.warn("drop log not collected: " + outcome.error().message);
    return 0;
  }
  state.junit.add(
      {k_classname, "drop log collected", CaseStatus::passed, "", "", seconds_since(t)});
  session.reports.completed("drops");
  state.drops_line =
      fmt::format("{} dropped, {} audited flow(s) in {} row(s) from {}", outcome->dropped,
                  outcome->audited, outcome->rows, outcome->source);
  int exit = 0;
  if (outcome->fail_on_drops) {
    const bool any = outcome->rows != 0;
    state.junit.add({k_classname, "no dropped or audited flows",
                     any ? CaseStatus::failed : CaseStatus::passed,
                     any ? fmt::format("{} dropped, {} audited flow(s) (see drop-log.txt)",
                                       outcome->dropped, outcome->audited)
                         : "",
                     "", 0});
    if (any) {
      session.reporter.warn(fmt::format("NETWORK_POLICY_FAIL_ON_DROPS: {} dropped, {} audited "
                                        "flows",
                                        outcome->dropped, outcome->audited));
      exit = exit_code(ErrorCode::check_failed);
    }
  }
  state.drops = std::move(*outcome);
  return exit;
}

} // namespace

void owe_reports(const RunOptions& options, const report::Session& session) {
  auto& reports = session.reports;
  reports.junit("run");
  reports.owe({"metrics.txt"});
  if (options.install_cilium) {
    reports.junit("install-cilium");
    reports.owe(cilium::k_install_reports);
  }
  reports.junit("detect");
  reports.owe(detect::k_detect_reports);
  if (options.apply) {
    reports.junit("apply");
    reports.owe(policy::k_plan_reports);
  }
  if (options.drops) {
    reports.junit("drops");
    reports.owe(droplog::k_drop_reports);
  }
}

Result<int> run(const RunOptions& options, const RunSite& site, const report::Session& session) {
  RunState state(session.reports.junit("run"));
  // Every exit writes metrics.txt with what happened so far (junit-run.xml and the steps'
  // reports are the session's).
  auto finish = [&](Result<int> result) -> Result<int> {
    auto written = write_metrics(state, session);
    if (result && !written) return fail(written.error());
    return result;
  };

  if (auto installed = install_step(options, site, session, state); !installed)
    return finish(fail(installed.error()));
  auto detected = detect_step(options, site, session, state);
  if (!detected) return finish(fail(detected.error()));
  int exit = *detected;

  // The drop log is collected also after a failed apply: what was dropped is what a reviewer
  // of a failed deployment needs most. Not after a cancellation: the job must end.
  auto applied = policies_step(options, site, session, state);
  if (!applied && applied.error().code == ErrorCode::cancelled)
    return finish(fail(applied.error()));
  auto drops = drops_step(options, site, session, state);
  if (!applied) return finish(fail(applied.error()));
  if (!drops) return finish(fail(drops.error()));
  if (exit == 0) exit = *drops;

  auto finished = finish(exit);
  if (finished) print_summary(state, options.mode, exit, session);
  return finished;
}

} // namespace netpol::pipeline
