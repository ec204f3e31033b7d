// Groups drop flows into the rows of the drop log (SPEC §8.1): one row per verdict,
// direction, source and destination workload (namespace + workload), port, protocol,
// reason and policies, with a count and the first and last time seen.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <unordered_map>
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
  // Not copyable: m_keys points into m_index's nodes (a move keeps the nodes, a copy would not).
  DropAggregator(const DropAggregator&) = delete;
  DropAggregator& operator=(const DropAggregator&) = delete;
  DropAggregator(DropAggregator&&) = default;
  DropAggregator& operator=(DropAggregator&&) = default;

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
  void add_row(const std::string& key, const DropRow& row);
  std::vector<size_t> sorted_order() const;

  std::unordered_map<std::string, size_t> m_index; // key -> position in m_rows
  DropRows m_rows;
  // m_rows[i]'s key: the map's own copy (map nodes never move), so each key is stored once.
  std::vector<const std::string*> m_keys;
  std::string m_key; // reused to build keys without allocating
};

} // namespace netpol::droplog
