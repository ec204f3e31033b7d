// The drop-log pipeline after the source: lines in, counts + rows + matching events out.
// Streaming by construction: a collector keeps the aggregated rows (one per distinct
// workload pair, port, reason...) and never the lines, so memory does not grow with input.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "droplog/aggregate.hpp"
#include "droplog/connections.hpp"
#include "droplog/line_parser.hpp"

namespace netpol::droplog {

// Which flows are kept.
struct DropFilter {
  std::vector<std::string> namespaces; // source or destination in one of these; empty = all
  std::optional<int64_t> since_ns;     // flows before this time are skipped
  std::optional<int64_t> until_ns;     // flows after this time are skipped
};

// SPEC §8.1 counters. Every line read is exactly one of matched, skipped, malformed:
// lines_read == lines_matched + lines_skipped + lines_malformed. A matched line is one flow,
// or, for an aggregated exporter event, the flows it counts: flows_matched >= lines_matched.
struct DropCounts {
  uint64_t lines_read = 0;
  uint64_t flows_matched = 0;
  uint64_t lines_skipped = 0;
  uint64_t lines_malformed = 0;
  uint64_t lines_matched = 0;

  DropCounts& operator+=(const DropCounts& other);
};

class DropCollector {
public:
  // `on_match` receives each kept event's JSON object (for drop-log.jsonl); may be empty.
  // With `connections`, every connection attempt the filter keeps (any verdict) is also
  // counted into connections() (by verdict), for flows-summary.json; the drop log's counts,
  // rows and matches stay what they are without it.
  explicit DropCollector(DropFilter filter, std::function<void(std::string_view)> on_match = {},
                         bool connections = false);

  // Takes one line (without '\n'). Blank lines are not counted. Not thread-safe.
  void add_line(std::string_view line);
  // Adds another collector's counts and rows (collectors that read in parallel).
  void merge(const DropCollector& other);

  const DropCounts& counts() const { return m_counts; }
  const DropAggregator& aggregator() const { return m_rows; }
  DropRows rows() const { return m_rows.rows(); }
  // rows() without a copy; the collector has no rows afterwards.
  DropRows take_rows() { return m_rows.take_rows(); }
  const DropFilter& filter() const { return m_filter; }
  // Every kept connection attempt by verdict; empty without `connections`.
  const ConnectionAggregator& connections() const { return m_connections; }
  // Earliest and latest time among kept flows (0 when none had a time).
  int64_t earliest_ns() const { return m_earliest_ns; }
  int64_t latest_ns() const { return m_latest_ns; }
  // Earliest time among every dropped or audited flow read, kept or not (outside the window
  // or the namespaces): how far back the input reaches. 0 when none had a time.
  int64_t oldest_read_ns() const { return m_oldest_read_ns; }

private:
  bool selected(const DropFlow& flow) const;
  void add_connection();

  DropFilter m_filter;
  std::function<void(std::string_view)> m_on_match;
  LineParser m_parser;
  DropFlow m_flow; // reused: its strings keep their capacity between lines
  DropCounts m_counts;
  DropAggregator m_rows;
  bool m_with_connections = false;
  ConnectionAggregator m_connections{true};
  int64_t m_earliest_ns = 0;
  int64_t m_latest_ns = 0;
  int64_t m_oldest_read_ns = 0;
};

// Cuts a byte stream that arrives in arbitrary chunks (a file read, an HTTP body) into
// lines. A line longer than `max_line` bytes is passed on cut at that length (it will count
// as malformed) and the rest of it is dropped, so memory stays bounded.
class LineSplitter {
public:
  static constexpr size_t k_default_max_line = 8u << 20;
  explicit LineSplitter(size_t max_line = k_default_max_line) : m_max_line(max_line) {}

  void feed(std::string_view chunk, const std::function<void(std::string_view)>& on_line);
  // Passes on the last line if the stream did not end with '\n'.
  void finish(const std::function<void(std::string_view)>& on_line);

private:
  size_t m_max_line;
  std::string m_carry;
  bool m_discarding = false;
};

} // namespace netpol::droplog
