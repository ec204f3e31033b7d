// Groups drop flows into the rows of the drop log (SPEC §8.1): one row per verdict,
// direction, source and destination workload (namespace + workload), port, protocol,
// reason and policies, with a count and the first and last time seen.
#pragma once

#include <cstdint>
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

class DropAggregator {
public:
  void add(const DropFlow& flow);
  // Merges another aggregator's rows (for collectors that ran in parallel).
  void merge(const DropAggregator& other);

  // Rows by count, highest first; ties by first seen, then by key (a stable order).
  std::vector<DropRow> rows() const;
  size_t size() const { return m_rows.size(); }

private:
  void add_row(const std::string& key, const DropRow& row);

  std::unordered_map<std::string, size_t> m_index; // key -> position in m_rows
  std::vector<DropRow> m_rows;
  std::vector<std::string> m_keys;
  std::string m_key; // reused to build keys without allocating
};

} // namespace netpol::droplog
