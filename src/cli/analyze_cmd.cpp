#include "cli/analyze_cmd.hpp"

#include <string>
#include <vector>

#include <fmt/format.h>

#include "analyze/analyze_step.hpp"
#include "cli/evidence_options.hpp"
#include "cli/policy_options.hpp"
#include "policy/check.hpp"
#include "policy/defaults.hpp"

namespace netpol::cli {
namespace {

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
  describe_evidence_options(options);
}

Result<analyze::AnalyzeOptions> read_options(const po::variables_map& args, Context& ctx) {
  analyze::AnalyzeOptions o;
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
    o.namespace_given = true;
  }
  if (!o.diff) {
    // NETPOL_FLOWS may be set for the whole pipeline: not an error for a plain matrix.
    if (args.count("flows"))
      ctx.reporter().warn("--flows checks a change: without --diff it is not used");
    return o;
  }
  auto evidence = read_evidence_options(args, ctx);
  if (!evidence) return fail(evidence.error());
  o.evidence = std::move(evidence->evidence);
  o.fail_on_breaking = evidence->fail_on_breaking;
  return o;
}

Result<int> run_analyze(const po::variables_map& args, Context& ctx) {
  auto& junit = ctx.reports().junit("analyze"); // written by the dispatcher
  ctx.reports().owe(analyze::k_analyze_reports);
  auto options = read_options(args, ctx);
  if (!options) return fail(options.error());
  analyze::AnalyzeServices services;
  services.connect = [&ctx] { return ctx.kube(); };
  services.cluster_namespace = [&ctx] { return ctx.namespace_name(); };
  services.check_policy_files = [&ctx](const std::vector<std::string>& paths,
                                       const std::string& default_namespace, const char* flag) {
    return policy::check_files(paths, default_namespace, ctx.env(), flag);
  };
  if (auto done = analyze::analyze_step(std::move(*options), services, ctx.session(), junit); !done)
    return fail(done.error());
  return 0;
}

} // namespace

Command analyze_command() {
  return Command{
      .name = "analyze",
      .summary = "connectivity matrix (which pod may reach which pod:port) under planned policies, "
                 "and its diff",
      .usage = "analyze (--pods-from FILE | --live) [--policies PATH...] [--port N [--protocol P]] "
               "[--diff [--base-policies PATH...] [--flows FILE... [--fail-on-breaking]]]",
      .help = "Computes which pod may open a connection to which pod on a port, under the planned\n"
              "NetworkPolicy and CiliumNetworkPolicy objects, for the pods and namespaces in\n"
              "--pods-from. Without --port, every port a policy names and one other port are\n"
              "analysed. With --diff, reports the pairs the planned policies newly deny or allow\n"
              "compared with --base-policies. Needs no cluster, except with --live: then pods,\n"
              "namespaces and the policies in force come from the cluster, --policies (if given)\n"
              "are applied over them, and --diff compares with the policies in force.\n\n"
              "With --flows (the traffic seen: Hubble flows, or netpol's drop-summary.json or\n"
              "flows-summary.json), every newly denied or allowed pair says how often its\n"
              "workloads were seen talking on the port, and the newly denied connections that\n"
              "were seen come first (\"will break\"); --fail-on-breaking exits 4 on them.\n\n"
              "Writes connectivity.txt, connectivity.json and junit-analyze.xml to the output\n"
              "directory. --format json prints one object with --port, an array of objects "
              "otherwise.\n\n"
              "Examples:\n"
              "  netpol analyze --pods-from pods.yaml --policies .gitlab/network-policies\n"
              "  netpol --format json analyze --pods-from pods.yaml --policies p/ --port 80\n"
              "  netpol analyze --pods-from pods.yaml --policies new/ --diff --base-policies old/\n"
              "  netpol -n shop analyze --live --policies .gitlab/network-policies --diff\n"
              "  netpol -n shop analyze --live --policies p/ --diff --flows drop-summary.json",
      .needs_cluster = false,
      .describe = describe,
      .env = {{"policies", "NETWORK_POLICY_PATH"},
              {"flows", "NETPOL_FLOWS"},
              {"fail-on-breaking", "NETWORK_POLICY_FAIL_ON_BREAKING"}},
      .run = run_analyze,
  };
}

} // namespace netpol::cli
