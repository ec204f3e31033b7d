#include "cli/run_cmd.hpp"

#include <chrono>
#include <filesystem>
#include <optional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/apply_cmd.hpp"
#include "cli/cilium_options.hpp"
#include "cli/detect_cmd.hpp"
#include "cli/drops_cmd.hpp"
#include "cli/policy_options.hpp"
#include "detect/detection.hpp"
#include "detect/reports.hpp"
#include "report/junit.hpp"
#include "report/metrics.hpp"

namespace netpol::cli {
namespace {

using report::CaseStatus;

constexpr const char* k_classname = "netpol.run";

struct RunOptions {
  policy::PolicyMode mode = policy::PolicyMode::off;
  bool require_enforcement = false;
  bool install_cilium = false;
  bool drop_log = true;
  cilium::InstallOptions cilium;
};

std::optional<std::string> string_arg(const po::variables_map& args, const char* name) {
  if (args.count(name) == 0 || args[name].as<std::string>().empty()) return std::nullopt;
  return args[name].as<std::string>();
}

// A boolean that has --x (optionally --x=BOOL, or its variable) and --no-x.
Result<std::optional<bool>> switch_arg(const po::variables_map& args, const char* name,
                                       const char* variable) {
  if (args[std::string("no-") + name].as<bool>()) return std::optional<bool>(false);
  if (auto text = string_arg(args, name)) {
    auto value = parse_bool(*text, fmt::format("--{} ({})", name, variable));
    if (!value) return fail(value.error());
    return std::optional<bool>(*value);
  }
  return std::optional<bool>();
}

Result<RunOptions> read_options(const po::variables_map& args) {
  RunOptions o;
  auto mode =
      policy::parse_policy_mode(args["mode"].as<std::string>(), "--mode (NETWORK_POLICY_MODE)");
  if (!mode) return fail(mode.error());
  o.mode = *mode;
  auto require = switch_arg(args, "require-enforcement", "NETWORK_POLICY_REQUIRE_ENFORCEMENT");
  if (!require) return fail(require.error());
  o.require_enforcement = require->value_or(false);
  auto install = switch_arg(args, "install-cilium", "CILIUM_INSTALL");
  if (!install) return fail(install.error());
  o.install_cilium = install->value_or(false);
  auto drop_log = switch_arg(args, "drop-log", "NETWORK_POLICY_DROP_LOG");
  if (!drop_log) return fail(drop_log.error());
  o.drop_log = drop_log->value_or(true);
  auto cilium = read_install_cilium_options(args);
  if (!cilium) return fail(cilium.error());
  o.cilium = std::move(*cilium);
  return o;
}

void describe(po::options_description& options, po::positional_options_description&) {
  // clang-format off
  options.add_options()
    ("mode", po::value<std::string>()->value_name("off|audit|enforce")->default_value("off"),
     "off: apply nothing; audit: apply only where the provider audits; enforce: apply")
    ("require-enforcement", po::value<std::string>()->value_name("BOOL")->implicit_value("true"),
     "exit 4 when the provider does not enforce NetworkPolicy")
    ("no-require-enforcement", po::bool_switch(), "only warn when nothing enforces NetworkPolicy")
    ("install-cilium", po::value<std::string>()->value_name("BOOL")->implicit_value("true"),
     "install or upgrade Cilium before anything else")
    ("no-install-cilium", po::bool_switch(), "never install Cilium in this job")
    ("drop-log", po::value<std::string>()->value_name("BOOL")->implicit_value("true"),
     "collect the drop log (default true)")
    ("no-drop-log", po::bool_switch(), "do not collect the drop log");
  // clang-format on
  po::options_description policies("Policies (as `netpol apply`)", k_help_width, k_help_width / 2);
  describe_apply_options(policies);
  options.add(policies);
  po::options_description drops("Drop log (as `netpol drops`)", k_help_width, k_help_width / 2);
  describe_drops_options(drops);
  options.add(drops);
  po::options_description cilium("Cilium install (as `netpol install-cilium`)", k_help_width,
                                 k_help_width / 2);
  describe_cilium_options(cilium);
  options.add(cilium);
}

// Whether the policies step plans anything: not in mode off with no policies declared (no
// policy directory, no default profile), where there is nothing to plan.
bool plans_policies(const po::variables_map& args, const RunOptions& options) {
  return options.mode != policy::PolicyMode::off || policies_declared(args);
}

// Every report the run may write, owed before the first step starts (SPEC §5): a run that
// ends early — a bad kubeconfig, an unreachable cluster, a cancel — still leaves each file of
// every step its options include, the files it did not get to saying why. Steps the options
// leave out (CILIUM_INSTALL false, NETWORK_POLICY_DROP_LOG false, mode off with nothing
// declared) owe nothing: junit-run.xml says why they were skipped. Files written only
// sometimes (cilium-values.diff on an upgrade, connectivity.* when the plan changes
// something) are not owed.
void owe_reports(const po::variables_map& args, const RunOptions& options, Context& ctx) {
  auto& reports = ctx.reports();
  reports.junit("run");
  reports.owe({"metrics.txt"});
  if (options.install_cilium) {
    reports.junit("install-cilium");
    reports.owe(cilium::k_install_reports);
  }
  reports.junit("detect");
  reports.owe(detect::k_detect_reports);
  if (plans_policies(args, options)) {
    reports.junit("apply");
    reports.owe(policy::k_plan_reports);
  }
  if (options.drop_log) {
    reports.junit("drops");
    reports.owe(k_drop_reports);
  }
}

// The job's state as it goes, for the reports written at every exit.
struct RunState {
  explicit RunState(Context& ctx) : junit(ctx.reports().junit("run")) {}
  report::JUnitReport& junit; // junit-run.xml, written by the dispatcher on every exit
  report::MetricsReport metrics;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  bool installed = false;
  std::optional<detect::Detection> detection;
  std::string policies_line = "not run";
  std::optional<policy::ApplyOutcome> applied;
  std::string drops_line = "not run";
  std::optional<DropsOutcome> drops;
};

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

Result<void> write_metrics(Context& ctx, const RunState& state) {
  if (auto r = ctx.output().write("metrics.txt", state.metrics.to_text()); !r)
    return fail(r.error());
  return {};
}

// The one summary of the job log (or JSON for --format json).
void print_summary(Context& ctx, const RunState& state, const RunOptions& options, int exit) {
  const auto& d = *state.detection;
  if (ctx.global().format == OutputFormat::json) {
    nlohmann::ordered_json summary;
    summary["detection"] = d.to_json();
    summary["cilium_installed"] = state.installed;
    summary["mode"] = to_string(options.mode);
    nlohmann::ordered_json policies;
    policies["result"] = state.policies_line;
    if (state.applied) {
      policies["applied"] = state.applied->applied;
      policies["unchanged"] = state.applied->unchanged;
      policies["pruned"] = state.applied->pruned;
      policies["plan"] = state.applied->plan.to_json();
    }
    summary["policies"] = policies;
    nlohmann::ordered_json drops;
    drops["result"] = state.drops_line;
    if (state.drops) {
      drops["dropped"] = state.drops->dropped;
      drops["audited"] = state.drops->audited;
      drops["rows"] = state.drops->rows;
    }
    summary["drop_log"] = drops;
    summary["exit_code"] = exit;
    summary["output_dir"] = ctx.output().path().string();
    ctx.out() << summary.dump(2) << "\n";
    return;
  }
  ctx.out() << fmt::format(
      "cluster     {} (Kubernetes {})\n"
      "provider    {}{} — {}\n"
      "cilium      {}\n"
      "policies    {}\n"
      "drop log    {}\n"
      "reports     {}/ ({:.1f}s)\n",
      detect::to_string(d.flavor), d.kubernetes_version.empty() ? "?" : d.kubernetes_version,
      detect::to_string(d.provider.name),
      d.provider.version ? " " + *d.provider.version : std::string(),
      d.enforcing()                        ? "enforces NetworkPolicy"
      : d.provider.enforces_network_policy ? "audit mode: logs what policies would drop"
                                           : "does NOT enforce NetworkPolicy",
      state.installed ? "installed or upgraded by this job" : "not installed by this job",
      state.policies_line, state.drops_line, ctx.output().path().string(),
      seconds_since(state.started));
}

// Step 3: plan and apply (or skip) the policies by mode.
Result<void> policies_step(const po::variables_map& args, Context& ctx, const RunOptions& options,
                           RunState& state) {
  const auto t = std::chrono::steady_clock::now();
  if (!plans_policies(args, options)) {
    state.policies_line = "mode off, none declared: nothing planned or applied";
    state.junit.add({k_classname, "policies applied", CaseStatus::skipped,
                     fmt::format("NETWORK_POLICY_MODE is off and no policies are declared (no "
                                 "{}, NETWORK_POLICY_DEFAULT none)",
                                 policy::defaults::k_policy_dir),
                     "", 0});
    return {};
  }
  auto& junit = ctx.reports().junit("apply");
  auto api = ctx.kube();
  auto apply = api ? read_apply_options(args, ctx)
                   : Result<policy::ApplyOptions>(tl::unexpected(api.error()));
  // The run itself decided about --require-enforcement; apply only skips.
  if (apply) {
    apply->mode = options.mode;
    apply->plan.print = ctx.global().format == OutputFormat::text;
  }
  auto outcome = apply ? policy::apply(*apply, &state.detection->provider, ctx.env(), **api,
                                       ctx.session(), junit)
                       : Result<policy::ApplyOutcome>(tl::unexpected(apply.error()));
  if (!outcome) {
    state.policies_line = "failed: " + outcome.error().message;
    state.junit.add({k_classname, "policies applied", CaseStatus::failed, outcome.error().message,
                     "", seconds_since(t)});
    if (auto settled = ctx.reports().settle("apply", policy::k_plan_reports, outcome.error());
        !settled)
      ctx.reporter().warn(settled.error().message);
    return fail(outcome.error());
  }
  const auto& plan = outcome->plan;
  if (outcome->allowed) {
    state.policies_line = fmt::format("mode {}: {} applied, {} unchanged, {} pruned{}",
                                      to_string(options.mode), outcome->applied, outcome->unchanged,
                                      outcome->pruned, outcome->dry_run ? " (dry run)" : "");
    state.junit.add(
        {k_classname, "policies applied", CaseStatus::passed, "", "", seconds_since(t)});
  } else {
    state.policies_line =
        fmt::format("mode {}: planned {} to create, {} to update, {} unchanged, {} to prune; {}",
                    to_string(options.mode), plan.count(policy::Action::create),
                    plan.count(policy::Action::update), plan.count(policy::Action::unchanged),
                    plan.count(policy::Action::prune), outcome->decision);
    state.junit.add({k_classname, "policies applied", CaseStatus::skipped, outcome->decision, "",
                     seconds_since(t)});
  }
  state.applied = std::move(*outcome);
  ctx.reports().completed("apply");
  return {};
}

// Step 4: the drop log. Returns the exit code of a failed --fail-on-(new-)drops check (4) or 0.
Result<int> drops_step_of_run(const po::variables_map& args, Context& ctx,
                              const RunOptions& options, RunState& state) {
  const auto& provider = state.detection->provider;
  if (!options.drop_log) {
    state.drops_line = "not collected (NETWORK_POLICY_DROP_LOG is false)";
    state.junit.add({k_classname, "drop log collected", CaseStatus::skipped,
                     "NETWORK_POLICY_DROP_LOG is false", "", 0});
    return 0;
  }
  if (!args.count("from-file") && provider.drop_log_source == detect::DropLogSource::none) {
    state.drops_line = fmt::format("not collected: the provider ({}) exports no flow log netpol "
                                   "reads (Cilium with Hubble export does)",
                                   detect::to_string(provider.name));
    state.junit.add(
        {k_classname, "drop log collected", CaseStatus::skipped, state.drops_line, "", 0});
    if (auto skipped = ctx.reports().skip("drops", "drop log collected", k_drop_reports,
                                          "drop log " + state.drops_line);
        !skipped)
      ctx.reporter().warn(skipped.error().message);
    return 0;
  }
  const auto t = std::chrono::steady_clock::now();
  auto outcome = drops_step(args, ctx, false, provider.namespace_name.value_or(""));
  if (!outcome) {
    state.drops_line = "failed: " + outcome.error().message;
    state.junit.add({k_classname, "drop log collected", CaseStatus::failed, outcome.error().message,
                     "", seconds_since(t)});
    if (auto settled = ctx.reports().settle("drops", k_drop_reports, outcome.error()); !settled)
      ctx.reporter().warn(settled.error().message);
    if (outcome.error().code == ErrorCode::cancelled) return fail(outcome.error());
    // The drop log reports; it does not gate the deployment, unless the job asked to fail on
    // (new) drops: then an unreadable log cannot pass that check (fail closed); a bad option
    // of its own (--previous-summary FILE) is exit 2.
    if (drop_log_failure_ends_run(args, outcome.error())) return fail(outcome.error());
    ctx.reporter().warn("drop log not collected: " + outcome.error().message);
    return 0;
  }
  state.junit.add(
      {k_classname, "drop log collected", CaseStatus::passed, "", "", seconds_since(t)});
  ctx.reports().completed("drops");
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
      ctx.reporter().warn(fmt::format("NETWORK_POLICY_FAIL_ON_DROPS: {} dropped, {} audited flows",
                                      outcome->dropped, outcome->audited));
      exit = exit_code(ErrorCode::check_failed);
    }
  }
  auto new_drops = check_new_drops(*outcome, ctx.reporter(), &state.junit, k_classname);
  state.drops = std::move(*outcome);
  if (!new_drops) return fail(new_drops.error());
  return exit != 0 ? exit : *new_drops;
}

void add_metrics(RunState& state) {
  auto& m = state.metrics;
  m.add({"netpol_cilium_installs",
         "Cilium installs or upgrades done by this job",
         state.installed ? 1.0 : 0.0,
         {}});
  if (state.detection) {
    const auto& p = state.detection->provider;
    m.add({"netpol_provider_enforces",
           "1 when the network provider enforces NetworkPolicy",
           p.enforces_network_policy ? 1.0 : 0.0,
           {{"provider", std::string(detect::to_string(p.name))}}});
    m.add({"netpol_provider_audit_mode",
           "1 when the provider only audits policy denials",
           p.audit_mode ? 1.0 : 0.0,
           {}});
  }
  const auto* a = state.applied ? &*state.applied : nullptr;
  m.add({"netpol_policies_applied",
         "Policies created or updated by this job",
         a ? static_cast<double>(a->applied) : 0.0,
         {}});
  m.add({"netpol_policies_unchanged",
         "Declared policies already in place",
         a ? static_cast<double>(a->unchanged) : 0.0,
         {}});
  m.add({"netpol_policies_pruned",
         "Policies this job deleted as no longer declared",
         a ? static_cast<double>(a->pruned) : 0.0,
         {}});
  const auto* d = state.drops ? &*state.drops : nullptr;
  m.add({"netpol_flows",
         "Dropped or audited flows touching the namespace in the window",
         d ? static_cast<double>(d->dropped) : 0.0,
         {{"verdict", "dropped"}}});
  m.add({"netpol_flows",
         "Dropped or audited flows touching the namespace in the window",
         d ? static_cast<double>(d->audited) : 0.0,
         {{"verdict", "audited"}}});
}

Result<int> run_run(const po::variables_map& args, Context& ctx) {
  auto options = read_options(args);
  if (!options) return fail(options.error());
  owe_reports(args, *options, ctx);
  RunState state(ctx);
  // Every exit writes metrics.txt with what happened so far (junit-run.xml and the steps'
  // reports are the dispatcher's).
  auto finish = [&](Result<int> result) -> Result<int> {
    add_metrics(state);
    auto written = write_metrics(ctx, state);
    if (result && !written) return fail(written.error());
    return result;
  };

  // 1. Cilium first when asked, so detection sees the provider the job leaves behind.
  if (options->install_cilium) {
    const auto t = std::chrono::steady_clock::now();
    auto installed = cilium::install(options->cilium, cilium_site(ctx), ctx.session());
    if (!installed) {
      state.junit.add({k_classname, "Cilium installed", CaseStatus::failed,
                       installed.error().message, "", seconds_since(t)});
      return finish(fail(installed.error()));
    }
    state.installed = true;
    ctx.reports().completed("install-cilium");
    state.junit.add(
        {k_classname, "Cilium installed", CaseStatus::passed, "", "", seconds_since(t)});
  } else {
    state.junit.add({k_classname, "Cilium installed", CaseStatus::skipped,
                     "not requested (CILIUM_INSTALL is false)", "", 0});
  }

  // 2. Detection, with its own reports (provider.json, netpol.env, junit-detect.xml).
  const auto t_detect = std::chrono::steady_clock::now();
  auto detection = detect_and_report(ctx, options->require_enforcement);
  if (!detection) {
    state.junit.add({k_classname, "cluster detected", CaseStatus::failed, detection.error().message,
                     "", seconds_since(t_detect)});
    return finish(fail(detection.error()));
  }
  state.detection = std::move(*detection);
  ctx.reports().completed("detect");
  const auto& d = *state.detection;
  state.junit.add(
      {k_classname, "cluster detected", CaseStatus::passed, "", "", seconds_since(t_detect)});

  int exit = 0;
  if (!d.provider.enforces_network_policy) {
    const std::string why = fmt::format("provider {} does not enforce NetworkPolicy",
                                        detect::to_string(d.provider.name));
    if (options->require_enforcement) {
      state.junit.add({k_classname, "NetworkPolicy is enforced", CaseStatus::failed, why, "", 0});
      exit = exit_code(ErrorCode::check_failed);
    } else {
      ctx.reporter().warn(why + ": policies would have no effect on this cluster");
      state.junit.add({k_classname, "NetworkPolicy is enforced", CaseStatus::skipped,
                       why + " (NETWORK_POLICY_REQUIRE_ENFORCEMENT is false)", "", 0});
    }
  } else {
    state.junit.add({k_classname, "NetworkPolicy is enforced", CaseStatus::passed, "", "", 0});
  }

  // 3. Policies by mode; 4. the drop log, also after a failed apply: what was dropped is what a
  // reviewer of a failed deployment needs most. Not after a cancellation: the job must end.
  auto applied = policies_step(args, ctx, *options, state);
  if (!applied && applied.error().code == ErrorCode::cancelled) {
    return finish(fail(applied.error()));
  }
  auto drops = drops_step_of_run(args, ctx, *options, state);
  if (!applied) return finish(fail(applied.error()));
  if (!drops) return finish(fail(drops.error()));
  if (exit == 0) exit = *drops;

  auto finished = finish(exit);
  if (finished) print_summary(ctx, state, *options, exit);
  return finished;
}

} // namespace

Command run_command() {
  auto env = std::vector<EnvBinding>{{"mode", "NETWORK_POLICY_MODE"},
                                     {"require-enforcement", "NETWORK_POLICY_REQUIRE_ENFORCEMENT"},
                                     {"install-cilium", "CILIUM_INSTALL"},
                                     {"drop-log", "NETWORK_POLICY_DROP_LOG"},
                                     {"since", "NETPOL_SINCE"},
                                     {"fail-on-drops", "NETWORK_POLICY_FAIL_ON_DROPS"},
                                     {"previous-summary", "NETPOL_PREVIOUS_SUMMARY"},
                                     {"fail-on-new-drops", "NETWORK_POLICY_FAIL_ON_NEW_DROPS"}};
  for (const auto& binding : policy_env())
    env.push_back(binding);
  for (const auto& binding : cilium_env())
    env.push_back(binding);
  return Command{
      .name = "run",
      .summary = "the CI job: install Cilium if asked, detect, apply or skip by mode, drop log",
      .usage = "run [--mode off|audit|enforce] [--install-cilium] [--require-enforcement] "
               "[options]",
      .help = "Runs the pipeline job in one process: installs or upgrades Cilium when asked\n"
              "(CILIUM_INSTALL), detects the cluster flavour and network provider, plans the\n"
              "project's policies and applies them or not by mode (NETWORK_POLICY_MODE; off\n"
              "plans only what is declared and applies nothing), collects the drop log of the\n"
              "namespace since the pipeline started (NETWORK_POLICY_DROP_LOG), and writes every\n"
              "report: provider.json, netpol.env, policies.yaml, plan.txt/json, drop-log.*,\n"
              "suggested-policy.yaml, junit-*.xml and metrics.txt. Steps that do not run are\n"
              "JUnit 'skipped' cases that say why.\n\n"
              "Examples:\n"
              "  netpol run\n"
              "  NETWORK_POLICY_MODE=enforce NETWORK_POLICY_DEFAULT=gitlab netpol -n shop run\n"
              "  CILIUM_INSTALL=true netpol run --require-enforcement",
      .needs_cluster = true,
      .describe = describe,
      .env = std::move(env),
      .run = run_run,
  };
}

} // namespace netpol::cli
