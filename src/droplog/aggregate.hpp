// Groups drop flows into the rows of the drop log (SPEC §8.1): one row per verdict,
// direction, source and destination workload (namespace + workload), port, protocol,
// reason and policies, with a count and the first and last time seen.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include <absl/container/flat_hash_set.h>

#include "droplog/flow.hpp"

namespace netpol::droplog {

struct DropRow {
  std::string verdict;
  std::string direction;
  // The first flow's endpoints (pod, labels and IP are examples of the workload).
  FlowEndpoint source;
  FlowEndpoint destination;
  uint32_t port = 0;
  std::string protocol;
  std::string reason;
  std::vector<std::string> policies;
  uint64_t count = 0;
  std::string first_seen; // RFC 3339 as received; "" when no flow had a time
  std::string last_seen;
  int64_t first_ns = 0;
  int64_t last_ns = 0;
  // Not seen in the previous run's summary (DropSummary::previous); not part of the key.
  bool is_new = false;
};

// Rows in a deque: it grows without moving rows (a vector's doubling would hold the old and
// the new array at once, 3x the rows' size for a moment), and take_rows() hands it over.
using DropRows = std::deque<DropRow>;

class DropAggregator {
public:
  DropAggregator();

  // Counts `flow.count` flows into its row.
  void add(const DropFlow& flow);
  // Merges another aggregator's rows (for collectors that ran in parallel).
  void merge(const DropAggregator& other);

  // Rows by count, highest first; ties by first seen, then by key (a stable order).
  DropRows rows() const;
  // The same rows in the same order, moved out instead of copied (the aggregator is empty
  // afterwards): the drop log's rows are its largest data, so they are never held twice.
  DropRows take_rows();
  size_t size() const { return m_rows->size(); }

private:
  // The index's hash and equality over the key fields. The index holds positions in *rows;
  // a flow, or another aggregator's row, is looked up as it is (heterogeneous lookup), so no
  // key is built or stored.
  struct KeyHash {
    using is_transparent = void;
    const DropRows* rows;
    size_t operator()(uint32_t row) const;
    size_t operator()(const DropFlow& flow) const;
    size_t operator()(const DropRow& row) const;
  };
  struct KeyEqual {
    using is_transparent = void;
    const DropRows* rows;
    bool operator()(uint32_t a, uint32_t b) const;
    bool operator()(const DropFlow& flow, uint32_t row) const;
    bool operator()(uint32_t row, const DropFlow& flow) const { return (*this)(flow, row); }
    bool operator()(const DropRow& other, uint32_t row) const;
    bool operator()(uint32_t row, const DropRow& other) const { return (*this)(other, row); }
  };

  void insert(DropRow row);
  std::vector<size_t> sorted_order() const;

  // On the heap, so that the index's functors still point at them after a move.
  std::unique_ptr<DropRows> m_rows;
  // A flat (open-addressing) set: one probe into a contiguous array per flow, where a
  // node-based std::unordered_set chases a pointer more and was 15% slower on a log of drops
  // only (bench/droplog_bench.sh).
  absl::flat_hash_set<uint32_t, KeyHash, KeyEqual> m_index;
};
} // namespace netpol::droplog
