#include "cli/analyze_cmd.hpp"

#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "analyze/connectivity_file.hpp"
#include "analyze/input.hpp"
#include "analyze/live.hpp"
#include "analyze/output.hpp"
#include "cli/policy_options.hpp"
#include "policy/check.hpp"
#include "policy/defaults.hpp"
#include "policy/template.hpp"
#include "report/junit.hpp"

namespace netpol::cli {
namespace {

struct AnalyzeOptions {
  bool live = false;
  std::string pods_from;       // "" with --live: the cluster's pods
  bool policies_given = false; // --policies or NETWORK_POLICY_PATH
  std::vector<std::string> policies;
  std::vector<std::string> base_policies;
  bool diff = false;
  std::optional<analyze::PortProtocol> port;
  analyze::EngineOptions engine;
  std::string default_namespace = "default";
};

void describe(po::options_description& options, po::positional_options_description&) {
  // clang-format off
  options.add_options()
    ("live", po::bool_switch(),
     "read namespaces, pods and the policies in force from the cluster; --policies are then "
     "applied over them and --diff compares with them")
    ("pods-from", po::value<std::string>()->value_name("FILE"),
     "Namespace and Pod objects to analyse (multi-document YAML, or a List in YAML or JSON)")
    ("policies", po::value<std::vector<std::string>>()->multitoken()->value_name("PATH..."),
     policy_path_help("planned policy files or directories").c_str())
    ("port", po::value<int>()->value_name("N"),
     "analyse this port only (default: every port a policy names, plus one other port)")
    ("protocol", po::value<std::string>()->value_name("TCP|UDP|SCTP"),
     "protocol of --port (default TCP)")
    ("diff", po::bool_switch(), "compare with --base-policies: newly denied and newly allowed pairs")
    ("base-policies", po::value<std::vector<std::string>>()->multitoken()->value_name("PATH..."),
     "the policies in force now, for --diff (files or directories)")
    ("ipblock-matches-pods", po::value<std::string>()->value_name("true|false")->default_value("true"),
     "ipBlock peers also match pods whose IP is in the block (Kubernetes semantics)");
  // clang-format on
}

Result<AnalyzeOptions> read_options(const po::variables_map& args, const Context& ctx) {
  AnalyzeOptions o;
  o.live = args["live"].as<bool>();
  if (!args.count("pods-from") && !o.live) {
    return fail(ErrorCode::usage, "analyze needs --pods-from FILE (Namespace and Pod objects to "
                                  "analyse) or --live");
  }
  if (args.count("pods-from")) o.pods_from = args["pods-from"].as<std::string>();
  o.policies_given = args.count("policies") != 0;
  o.policies = o.policies_given ? args["policies"].as<std::vector<std::string>>()
                                : std::vector<std::string>{policy::defaults::k_policy_dir};
  o.diff = args["diff"].as<bool>();
  if (args.count("base-policies")) {
    o.base_policies = args["base-policies"].as<std::vector<std::string>>();
  }
  if (o.live && !o.base_policies.empty()) {
    return fail(ErrorCode::usage,
                "--base-policies cannot be used with --live: the policies in force are the base");
  }
  if (o.diff && !o.live && o.base_policies.empty()) {
    return fail(ErrorCode::usage,
                "--diff needs --base-policies PATH... (the policies in force) or --live");
  }
  if (!o.diff && !o.base_policies.empty()) {
    return fail(ErrorCode::usage, "--base-policies is only used with --diff");
  }
  if (args.count("protocol") && !args.count("port")) {
    return fail(ErrorCode::usage, "--protocol needs --port");
  }
  if (args.count("port")) {
    const int port = args["port"].as<int>();
    if (port < 1 || port > 65535) {
      return fail(ErrorCode::usage, fmt::format("--port {}: use a port between 1 and 65535", port));
    }
    analyze::PortProtocol pp{port, analyze::Protocol::tcp};
    if (args.count("protocol")) {
      auto protocol = analyze::parse_protocol(args["protocol"].as<std::string>());
      if (!protocol) {
        return fail(ErrorCode::usage, "--protocol '" + args["protocol"].as<std::string>() +
                                          "': use TCP, UDP or SCTP");
      }
      pp.protocol = *protocol;
    }
    o.port = pp;
  }
  auto matches =
      parse_bool(args["ipblock-matches-pods"].as<std::string>(), "--ipblock-matches-pods");
  if (!matches) return fail(matches.error());
  o.engine.ipblock_matches_pods = *matches;
  if (!ctx.global().namespace_name.empty()) {
    o.default_namespace = ctx.global().namespace_name;
  }
  return o;
}

// Everything the analysis reads, loaded before anything is computed.
struct AnalyzeInput {
  analyze::Cluster cluster;
  analyze::PolicySet planned;
  std::optional<analyze::PolicySet> base;
};

// What is analysed must be what apply would accept: the policy files are validated and
// linted as `netpol lint` does before anything is computed (an invalid policy is exit 3).
Result<void> check_policy_files(const std::vector<std::string>& paths,
                                const std::string& default_namespace, Context& ctx,
                                const char* flag) {
  const policy::TemplateVariables vars(ctx.env());
  policy::LoadOptions load;
  load.vars = &vars;
  policy::LintOptions lint;
  lint.default_namespace = default_namespace;
  const auto report = policy::check_policies(policy::load_policies(paths, load), lint);
  if (!report.has_errors()) return {};
  Error e = report.error();
  if (e.code != ErrorCode::invalid_policy) return fail(e.wrap(flag));
  const int errors = report.count(policy::Severity::error);
  for (const auto& f : report.findings) {
    if (f.severity != policy::Severity::error) continue;
    e.message =
        fmt::format("{}: {}{}", flag, f.text(),
                    errors > 1 ? fmt::format(" (and {} more: `netpol lint` lists them)", errors - 1)
                               : std::string());
    break;
  }
  return fail(std::move(e));
}

// Offline: pods from --pods-from, planned from --policies, base from --base-policies.
Result<void> load_offline(const AnalyzeOptions& o, AnalyzeInput& input, Context& ctx) {
  auto cluster = analyze::load_cluster(o.pods_from, o.default_namespace);
  if (!cluster) return fail(cluster.error());
  input.cluster = std::move(*cluster);
  auto planned = analyze::load_policies(o.policies, o.default_namespace);
  if (!planned) return fail(planned.error());
  if (auto ok = check_policy_files(o.policies, o.default_namespace, ctx, "--policies"); !ok)
    return ok;
  input.planned = std::move(*planned);
  if (o.diff) {
    auto base = analyze::load_policies(o.base_policies, o.default_namespace);
    if (!base) return fail(base.error());
    if (auto ok = check_policy_files(o.base_policies, o.default_namespace, ctx, "--base-policies");
        !ok)
      return ok;
    input.base = std::move(*base);
  }
  return {};
}

// --live: pods (unless --pods-from) and the policies in force from the cluster; --policies
// are applied over those; --diff compares with those.
Result<void> load_live(const AnalyzeOptions& o, Context& ctx, AnalyzeInput& input) {
  if (o.policies_given) {
    if (auto ok = check_policy_files(o.policies, o.default_namespace, ctx, "--policies"); !ok)
      return ok;
  }
  auto api = ctx.kube();
  if (!api) return fail(api.error());
  auto objects = analyze::list_live(**api);
  if (!objects) return fail(objects.error());
  if (o.pods_from.empty()) {
    auto cluster = analyze::cluster_from(*objects);
    if (!cluster) return fail(cluster.error());
    input.cluster = std::move(*cluster);
  } else {
    auto cluster = analyze::load_cluster(o.pods_from, o.default_namespace);
    if (!cluster) return fail(cluster.error());
    input.cluster = std::move(*cluster);
  }
  auto in_force = analyze::policies_from(objects->policies);
  if (!in_force) return fail(in_force.error());
  if (o.policies_given) {
    auto planned = analyze::load_policies(o.policies, o.default_namespace);
    if (!planned) return fail(planned.error());
    input.planned = analyze::overlay(*in_force, *planned);
  } else {
    input.planned = *in_force;
  }
  if (o.diff) input.base = std::move(*in_force);
  return {};
}

Result<AnalyzeInput> load_input(AnalyzeOptions& o, Context& ctx) {
  auto phase = ctx.reporter().phase(o.live ? "Reading pods and policies from the cluster"
                                           : "Loading pods and policies");
  AnalyzeInput input;
  if (o.live && ctx.global().namespace_name.empty()) {
    // Planned policies without a namespace go where they would be applied.
    auto ns = ctx.namespace_name();
    if (!ns) {
      phase.failed(ns.error().message);
      return fail(ns.error());
    }
    o.default_namespace = *ns;
  }
  auto loaded = o.live ? load_live(o, ctx, input) : load_offline(o, input, ctx);
  if (!loaded) {
    phase.failed(loaded.error().message);
    return fail(loaded.error());
  }
  auto count = [](size_t n, const char* one, const char* many) {
    return fmt::format("{} {}", n, n == 1 ? one : many);
  };
  phase.done(fmt::format(
      "{}, {}{}", count(input.cluster.pods().size(), "pod", "pods"),
      count(input.planned.policies.size(), "policy", "policies"),
      input.base ? ", " + count(input.base->policies.size(), "base policy", "base policies")
                 : std::string()));
  return input;
}

std::vector<std::string> all_warnings(const AnalyzeInput& input) {
  std::vector<std::string> out = input.planned.warnings;
  if (input.base) {
    for (const auto& w : input.base->warnings)
      out.push_back("base: " + w);
  }
  return out;
}

Result<int> run_analyze(const po::variables_map& args, Context& ctx) {
  auto& junit = ctx.reports().junit("analyze"); // written by the dispatcher
  ctx.reports().owe({"connectivity.txt", "connectivity.json"});
  auto fail_with_report = [&](const Error& error) -> Result<int> {
    report::TestCase c;
    c.classname = "netpol.analyze";
    c.name = "inputs are readable and valid";
    c.status = report::CaseStatus::error;
    c.message = error.message;
    junit.add(std::move(c));
    return fail(error);
  };

  auto options = read_options(args, ctx);
  if (!options) return fail(options.error());
  auto input = load_input(*options, ctx);
  if (!input) return fail_with_report(input.error());
  const auto warnings = all_warnings(*input);
  for (const auto& w : warnings)
    ctx.reporter().warn(w);

  auto phase = ctx.reporter().phase("Analysing connectivity");
  const auto results = analyze::analyze_ports(input->cluster, input->planned.policies,
                                              input->base ? &input->base->policies : nullptr,
                                              options->port, options->engine);
  phase.done(fmt::format("{} {}", results.size(), results.size() == 1 ? "port" : "ports"));

  const std::string text =
      analyze::to_text(input->cluster, results, input->planned.policies.size());
  analyze::add_junit_cases(junit, input->cluster, results, warnings);

  if (auto written = ctx.output().write("connectivity.txt", text); !written) {
    return fail(written.error());
  }
  auto written =
      analyze::write_connectivity_json(ctx.output().path() / "connectivity.json", input->cluster,
                                       results, {.connectivity = true, .diff = options->diff});
  if (!written) return fail(written.error());
  ctx.output().note_written("connectivity.json");

  if (ctx.global().format == OutputFormat::json) {
    analyze::write_json_results(ctx.out(), input->cluster, results,
                                {.connectivity = !options->diff, .diff = options->diff},
                                options->port.has_value());
  } else {
    ctx.out() << text;
  }
  return 0;
}

} // namespace

Command analyze_command() {
  return Command{
      .name = "analyze",
      .summary = "connectivity matrix (which pod may reach which pod:port) under planned policies, "
                 "and its diff",
      .usage = "analyze (--pods-from FILE | --live) [--policies PATH...] [--port N [--protocol P]] "
               "[--diff [--base-policies PATH...]]",
      .help = "Computes which pod may open a connection to which pod on a port, under the planned\n"
              "NetworkPolicy and CiliumNetworkPolicy objects, for the pods and namespaces in\n"
              "--pods-from. Without --port, every port a policy names and one other port are\n"
              "analysed. With --diff, reports the pairs the planned policies newly deny or allow\n"
              "compared with --base-policies. Needs no cluster, except with --live: then pods,\n"
              "namespaces and the policies in force come from the cluster, --policies (if given)\n"
              "are applied over them, and --diff compares with the policies in force.\n\n"
              "Writes connectivity.txt, connectivity.json and junit-analyze.xml to the output\n"
              "directory. --format json prints one object with --port, an array of objects "
              "otherwise.\n\n"
              "Examples:\n"
              "  netpol analyze --pods-from pods.yaml --policies .gitlab/network-policies\n"
              "  netpol --format json analyze --pods-from pods.yaml --policies p/ --port 80\n"
              "  netpol analyze --pods-from pods.yaml --policies new/ --diff --base-policies old/\n"
              "  netpol -n shop analyze --live --policies .gitlab/network-policies --diff",
      .needs_cluster = false,
      .describe = describe,
      .env = {{"policies", "NETWORK_POLICY_PATH"}},
      .run = run_analyze,
  };
}

} // namespace netpol::cli
