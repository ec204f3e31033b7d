// The drop log as one step (SPEC §8): read the flows, keep the dropped and audited ones of
// the window, and write every view of them. `drops` and `run` both call collect_drops().
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "droplog/collector.hpp"
#include "droplog/previous.hpp"
#include "kube/api.hpp"
#include "report/session.hpp"
#include "util/error.hpp"

namespace netpol::droplog {

struct DropsOptions {
  std::string from_file;               // --from-file; "" = the Cilium agents' logs, "-" = stdin
  std::optional<int64_t> since_ns;     // the window's start; none = all of a file
  bool since_given = false;            // --since or NETPOL_SINCE, not a default
  std::vector<std::string> namespaces; // flows of these namespaces; empty = all
  bool fail_on_drops = false;          // carried into the outcome for the caller's check
  bool fail_on_new_drops = false;      // the same, for --fail-on-new-drops
  PreviousSource previous;             // the previous run's summary to mark new rows against
  // previous.kind == file: the file, already read (by the caller, so a bad one fails first)
  std::optional<Previous> previous_file;
  // Where to list the agents: only there (--cilium-namespace), or in every namespace and,
  // when the token may not, in `agents_namespace` ("" = kube-system).
  std::optional<std::string> cilium_namespace;
  std::string agents_namespace;
  bool print = true; // the table (or JSON, with --format json) on the results stream
};

struct DropsOutcome {
  DropCounts counts;
  size_t rows = 0;      // aggregated rows
  uint64_t dropped = 0; // flows with verdict DROPPED
  uint64_t audited = 0; // flows with verdict AUDIT (would have been dropped)
  bool fail_on_drops = false;
  bool fail_on_new_drops = false;
  std::string source; // what was read ("3 cilium agents", a file name)
  // Compared with a previous run (options.previous): the rows not in it, and the line that
  // says so (previous_line). new_rows is empty when new-ness is unknown, `previous` then
  // says why.
  bool compared = false;
  std::optional<size_t> new_rows;
  std::string previous;
};

// The files the drop log writes (SPEC §5), on every way out; junit-drops.xml besides.
inline constexpr std::initializer_list<const char*> k_drop_reports = {
    "drop-log.jsonl",    "drop-log.txt",          "drop-log.html",
    "drop-summary.json", "suggested-policy.yaml", "flows-summary.json"};

// --since / NETPOL_SINCE: an RFC 3339 time (not in the future, not before 2000), or a duration
// back from now of at most 366 days; nanoseconds since the epoch. ErrorCode::usage naming
// `what` otherwise.
Result<int64_t> parse_since(const std::string& text, const std::string& what);

// Reads the flows (the Cilium agents' logs through `api`, or options.from_file, when `api`
// may be null), writes every view of the drop log into session.output (drop-log.jsonl/.txt/
// .html, drop-summary.json, suggested-policy.yaml, flows-summary.json; junit-drops.xml's
// cases into session.reports) and, with options.print, the table (or JSON) to session.out.
// Fails when the source cannot be read at all or an output cannot be written; the views are
// written first either way.
Result<DropsOutcome> collect_drops(const DropsOptions& options, const report::Session& session,
                                   kube::KubeApi* api);

// --fail-on-new-drops on a collected drop log: 0, or the exit code of the failed check (4)
// when rows are new since the previous run (without a previous summary every row counts).
// When the previous summary could not be read no row can be shown not to be new: an error
// (exit 1), for the caller to return after every report is written. Adds its case to `junit`
// (classname `classname`) when given.
Result<int> check_new_drops(const DropsOutcome& outcome, report::Reporter& reporter,
                            report::JUnitReport* junit = nullptr,
                            const std::string& classname = "netpol.drops");

} // namespace netpol::droplog
