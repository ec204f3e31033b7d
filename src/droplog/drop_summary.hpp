// The drop log's data (SPEC §8.1): the window, the counts, how far back each source reaches
// and the aggregated rows, which every view of the drop log is written from.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "droplog/aggregate.hpp"
#include "droplog/collector.hpp"
#include "droplog/source.hpp"

namespace netpol::droplog {

// The previous run's drop summary the rows were compared with (--previous-summary): a row is
// new when no previous row had its direction, source and destination workloads, port and
// protocol (droplog/previous.hpp).
struct PreviousRun {
  enum class State {
    read,      // read: each row's is_new says whether it is new
    not_found, // there is no previous run (the artifacts API answered 404): every row is new
    unknown,   // it could not be read (`problem`): no row is marked, new-ness is unknown
  };
  State state = State::read;
  std::string source;  // the file, or the URL (never with a token)
  std::string until;   // the previous summary's "until"; "" when unknown
  size_t rows = 0;     // the previous summary's rows
  std::string problem; // State::unknown: why
};

struct DropSummary {
  std::string since; // RFC 3339; "" when the window had no start (shown as null)
  std::string until;
  std::vector<std::string> namespaces; // empty = all namespaces
  DropCounts counts;
  // How far back each source reaches (an agent pod's log, a file read with --since); empty
  // when nothing can be told. Shown in every view when one has a gap.
  std::vector<Coverage> coverage;
  DropRows rows; // sorted, count descending
  // Set when a previous summary was asked for; absent, every view is as without one.
  std::optional<PreviousRun> previous;
  size_t new_rows = 0; // rows with is_new (previous read or not found)
  // Whether the views mark rows as new: a previous summary was read, or there was none.
  bool marks_new() const { return previous && previous->state != PreviousRun::State::unknown; }
};

// "3 of 12 rows are new since the previous run (<source>, until <until>)", "new-ness unknown
// (...)": the line the job log, drop-log.txt and drop-log.html say it with. "" without a
// previous summary.
std::string previous_line(const DropSummary& summary);

// One line per coverage entry with a gap, saying how far back it reaches and since when flows
// may be missing ("kube-system/cilium-abcde reaches back to 2026-11-26T10:03:12Z only: …").
std::vector<std::string> coverage_gaps(const DropSummary& summary);

// Where a view's streaming writer puts its output, piece by piece (a file, a stream, a
// string): a view is never built whole in memory, whatever the number of rows.
using TextSink = std::function<void(std::string_view)>;

// "ns/workload", or the workload alone for non-pods ("world", "host", an IP).
std::string endpoint_name(const FlowEndpoint& endpoint);
// "shop/frontend → shop/db:5432/TCP"
std::string flow_name(const DropRow& row);

} // namespace netpol::droplog
