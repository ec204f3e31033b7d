// Observed traffic joined with a cluster (SPEC §11): how often flows went from one pod's
// workload to another's on a port, so a change preview can say which of the connections it
// newly denies are really used.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "analyze/cluster.hpp"
#include "analyze/engine.hpp"
#include "model/evidence.hpp"

namespace netpol::analyze {

// Flows seen on one connection: how many, and the first and last time (RFC 3339, "" when
// the flows carried no time).
struct Seen {
  std::uint64_t count = 0;
  std::string first_seen;
  std::string last_seen;

  void add(std::uint64_t flows, const std::string& first, const std::string& last);
};

// The evidence indexed by the cluster's workloads. A flow's endpoint is the workload of the
// pod it names when that pod is in the cluster (exact), else its namespace/workload, so the
// flows of an earlier ReplicaSet's pods count for today's pods of the same Deployment. Flows
// to or from outside the cluster's workloads are kept out: no pod pair can carry them.
class ObservedIndex {
public:
  // `ports` are the analysed ports: the flows on a port no policy names count for the `other`
  // port of their protocol. `cluster` and `evidence` must outlive the index.
  ObservedIndex(const Cluster& cluster, const model::FlowEvidence& evidence,
                const std::vector<AnalysedPort>& ports);

  // Flows seen from pod `from`'s workload to pod `to`'s workload on `port`.
  Seen seen(size_t from, size_t to, const AnalysedPort& port) const;

  // The workload ("ns/workload") of pod `index`.
  const std::string& workload_of(size_t pod) const { return m_names[m_pod_workload[pod]]; }
  size_t workload_id(size_t pod) const { return m_pod_workload[pod]; }

  const model::FlowEvidence& evidence() const { return m_evidence; }
  // Flows that joined a pair of the cluster's workloads.
  std::uint64_t flows_joined() const { return m_joined; }

private:
  struct PortSeen {
    PortProtocol port;
    Seen seen;
  };
  struct PairHash {
    size_t operator()(const std::pair<size_t, size_t>& p) const noexcept {
      return std::hash<size_t>()(p.first) * 1000003u ^ std::hash<size_t>()(p.second);
    }
  };

  const model::FlowEvidence& m_evidence;
  std::vector<std::string> m_names;   // workload id -> "ns/workload"
  std::vector<size_t> m_pod_workload; // pod index -> workload id
  std::vector<PortProtocol> m_named;  // analysed ports that are not `other`, sorted
  std::unordered_map<std::pair<size_t, size_t>, std::vector<PortSeen>, PairHash> m_seen;
  std::uint64_t m_joined = 0;
};

// The evidence window as JSON fields and as words: "312 flows from 2 files, 2026-11-26T10:00:00Z
// to 2026-11-26T10:07:12Z".
std::string describe_window(const model::FlowEvidence& evidence);

} // namespace netpol::analyze
