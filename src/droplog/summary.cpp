#include "droplog/summary.hpp"

#include <chrono>
#include <future>
#include <memory>

#include <fmt/format.h>

#include "droplog/cluster_source.hpp"
#include "droplog/flows_summary.hpp"
#include "droplog/source.hpp"
#include "droplog/suggest.hpp"
#include "droplog/views.hpp"
#include "report/atomic_file.hpp"
#include "util/duration.hpp"
#include "util/time.hpp"

namespace netpol::droplog {
namespace {

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

// The table in the job log stops here; drop-log.txt has every row.
constexpr size_t k_stdout_max_rows = 200;

// Writes every view of the drop log, each streamed to its file row by row (the rows are
// the only copy of the data in memory); the first failure (in file order) is returned after
// trying all. The views only read the rows, so they are written on two threads: the largest
// (drop-summary.json) and the policies on a second one, the table views and
// flows-summary.json (every connection attempt, any verdict) on this one.
Result<void> write_views(const DropSummary& summary, const ConnectionAggregator& connections,
                         const report::Session& session) {
  const auto& dir = session.output.path();
  auto stream = [&](const char* name, auto&& produce) -> Result<void> {
    auto file = report::AtomicFile::open(dir / name);
    if (!file) return fail(file.error());
    produce(file->sink());
    auto committed = file->commit();
    if (committed) session.output.note_written(name);
    return committed;
  };
  Result<void> json = {};
  Result<void> policies = {};
  auto write_second = [&] {
    json =
        stream("drop-summary.json", [&](const TextSink& out) { write_summary_json(summary, out); });
    policies = stream("suggested-policy.yaml", [&](const TextSink& out) {
      out(suggestion_to_yaml(suggest_policies(summary.rows, summary.namespaces)));
    });
  };
  // async|deferred: on a thread of its own, or run at get() when no thread can be had; the
  // future waits for it whatever happens here.
  auto second = std::async(std::launch::async | std::launch::deferred, write_second);
  auto text = stream("drop-log.txt", [&](const TextSink& out) { write_text(summary, out); });
  auto html = stream("drop-log.html", [&](const TextSink& out) { write_html(summary, out); });
  auto flows = stream("flows-summary.json",
                      [&](const TextSink& out) { write_flows_summary(summary, connections, out); });
  auto& junit = session.reports.junit("drops"); // written by the dispatcher
  const auto cases = render_junit(summary);
  for (const auto& c : cases.cases())
    junit.add(c);
  second.get();
  for (auto* r : {&json, &text, &html, &policies, &flows})
    if (!*r) return *r;
  return {};
}

std::unique_ptr<DropSource> make_source(const DropsOptions& o, kube::KubeApi* api) {
  if (!o.from_file.empty()) return std::make_unique<FileSource>(o.from_file);
  ClusterSourceOptions source_options;
  if (o.since_ns) source_options.since_time = format_rfc3339(*o.since_ns);
  // `run` shares --cilium-namespace with the install; where it is not given, the agents are
  // looked for in every namespace, else (a Role only there) where detection found them.
  if (o.cilium_namespace) {
    source_options.namespace_name = *o.cilium_namespace;
  } else if (!o.agents_namespace.empty()) {
    source_options.fallback_namespace = o.agents_namespace;
  }
  return std::make_unique<ClusterSource>(*api, std::move(source_options));
}

} // namespace

Result<int64_t> parse_since(const std::string& text, const std::string& what) {
  if (auto t = parse_rfc3339(text)) {
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

Result<DropsOutcome> collect_drops(const DropsOptions& opts, const report::Session& session,
                                   kube::KubeApi* api) {
  if (opts.from_file.empty() && api == nullptr) {
    return fail(ErrorCode::internal, "the drop log needs a cluster or a file to read");
  }
  const auto source = make_source(opts, api);
  // The previous run's summary first: a bad file is the user's to fix before anything runs;
  // the artifact is only ever a warning.
  std::optional<Previous> previous = opts.previous_file;
  if (!previous && opts.previous.kind != PreviousSource::Kind::none) {
    auto loaded = load_previous(opts.previous);
    if (!loaded) return fail(loaded.error());
    previous = std::move(*loaded);
  }

  auto jsonl = report::AtomicFile::open(session.output.path() / "drop-log.jsonl");
  if (!jsonl) return fail(jsonl.error());
  DropFilter filter{opts.namespaces, opts.since_ns, std::nullopt};
  DropCollector collector(
      std::move(filter),
      [&](std::string_view json) {
        jsonl->write(json);
        jsonl->write("\n");
      },
      /*connections=*/true);

  auto phase = session.reporter.phase("Collecting dropped and audited flows");
  auto read = source->read([&](std::string_view line) { collector.add_line(line); });
  auto committed = jsonl->commit();
  if (committed) session.output.note_written("drop-log.jsonl");

  DropSummary summary;
  summary.since = opts.since_ns                  ? format_rfc3339(*opts.since_ns)
                  : collector.earliest_ns() != 0 ? format_rfc3339(collector.earliest_ns())
                                                 : "";
  constexpr int64_t k_second = 1'000'000'000;
  summary.until = format_rfc3339(now_ns() / k_second * k_second);
  summary.namespaces = opts.namespaces;
  summary.counts = collector.counts();
  if (read) summary.coverage = read->coverage;
  if (!opts.from_file.empty() && opts.since_given && collector.oldest_read_ns() != 0) {
    // A file is read whole: the same rule as for an agent's log, with its oldest flow. Only
    // against a window given explicitly (a default one says nothing about the file).
    summary.coverage.push_back(Coverage{
        .source = read ? read->description : opts.from_file,
        .oldest_ns = collector.oldest_read_ns(),
        .previous_log = false,
        .gap = collector.oldest_read_ns() > *opts.since_ns,
    });
  }
  summary.rows = collector.take_rows();
  if (previous) mark_new_rows(summary, *previous);
  auto written = write_views(summary, collector.connections(), session);

  if (!read) {
    phase.failed(read.error().message);
    return fail(read.error());
  }
  for (const auto& w : read->warnings)
    session.reporter.warn(w);
  if (const auto gaps = coverage_gaps(summary); !gaps.empty()) {
    // The job log says it too: the drop log may be incomplete.
    constexpr size_t k_gaps_warned = 10;
    for (size_t i = 0; i < gaps.size() && i < k_gaps_warned; ++i)
      session.reporter.warn("drop log coverage: " + gaps[i]);
    if (gaps.size() > k_gaps_warned) {
      session.reporter.warn(fmt::format("drop log coverage: {} more sources do not reach back "
                                        "to the window's start (see drop-summary.json)",
                                        gaps.size() - k_gaps_warned));
    }
  }
  if (!committed) return fail(committed.error());
  if (!written) return fail(written.error());
  if (summary.counts.lines_malformed != 0) {
    session.reporter.warn(fmt::format("{} malformed line(s) in {} were skipped",
                                      summary.counts.lines_malformed, read->description));
  }
  phase.done(fmt::format("{} flows in {} rows from {} ({} lines)", summary.counts.flows_matched,
                         summary.rows.size(), read->description, summary.counts.lines_read));

  if (summary.previous) {
    const std::string line = previous_line(summary);
    if (summary.marks_new())
      session.reporter.info(line);
    else
      session.reporter.warn(line);
  }

  const TextSink to_stdout = [&](std::string_view text) { session.out << text; };
  if (opts.print && session.format == report::Format::json) {
    write_summary_json(summary, to_stdout);
  } else if (opts.print) {
    write_text(summary, to_stdout, k_stdout_max_rows);
  }
  DropsOutcome outcome;
  outcome.counts = summary.counts;
  outcome.rows = summary.rows.size();
  for (const auto& row : summary.rows)
    (row.verdict == "AUDIT" ? outcome.audited : outcome.dropped) += row.count;
  outcome.fail_on_drops = opts.fail_on_drops;
  outcome.fail_on_new_drops = opts.fail_on_new_drops;
  if (summary.previous) {
    outcome.compared = true;
    if (summary.marks_new()) outcome.new_rows = summary.new_rows;
    outcome.previous = previous_line(summary);
  }
  outcome.source = read->description;
  return outcome;
}

Result<int> check_new_drops(const DropsOutcome& outcome, report::Reporter& reporter,
                            report::JUnitReport* junit, const std::string& classname) {
  if (!outcome.fail_on_new_drops) return 0;
  const std::string name = "no new dropped or audited flows";
  if (outcome.compared && !outcome.new_rows) {
    // Fail closed: a previous summary that could not be read cannot show a row is known.
    const std::string message =
        "--fail-on-new-drops: cannot tell which rows are new: " + outcome.previous;
    if (junit != nullptr) junit->add({classname, name, report::CaseStatus::failed, message, "", 0});
    return fail(ErrorCode::io, message);
  }
  size_t fresh = outcome.new_rows.value_or(outcome.rows);
  if (!outcome.compared && outcome.rows != 0) {
    reporter.warn("--fail-on-new-drops: no previous run's drop summary to compare with "
                  "(--previous-summary none): every row counts as new");
  }
  std::string message;
  if (fresh != 0) {
    message = fmt::format("--fail-on-new-drops: {} of {} rows {} new since the previous run (see "
                          "drop-log.txt)",
                          fresh, outcome.rows, fresh == 1 ? "is" : "are");
  }
  if (junit != nullptr) {
    junit->add({classname, name,
                fresh != 0 ? report::CaseStatus::failed : report::CaseStatus::passed, message, "",
                0});
  }
  if (fresh == 0) return 0;
  reporter.warn(message);
  return exit_code(ErrorCode::check_failed);
}

} // namespace netpol::droplog
