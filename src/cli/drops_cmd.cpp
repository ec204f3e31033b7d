#include "cli/drops_cmd.hpp"

#include <chrono>
#include <future>
#include <memory>

#include <fmt/format.h>

#include "droplog/cluster_source.hpp"
#include "droplog/collector.hpp"
#include "droplog/source.hpp"
#include "droplog/suggest.hpp"
#include "droplog/timestamp.hpp"
#include "droplog/views.hpp"
#include "util/duration.hpp"

namespace netpol::cli {
namespace {

using droplog::DropSummary;

struct DropsOptions {
  std::string from_file; // "" = the cluster
  std::optional<int64_t> since_ns;
  bool since_given = false;            // --since or NETPOL_SINCE, not a default
  std::vector<std::string> namespaces; // empty = all
  bool fail_on_drops = false;
};

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// How far back a duration may reach: agents' logs are rotated long before a year, and a
// window from 1725 (--since 99999999h) is a typo, not a wish. A time is taken as given (a
// recorded log may be old), but not before 2000 or in the future.
constexpr int64_t k_max_since_duration_ms = 366LL * 24 * 3600 * 1000;
constexpr int64_t k_earliest_since_ns = 946'684'800LL * 1'000'000'000; // 2000-01-01T00:00:00Z

// --since / NETPOL_SINCE: an RFC 3339 time, or a duration back from now of at most 366 days.
Result<int64_t> parse_since(const std::string& text, const std::string& what) {
  if (auto t = droplog::parse_rfc3339(text)) {
    if (*t > now_ns() + 60'000'000'000LL) {
      return fail(ErrorCode::usage, fmt::format("{}: '{}' is in the future", what, text));
    }
    if (*t < k_earliest_since_ns) {
      return fail(
          ErrorCode::usage,
          fmt::format("{}: '{}' is before 2000: give the time the window starts", what, text));
    }
    return *t;
  }
  auto d = parse_duration(text, what);
  const bool too_long = d ? d->count() > k_max_since_duration_ms
                          : d.error().message.find("too long") != std::string::npos;
  if (too_long) {
    return fail(ErrorCode::usage,
                fmt::format("{}: '{}' reaches back more than 366 days: give a shorter duration "
                            "(e.g. 2h) or the time the window starts",
                            what, text));
  }
  if (!d) {
    // "30": the duration's own message says what is missing.
    if (d.error().message.find("has no unit") != std::string::npos) return fail(d.error());
    return fail(ErrorCode::usage,
                fmt::format("{}: invalid time '{}': use RFC 3339 (2026-11-26T10:00:00Z) or a "
                            "duration (30m, 2h)",
                            what, text));
  }
  return now_ns() - std::chrono::duration_cast<std::chrono::nanoseconds>(*d).count();
}

Result<DropsOptions> read_options(const po::variables_map& args, Context& ctx) {
  DropsOptions o;
  if (args.count("from-file")) o.from_file = args["from-file"].as<std::string>();
  if (args.count("since")) {
    auto since = parse_since(args["since"].as<std::string>(), "--since");
    if (!since) return fail(since.error());
    o.since_ns = *since;
    o.since_given = true;
  } else if (auto created = ctx.getenv("CI_PIPELINE_CREATED_AT"); created && !created->empty()) {
    auto t = droplog::parse_rfc3339(*created);
    if (!t) {
      return fail(ErrorCode::config,
                  "CI_PIPELINE_CREATED_AT: invalid time '" + *created + "': expected RFC 3339");
    }
    o.since_ns = *t;
  } else if (o.from_file.empty()) {
    // Reading the cluster: the agents' logs reach back days; default to the last hour.
    o.since_ns = now_ns() - std::chrono::nanoseconds(std::chrono::hours(1)).count();
  }
  if (!args["all-namespaces"].as<bool>()) {
    // A file needs no kubeconfig: its namespace is -n/KUBE_NAMESPACE or "default".
    const auto& ns = ctx.global().namespace_name;
    if (!o.from_file.empty() || !ns.empty()) {
      o.namespaces = {ns.empty() ? std::string("default") : ns};
    } else {
      auto from_context = ctx.namespace_name();
      if (!from_context) return fail(from_context.error());
      o.namespaces = {*from_context};
    }
  }
  if (args.count("fail-on-drops")) {
    auto b = parse_bool(args["fail-on-drops"].as<std::string>(), "--fail-on-drops");
    if (!b) return fail(b.error());
    o.fail_on_drops = *b;
  }
  return o;
}

// Writes every view of the drop log, each streamed to its file row by row (the rows are
// the only copy of the data in memory); the first failure (in file order) is returned after
// trying all. The views only read the rows, so they are written on two threads: the largest
// (drop-summary.json) and the policies on a second one, the table views on this one.
Result<void> write_views(const DropSummary& summary, Context& ctx) {
  const auto& dir = ctx.output().path();
  auto stream = [&](const char* name, auto&& produce) -> Result<void> {
    auto file = droplog::FileWriter::open(dir / name);
    if (!file) return fail(file.error());
    produce(file->sink());
    auto committed = file->commit();
    if (committed) ctx.output().note_written(name);
    return committed;
  };
  Result<void> json = {};
  Result<void> policies = {};
  auto write_second = [&] {
    json = stream("drop-summary.json",
                  [&](const droplog::TextSink& out) { droplog::write_summary_json(summary, out); });
    policies = stream("suggested-policy.yaml", [&](const droplog::TextSink& out) {
      out(droplog::suggestion_to_yaml(droplog::suggest_policies(summary.rows, summary.namespaces)));
    });
  };
  // async|deferred: on a thread of its own, or run at get() when no thread can be had; the
  // future waits for it whatever happens here.
  auto second = std::async(std::launch::async | std::launch::deferred, write_second);
  auto text = stream("drop-log.txt",
                     [&](const droplog::TextSink& out) { droplog::write_text(summary, out); });
  auto html = stream("drop-log.html",
                     [&](const droplog::TextSink& out) { droplog::write_html(summary, out); });
  auto& junit = ctx.reports().junit("drops"); // written by the dispatcher
  const auto cases = droplog::render_junit(summary);
  for (const auto& c : cases.cases())
    junit.add(c);
  second.get();
  for (auto* r : {&json, &text, &html, &policies})
    if (!*r) return *r;
  return {};
}

} // namespace

// The table in the job log stops here; drop-log.txt has every row.
constexpr size_t k_stdout_max_rows = 200;

Result<DropsOutcome> drops_step(const po::variables_map& args, Context& ctx, bool print,
                                const std::string& agents_namespace) {
  ctx.reports().junit("drops");
  ctx.reports().owe(k_drop_reports);
  auto opts = read_options(args, ctx);
  if (!opts) return fail(opts.error());

  std::unique_ptr<droplog::DropSource> source;
  if (!opts->from_file.empty()) {
    source = std::make_unique<droplog::FileSource>(opts->from_file);
  } else {
    auto api = ctx.kube();
    if (!api) return fail(api.error());
    droplog::ClusterSourceOptions source_options;
    if (opts->since_ns) source_options.since_time = droplog::format_rfc3339(*opts->since_ns);
    // `run` shares --cilium-namespace with the install; where it is not given, the agents are
    // looked for in every namespace, else (a Role only there) where detection found them.
    if (args.count("cilium-namespace")) {
      source_options.namespace_name = args["cilium-namespace"].as<std::string>();
    } else if (!agents_namespace.empty()) {
      source_options.fallback_namespace = agents_namespace;
    }
    source = std::make_unique<droplog::ClusterSource>(**api, std::move(source_options));
  }

  auto jsonl = droplog::JsonlWriter::open(ctx.output().path() / "drop-log.jsonl");
  if (!jsonl) return fail(jsonl.error());
  droplog::DropFilter filter{opts->namespaces, opts->since_ns, std::nullopt};
  droplog::DropCollector collector(std::move(filter),
                                   [&](std::string_view json) { jsonl->write(json); });

  auto phase = ctx.reporter().phase("Collecting dropped and audited flows");
  auto read = source->read([&](std::string_view line) { collector.add_line(line); });
  auto committed = jsonl->commit();
  if (committed) ctx.output().note_written("drop-log.jsonl");

  DropSummary summary;
  summary.since = opts->since_ns                 ? droplog::format_rfc3339(*opts->since_ns)
                  : collector.earliest_ns() != 0 ? droplog::format_rfc3339(collector.earliest_ns())
                                                 : "";
  constexpr int64_t k_second = 1'000'000'000;
  summary.until = droplog::format_rfc3339(now_ns() / k_second * k_second);
  summary.namespaces = opts->namespaces;
  summary.counts = collector.counts();
  if (read) summary.coverage = read->coverage;
  if (!opts->from_file.empty() && opts->since_given && collector.oldest_read_ns() != 0) {
    // A file is read whole: the same rule as for an agent's log, with its oldest flow. Only
    // against a window given explicitly (a default one says nothing about the file).
    summary.coverage.push_back(droplog::Coverage{
        .source = read ? read->description : opts->from_file,
        .oldest_ns = collector.oldest_read_ns(),
        .previous_log = false,
        .gap = collector.oldest_read_ns() > *opts->since_ns,
    });
  }
  summary.rows = collector.take_rows();
  auto written = write_views(summary, ctx);

  if (!read) {
    phase.failed(read.error().message);
    return fail(read.error());
  }
  for (const auto& w : read->warnings)
    ctx.reporter().warn(w);
  if (const auto gaps = droplog::coverage_gaps(summary); !gaps.empty()) {
    // The job log says it too: the drop log may be incomplete.
    constexpr size_t k_gaps_warned = 10;
    for (size_t i = 0; i < gaps.size() && i < k_gaps_warned; ++i)
      ctx.reporter().warn("drop log coverage: " + gaps[i]);
    if (gaps.size() > k_gaps_warned) {
      ctx.reporter().warn(fmt::format("drop log coverage: {} more sources do not reach back to "
                                      "the window's start (see drop-summary.json)",
                                      gaps.size() - k_gaps_warned));
    }
  }
  if (!committed) return fail(committed.error());
  if (!written) return fail(written.error());
  if (summary.counts.lines_malformed != 0) {
    ctx.reporter().warn(fmt::format("{} malformed line(s) in {} were skipped",
                                    summary.counts.lines_malformed, read->description));
  }
  phase.done(fmt::format("{} flows in {} rows from {} ({} lines)", summary.counts.flows_matched,
                         summary.rows.size(), read->description, summary.counts.lines_read));

  const droplog::TextSink to_stdout = [&](std::string_view text) { ctx.out() << text; };
  if (print && ctx.global().format == OutputFormat::json) {
    droplog::write_summary_json(summary, to_stdout);
  } else if (print) {
    droplog::write_text(summary, to_stdout, k_stdout_max_rows);
  }
  DropsOutcome outcome;
  outcome.counts = summary.counts;
  outcome.rows = summary.rows.size();
  for (const auto& row : summary.rows)
    (row.verdict == "AUDIT" ? outcome.audited : outcome.dropped) += row.count;
  outcome.fail_on_drops = opts->fail_on_drops;
  outcome.source = read->description;
  return outcome;
}

namespace {

Result<int> run_drops(const po::variables_map& args, Context& ctx) {
  auto outcome = drops_step(args, ctx, true);
  if (!outcome) return fail(outcome.error());
  if (outcome->fail_on_drops && outcome->rows != 0) {
    ctx.reporter().warn(
        fmt::format("--fail-on-drops: {} dropped or audited flows", outcome->counts.flows_matched));
    return exit_code(ErrorCode::check_failed);
  }
  return 0;
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
     "exit 4 when flows were dropped or audited [NETWORK_POLICY_FAIL_ON_DROPS]");
  // clang-format on
}

Command drops_command() {
  return Command{
      .name = "drops",
      .summary = "collect dropped and audited flows into the drop log",
      .usage = "drops [--from-file PATH|-] [--since TIME|DURATION] [-A] [--fail-on-drops] "
               "[--cilium-namespace NS]",
      .help = "Reads Hubble flow events (the Cilium agents' exporter output, or a file with\n"
              "--from-file), keeps DROPPED and AUDIT flows whose source or destination is in\n"
              "the namespace (-n, or every namespace with -A) and writes drop-log.jsonl,\n"
              "drop-log.txt, drop-log.html, drop-summary.json, junit-drops.xml and\n"
              "suggested-policy.yaml to the output directory. The table is also printed.\n"
              "Without --from-file, the cilium-agent container logs of every Cilium agent pod\n"
              "(label k8s-app=cilium) are read from --since on, all pods at once; the pods\n"
              "are listed in every namespace, or only in --cilium-namespace (a token that may\n"
              "list pods only in kube-system is served from there: examples/rbac/drops.yaml).\n\n"
              "Examples:\n"
              "  netpol drops --from-file hubble-export.jsonl -n shop\n"
              "  hubble observe -o jsonpb --verdict DROPPED | netpol drops --from-file - -A\n"
              "  netpol drops -n shop --since 30m --fail-on-drops",
      .needs_cluster = false, // not with --from-file; otherwise the client is built on use
      .describe = describe,
      .env = {{"since", "NETPOL_SINCE"},
              {"fail-on-drops", "NETWORK_POLICY_FAIL_ON_DROPS"},
              {"cilium-namespace", "CILIUM_NAMESPACE"}},
      .run = run_drops,
  };
}

} // namespace netpol::cli
