#include "cli/drops_cmd.hpp"

#include <chrono>

#include <fmt/format.h>

#include "util/time.hpp"

namespace netpol::cli {
namespace {

using droplog::DropsOptions;
using droplog::parse_since;

} // namespace

Result<DropsOptions> read_drops_options(const po::variables_map& args, Context& ctx,
                                        NamespaceWhen when) {
  DropsOptions o;
  if (args.count("from-file")) o.from_file = args["from-file"].as<std::string>();
  if (args.count("since")) {
    auto since = parse_since(args["since"].as<std::string>(), "--since");
    if (!since) return fail(since.error());
    o.since_ns = *since;
    o.since_given = true;
  } else if (auto created = ctx.getenv("CI_PIPELINE_CREATED_AT"); created && !created->empty()) {
    auto t = parse_rfc3339(*created);
    if (!t) {
      return fail(ErrorCode::config,
                  "CI_PIPELINE_CREATED_AT: invalid time '" + *created + "': expected RFC 3339");
    }
    o.since_ns = *t;
  } else if (o.from_file.empty()) {
    // Reading the cluster: the agents' logs reach back days; default to the last hour.
    const auto an_hour_ago = std::chrono::system_clock::now() - std::chrono::hours(1);
    o.since_ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(an_hour_ago.time_since_epoch())
            .count();
  }
  if (args.count("fail-on-drops")) {
    auto b = parse_bool(args["fail-on-drops"].as<std::string>(), "--fail-on-drops");
    if (!b) return fail(b.error());
    o.fail_on_drops = *b;
  }
  if (args.count("fail-on-new-drops")) {
    auto b = parse_bool(args["fail-on-new-drops"].as<std::string>(), "--fail-on-new-drops");
    if (!b) return fail(b.error());
    o.fail_on_new_drops = *b;
  }
  const bool given = args.count("previous-summary") != 0;
  auto previous =
      droplog::previous_source(given ? args["previous-summary"].as<std::string>() : std::string(),
                               given, ctx.global().output_dir, ctx.env());
  if (!previous) return fail(previous.error());
  o.previous = std::move(*previous);
  if (o.previous.kind == droplog::PreviousSource::Kind::file) {
    // A file given is read with the options: a bad one is the user's to fix (exit 2) before
    // anything runs.
    auto loaded = droplog::load_previous(o.previous);
    if (!loaded) return fail(loaded.error());
    o.previous_file = std::move(*loaded);
  }
  if (args.count("cilium-namespace")) {
    o.cilium_namespace = args["cilium-namespace"].as<std::string>();
  }
  if (!args["all-namespaces"].as<bool>()) {
    // Last, so that every flag is checked before the kubeconfig is read. A file needs no
    // kubeconfig: its namespace is -n/KUBE_NAMESPACE or "default".
    const auto& ns = ctx.global().namespace_name;
    if (!o.from_file.empty() || !ns.empty()) {
      o.namespaces = {ns.empty() ? std::string("default") : ns};
    } else if (when == NamespaceWhen::now) {
      auto from_context = ctx.namespace_name();
      if (!from_context) return fail(from_context.error());
      o.namespaces = {*from_context};
    }
  }
  return o;
}

namespace {

Result<int> run_drops(const po::variables_map& args, Context& ctx) {
  ctx.reports().junit("drops");
  ctx.reports().owe(k_drop_reports);
  auto options = read_drops_options(args, ctx);
  if (!options) return fail(options.error());
  kube::KubeApi* api = nullptr;
  if (options->from_file.empty()) {
    auto cluster = ctx.kube();
    if (!cluster) return fail(cluster.error());
    api = *cluster;
  }
  auto outcome = droplog::collect_drops(*options, ctx.session(), api);
  if (!outcome) return fail(outcome.error());
  if (outcome->fail_on_drops && outcome->rows != 0) {
    ctx.reporter().warn(
        fmt::format("--fail-on-drops: {} dropped or audited flows", outcome->counts.flows_matched));
    return exit_code(ErrorCode::check_failed);
  }
  return droplog::check_new_drops(*outcome, ctx.reporter());
}

void describe(po::options_description& options, po::positional_options_description&) {
  describe_drops_options(options);
  // clang-format off
  options.add_options()
    ("cilium-namespace", po::value<std::string>()->value_name("NS"),
     "where the Cilium agents run: list their pods only there (default: every namespace, "
     "else kube-system) [CILIUM_NAMESPACE]");
  // clang-format on
}

} // namespace

void describe_drops_options(po::options_description& options) {
  // clang-format off
  options.add_options()
    ("from-file", po::value<std::string>()->value_name("PATH|-"),
     "read a Hubble export or `hubble observe -o jsonpb` output instead of the cluster "
     "(- = standard input)")
    ("since", po::value<std::string>()->value_name("TIME|DURATION"),
     "start of the window: RFC 3339 time or a duration back from now [NETPOL_SINCE; "
     "default CI_PIPELINE_CREATED_AT, else 1h; all of a file]")
    ("all-namespaces,A", po::bool_switch(), "keep flows of every namespace")
    ("fail-on-drops", po::value<std::string>()->value_name("BOOL")->implicit_value("true"),
     "exit 4 when flows were dropped or audited [NETWORK_POLICY_FAIL_ON_DROPS]")
    ("previous-summary", po::value<std::string>()->value_name("FILE|auto|none"),
     "mark the rows not in a previous run's drop-summary.json as new; auto: the previous "
     "successful run of this job, from the project's job artifacts with CI_JOB_TOKEN "
     "[NETPOL_PREVIOUS_SUMMARY; default auto in a GitLab job, else none]")
    ("fail-on-new-drops", po::value<std::string>()->value_name("BOOL")->implicit_value("true"),
     "exit 4 only when rows are new since the previous run (--previous-summary); exit 1 "
     "when the previous summary cannot be read [NETWORK_POLICY_FAIL_ON_NEW_DROPS]");
  // clang-format on
}

Command drops_command() {
  return Command{
      .name = "drops",
      .summary = "collect dropped and audited flows into the drop log",
      .usage = "drops [--from-file PATH|-] [--since TIME|DURATION] [-A] [--fail-on-drops] "
               "[--previous-summary FILE|auto|none] [--fail-on-new-drops] "
               "[--cilium-namespace NS]",
      .help = "Reads Hubble flow events (the Cilium agents' exporter output, or a file with\n"
              "--from-file), keeps DROPPED and AUDIT flows whose source or destination is in\n"
              "the namespace (-n, or every namespace with -A) and writes drop-log.jsonl,\n"
              "drop-log.txt, drop-log.html, drop-summary.json, junit-drops.xml and\n"
              "suggested-policy.yaml to the output directory, and flows-summary.json: every\n"
              "connection attempt seen (any verdict, FORWARDED too) by workload, the evidence\n"
              "`analyze --flows` reads. The table is also printed.\n"
              "Without --from-file, the cilium-agent container logs of every Cilium agent pod\n"
              "(label k8s-app=cilium) are read from --since on, all pods at once; the pods\n"
              "are listed in every namespace, or only in --cilium-namespace (a token that may\n"
              "list pods only in kube-system is served from there: examples/rbac/drops.yaml).\n"
              "With a previous run's drop-summary.json (--previous-summary; in a GitLab job the\n"
              "previous successful run of the same job, from the project's artifacts), rows it\n"
              "did not have (same direction, source and destination workload, port and\n"
              "protocol) are marked new in every view; --fail-on-new-drops fails on them only.\n\n"
              "Examples:\n"
              "  netpol drops --from-file hubble-export.jsonl -n shop\n"
              "  hubble observe -o jsonpb --verdict DROPPED | netpol drops --from-file - -A\n"
              "  netpol drops -n shop --since 30m --fail-on-drops\n"
              "  netpol drops -n shop --since 24h --previous-summary last/drop-summary.json "
              "--fail-on-new-drops",
      .needs_cluster = false, // not with --from-file; otherwise the client is built on use
      .describe = describe,
      .env = {{"since", "NETPOL_SINCE"},
              {"fail-on-drops", "NETWORK_POLICY_FAIL_ON_DROPS"},
              {"previous-summary", "NETPOL_PREVIOUS_SUMMARY"},
              {"fail-on-new-drops", "NETWORK_POLICY_FAIL_ON_NEW_DROPS"},
              {"cilium-namespace", "CILIUM_NAMESPACE"}},
      .run = run_drops,
  };
}

} // namespace netpol::cli
