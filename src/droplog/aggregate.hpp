// Groups drop flows into the rows of the drop log (SPEC §8.1): one row per verdict,
// direction, source and destination workload (namespace + workload), port, protocol,
// reason and policies, with a count and the first and last time seen.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

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
};

// Rows in a deque: it grows without moving rows (a vector's doubling would hold the old and
// the new array at once, 3x the rows' size for a moment), and take_rows() hands it over.
using DropRows = std::deque<DropRow>;

class DropAggregator {
public:
  DropAggregator() = default;

  void add(const DropFlow& flow);
  // Merges another aggregator's rows (for collectors that ran in parallel).
  void merge(const DropAggregator& other);

  // Rows by count, highest first; ties by first seen, then by key (a stable order).
  DropRows rows() const;
  // The same rows in the same order, moved out instead of copied (the aggregator is empty
  // afterwards): the drop log's rows are its largest data, so they are never held twice.
  DropRows take_rows();
  size_t size() const { return m_rows.size(); }

private:
  // The row with the key fields of `key` (a DropFlow or a DropRow), if any.
  template <typename Key> DropRow* find(const Key& key, uint64_t hash);
  void insert(uint64_t hash, DropRow row);
  void place(size_t row); // puts m_rows[row] into m_slots
  std::vector<size_t> sorted_order() const;

  DropRows m_rows;
  // Open addressing over m_rows, keyed by a hash of the key fields (no key string is kept):
  // each slot is 0 (empty) or the upper half of the row's hash above 1 + its position, so
  // most mismatches are seen without reading the row. Rows compare field by field on a
  // hash match. Lookups are one probe on average, with no allocation.
  std::vector<uint64_t> m_slots;
  std::vector<uint64_t> m_hashes; // m_rows[i]'s hash (to grow the table)
};
} // namespace netpol::droplog
