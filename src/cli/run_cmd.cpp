#include "cli/run_cmd.hpp"

#include <chrono>
#include <optional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/detect_cmd.hpp"
#include "cli/install_cilium_cmd.hpp"
#include "detect/detection.hpp"
#include "report/junit.hpp"
#include "report/metrics.hpp"

namespace netpol::cli {
namespace {

using report::CaseStatus;

constexpr const char* k_classname = "netpol.run";

enum class Mode { off, audit, enforce };

struct RunOptions {
  Mode mode = Mode::off;
  bool require_enforcement = false;
  bool install_cilium = false;
  InstallCiliumOptions cilium;
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
  const auto mode = args["mode"].as<std::string>();
  if (mode == "off")
    o.mode = Mode::off;
  else if (mode == "audit")
    o.mode = Mode::audit;
  else if (mode == "enforce")
    o.mode = Mode::enforce;
  else {
    return fail(ErrorCode::usage, "--mode (NETWORK_POLICY_MODE): invalid value '" + mode +
                                      "': use off, audit or enforce");
  }
  if (o.mode != Mode::off) {
    // Applying policies (plan, server-side apply, prune) is not part of this build; refuse
    // before touching the cluster rather than report a job that silently did less.
    return fail(ErrorCode::config,
                "--mode (NETWORK_POLICY_MODE) " + mode +
                    ": this netpol build cannot apply policies yet; use mode off (the default) "
                    "to detect the provider and collect the drop log, and `netpol lint` to check "
                    "policy files");
  }
  auto require = switch_arg(args, "require-enforcement", "NETWORK_POLICY_REQUIRE_ENFORCEMENT");
  if (!require) return fail(require.error());
  o.require_enforcement = require->value_or(false);
  auto install = switch_arg(args, "install-cilium", "CILIUM_INSTALL");
  if (!install) return fail(install.error());
  o.install_cilium = install->value_or(false);
  o.cilium.chart = string_arg(args, "chart");
  o.cilium.version = string_arg(args, "cilium-version");
  o.cilium.values_file = string_arg(args, "values");
  auto audit = switch_arg(args, "audit-mode", "CILIUM_AUDIT_MODE");
  if (!audit) return fail(audit.error());
  o.cilium.audit_mode = *audit;
  return o;
}

void describe(po::options_description& options, po::positional_options_description&) {
  // clang-format off
  options.add_options()
    ("mode", po::value<std::string>()->value_name("off|audit|enforce")->default_value("off"),
     "what to do with the project's policies (this build: off only)")
    ("require-enforcement", po::value<std::string>()->value_name("BOOL")->implicit_value("true"),
     "exit 4 when the provider does not enforce NetworkPolicy")
    ("no-require-enforcement", po::bool_switch(), "only warn when nothing enforces NetworkPolicy")
    ("install-cilium", po::value<std::string>()->value_name("BOOL")->implicit_value("true"),
     "install or upgrade Cilium before anything else")
    ("no-install-cilium", po::bool_switch(), "never install Cilium in this job")
    ("chart", po::value<std::string>()->value_name("REF"), "Cilium chart (see install-cilium)")
    ("cilium-version", po::value<std::string>()->value_name("VERSION"), "Cilium chart version")
    ("values", po::value<std::string>()->value_name("FILE"), "extra Helm values, merged last")
    ("audit-mode", po::value<std::string>()->value_name("BOOL")->implicit_value("true"),
     "policyAuditMode for a new Cilium install (default true)")
    ("no-audit-mode", po::bool_switch(), "install Cilium enforcing (policyAuditMode false)");
  // clang-format on
}

Result<int> run_run(const po::variables_map& args, Context& ctx) {
  auto options = read_options(args);
  if (!options) return fail(options.error());
  const auto started = std::chrono::steady_clock::now();
  report::JUnitReport junit("run");
  report::MetricsReport metrics;
  auto write_reports = [&]() -> Result<void> {
    if (auto r = ctx.output().write("junit-run.xml", junit.to_xml()); !r) return fail(r.error());
    if (auto r = ctx.output().write("metrics.txt", metrics.to_text()); !r) return fail(r.error());
    return {};
  };
  auto seconds_since = [](std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
  };

  // 1. Cilium first when asked, so detection sees the provider the job leaves behind.
  int installs = 0;
  if (options->install_cilium) {
    const auto t = std::chrono::steady_clock::now();
    auto installed = install_cilium(options->cilium, ctx);
    if (!installed) {
      junit.add({k_classname, "Cilium installed", CaseStatus::failed, installed.error().message, "",
                 seconds_since(t)});
      (void)write_reports();
      return fail(installed.error());
    }
    installs = 1;
    junit.add({k_classname, "Cilium installed", CaseStatus::passed, "", "", seconds_since(t)});
  } else {
    junit.add({k_classname, "Cilium installed", CaseStatus::skipped,
               "not requested (CILIUM_INSTALL is false)", "", 0});
  }
  metrics.add({"netpol_cilium_installs",
               "Cilium installs or upgrades done by this job",
               static_cast<double>(installs),
               {}});

  // 2. Detection, with its own reports (provider.json, netpol.env, junit-detect.xml).
  const auto t_detect = std::chrono::steady_clock::now();
  auto detection = detect_and_report(ctx, options->require_enforcement);
  if (!detection) {
    junit.add({k_classname, "cluster detected", CaseStatus::failed, detection.error().message, "",
               seconds_since(t_detect)});
    (void)write_reports();
    return fail(detection.error());
  }
  const auto& d = *detection;
  junit.add({k_classname, "cluster detected", CaseStatus::passed, "", "", seconds_since(t_detect)});
  metrics.add({"netpol_provider_enforces",
               "1 when the network provider enforces NetworkPolicy",
               d.provider.enforces_network_policy ? 1.0 : 0.0,
               {{"provider", std::string(detect::to_string(d.provider.name))}}});
  metrics.add({"netpol_provider_audit_mode",
               "1 when the provider only audits policy denials",
               d.provider.audit_mode ? 1.0 : 0.0,
               {}});

  int exit = 0;
  if (!d.provider.enforces_network_policy) {
    const std::string why = fmt::format("provider {} does not enforce NetworkPolicy",
                                        detect::to_string(d.provider.name));
    if (options->require_enforcement) {
      junit.add({k_classname, "NetworkPolicy is enforced", CaseStatus::failed, why, "", 0});
      exit = 4;
    } else {
      ctx.reporter().warn(why + ": policies would have no effect on this cluster");
      junit.add({k_classname, "NetworkPolicy is enforced", CaseStatus::skipped,
                 why + " (NETWORK_POLICY_REQUIRE_ENFORCEMENT is false)", "", 0});
    }
  } else {
    junit.add({k_classname, "NetworkPolicy is enforced", CaseStatus::passed, "", "", 0});
  }

  // 3. Policies: mode off applies nothing.
  junit.add({k_classname, "policies applied", CaseStatus::skipped,
             "NETWORK_POLICY_MODE is off: nothing applied", "", 0});
  metrics.add({"netpol_policies_applied", "NetworkPolicies applied by this job", 0, {}});

  if (auto written = write_reports(); !written) return fail(written.error());

  // One summary for the job log.
  const double total = seconds_since(started);
  if (ctx.global().format == OutputFormat::json) {
    nlohmann::ordered_json summary;
    summary["detection"] = d.to_json();
    summary["cilium_installed"] = installs > 0;
    summary["mode"] = "off";
    summary["policies_applied"] = 0;
    summary["exit_code"] = exit;
    summary["output_dir"] = ctx.output().path().string();
    ctx.out() << summary.dump(2) << "\n";
  } else {
    ctx.out() << fmt::format(
        "cluster     {} (Kubernetes {})\n"
        "provider    {}{} — {}\n"
        "cilium      {}\n"
        "policies    mode off: nothing applied\n"
        "reports     {}/ ({:.1f}s)\n",
        detect::to_string(d.flavor), d.kubernetes_version.empty() ? "?" : d.kubernetes_version,
        detect::to_string(d.provider.name),
        d.provider.version ? " " + *d.provider.version : std::string(),
        d.enforcing()                        ? "enforces NetworkPolicy"
        : d.provider.enforces_network_policy ? "audit mode: logs what policies would drop"
                                             : "does NOT enforce NetworkPolicy",
        installs > 0 ? "installed or upgraded by this job" : "not installed by this job",
        ctx.output().path().string(), total);
  }
  return exit;
}

} // namespace

Command run_command() {
  return Command{
      .name = "run",
      .summary = "the CI job: install Cilium if asked, detect, report (mode off in this release)",
      .usage = "run [--mode off] [--install-cilium] [--require-enforcement] [options]",
      .help = "Runs the pipeline job in one process: installs or upgrades Cilium when asked\n"
              "(CILIUM_INSTALL), detects the cluster flavour and network provider, decides what\n"
              "to do with the project's policies by mode (NETWORK_POLICY_MODE), and writes every\n"
              "report: provider.json, netpol.env, junit-*.xml and metrics.txt. Steps that do not\n"
              "run are JUnit 'skipped' cases that say why.\n\n"
              "Examples:\n"
              "  netpol run\n"
              "  CILIUM_INSTALL=true netpol run --require-enforcement",
      .needs_cluster = true,
      .describe = describe,
      .env = {{"mode", "NETWORK_POLICY_MODE"},
              {"require-enforcement", "NETWORK_POLICY_REQUIRE_ENFORCEMENT"},
              {"install-cilium", "CILIUM_INSTALL"},
              {"chart", "CILIUM_CHART"},
              {"cilium-version", "CILIUM_VERSION"},
              {"values", "CILIUM_VALUES_FILE"},
              {"audit-mode", "CILIUM_AUDIT_MODE"}},
      .run = run_run,
  };
}

} // namespace netpol::cli
