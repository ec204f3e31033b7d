// Every connection attempt a flow log shows, whatever its verdict, grouped by source and
// destination workload, port and protocol (and, for flows-summary.json, by verdict): the
// observed traffic a change preview is joined with (model::FlowEvidence). Its size follows
// the distinct connections, never the lines read.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <absl/container/flat_hash_map.h>

#include "droplog/flow.hpp"
#include "model/evidence.hpp"

namespace netpol::droplog {

struct ConnectionRow {
  std::string verdict;                  // "" when the aggregator does not group by verdict
  model::ObservedConnection connection; // pods are the first flow's, examples of the workload
  int64_t first_ns = 0;                 // the times of first_seen and last_seen; 0 when unknown
  int64_t last_ns = 0;
};

class ConnectionAggregator {
public:
  // `by_verdict`: a FORWARDED and a DROPPED flow of one connection are two rows.
  explicit ConnectionAggregator(bool by_verdict) : m_by_verdict(by_verdict) {}

  // Counts `count` flows of `flow`. A flow without a TCP, UDP or SCTP port (ICMP, a flow
  // without l4) is no connection to a port: counted in flows_without_port() only.
  void add(const DropFlow& flow, uint64_t count);
  // Counts a row read back from a summary (its count, times and pods), as add() would.
  void add(ConnectionRow row);
  void merge(const ConnectionAggregator& other);

  // Rows by count, highest first, ties by key (verdict, source, destination, port, protocol).
  std::vector<ConnectionRow> rows() const;
  size_t size() const { return m_rows.size(); }
  uint64_t flows() const { return m_flows; } // flows counted into the rows
  uint64_t flows_without_port() const { return m_without_port; }
  void count_without_port(uint64_t n) { m_without_port += n; }
  // The earliest first_seen and the latest last_seen of the rows; "" when none had a time.
  const std::string& earliest() const { return m_earliest; }
  const std::string& latest() const { return m_latest; }

private:
  void build_key(const std::string& verdict, const model::ObservedConnection& c);
  void widen(ConnectionRow& row, const std::string& first, int64_t first_ns,
             const std::string& last, int64_t last_ns);

  bool m_by_verdict;
  std::vector<ConnectionRow> m_rows;
  absl::flat_hash_map<std::string, uint32_t> m_index; // key -> position in m_rows
  std::string m_key;                                  // reused: no allocation per flow
  model::ObservedConnection m_scratch;                // the flow being looked up
  uint64_t m_flows = 0;
  uint64_t m_without_port = 0;
  std::string m_earliest, m_latest;
  int64_t m_earliest_ns = 0, m_latest_ns = 0;
};

} // namespace netpol::droplog
