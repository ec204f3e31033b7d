#include "cli/run_cmd.hpp"

#include <optional>

#include <fmt/format.h>

#include "cli/apply_cmd.hpp"
#include "cli/cilium_options.hpp"
#include "cli/drops_cmd.hpp"
#include "cli/evidence_options.hpp"
#include "cli/policy_options.hpp"
#include "pipeline/run.hpp"

namespace netpol::cli {
namespace {

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

// The job's switches and its Cilium options: which steps run (all that run_run needs to owe
// their reports). The policy and drop-log steps get their options from read_step_options.
Result<pipeline::RunOptions> read_switches(const po::variables_map& args) {
  pipeline::RunOptions o;
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
  auto cilium = read_install_cilium_options(args);
  if (!cilium) return fail(cilium.error());
  o.cilium = std::move(*cilium);
  // Mode off with nothing declared (no policy directory, no default profile) plans nothing.
  if (o.mode != policy::PolicyMode::off || policies_declared(args)) o.apply.emplace();
  auto drop_log = switch_arg(args, "drop-log", "NETWORK_POLICY_DROP_LOG");
  if (!drop_log) return fail(drop_log.error());
  if (drop_log->value_or(true)) o.drops.emplace();
  return o;
}

// The options of the policy and drop-log steps that run, before the first step: a bad value is
// a usage error before anything is installed or applied. The namespace is read when a step
// first uses the cluster, so that a bad kubeconfig is detection's failure, with its reports.
Result<void> read_step_options(const po::variables_map& args, Context& ctx,
                               pipeline::RunOptions& o) {
  if (o.apply) {
    auto apply = read_apply_options(args, ctx, NamespaceWhen::later);
    if (!apply) return fail(apply.error());
    apply->mode = o.mode; // the run decides about --require-enforcement itself
    o.apply = std::move(*apply);
  }
  if (o.drops) {
    auto drops = read_drops_options(args, ctx, NamespaceWhen::later);
    if (!drops) return fail(drops.error());
    o.drops_namespace_from_context =
        !args["all-namespaces"].as<bool>() && drops->namespaces.empty();
    o.drops = std::move(*drops);
  }
  return {};
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

Result<int> run_run(const po::variables_map& args, Context& ctx) {
  auto options = read_switches(args);
  if (!options) return fail(options.error());
  const auto session = ctx.session();
  pipeline::owe_reports(*options, session);
  if (auto read = read_step_options(args, ctx, *options); !read) return fail(read.error());
  pipeline::RunSite site{.cilium = cilium_site(ctx),
                         .namespace_name = [&ctx] { return ctx.namespace_name(); },
                         .hints = {},
                         .env = ctx.env()};
  if (auto config = ctx.kube_config()) { // fails later, in kube(), when it cannot be read
    site.hints.context_name = (*config)->context_name;
  }
  return pipeline::run(*options, site, session);
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
  for (const auto& binding : evidence_env())
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
