// The connectivity engine: which pod may open a connection to which pod (or outside address)
// on one port and protocol, under a set of policies.
//
// Semantics (Kubernetes NetworkPolicy, as the upstream e2e suite pins them down): a connection
// a -> b:port is allowed iff the egress side of a allows it and the ingress side of b allows
// it. A side allows everything unless some policy that selects the pod isolates that direction;
// then it allows exactly the union of the matching rules of all policies selecting the pod.
// Cilium deny rules win over any allow. Named ports resolve against the destination pod.
//
// Cost: the constructor evaluates every selector once (equal selectors share the result)
// into pod bitsets; matrix() then combines bitsets per policy, never policy x pair.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/dynamic_bitset.hpp>

#include "analyze/cluster.hpp"
#include "analyze/policy.hpp"

namespace netpol::analyze {

using PodSet = boost::dynamic_bitset<std::uint64_t>;

struct EngineOptions {
  // NetworkPolicy ipBlock peers match pods whose IP is in the block (Kubernetes e2e
  // semantics). False treats ipBlocks as addresses outside the cluster only.
  bool ipblock_matches_pods = true;
};

struct PortProtocol {
  int port = 0;
  Protocol protocol = Protocol::tcp;
  friend auto operator<=>(const PortProtocol&, const PortProtocol&) = default;
};

// One end of a connection: a pod of the cluster (by index) or an address outside it.
struct Endpoint {
  std::optional<size_t> pod;
  std::optional<IpAddress> address;

  static Endpoint of_pod(size_t index) { return Endpoint{index, std::nullopt}; }
  static Endpoint outside(IpAddress ip) { return Endpoint{std::nullopt, ip}; }
};

// Allowed pod pairs for one port: row `from` holds the destinations `from` may reach.
class ConnectivityMatrix {
public:
  explicit ConnectivityMatrix(size_t pods = 0) : m_rows(pods, PodSet(pods)) {}

  size_t size() const { return m_rows.size(); }
  bool allowed(size_t from, size_t to) const { return m_rows[from].test(to); }
  const PodSet& reachable_from(size_t from) const { return m_rows[from]; }
  PodSet& row(size_t from) { return m_rows[from]; }
  // Number of allowed ordered pairs (a pod to itself included).
  size_t count() const;

private:
  std::vector<PodSet> m_rows;
};

class Engine {
public:
  // `cluster` and `policies` must outlive the engine.
  Engine(const Cluster& cluster, const std::vector<Policy>& policies, EngineOptions options = {});

  // Every ordered pod pair, a pod to itself included (evaluated like any other pair).
  ConnectivityMatrix matrix(PortProtocol port) const;

  // One connection; either end may be outside the cluster (its own side is then not
  // evaluated: only the cluster's policies are).
  bool allowed(const Endpoint& from, const Endpoint& to, PortProtocol port) const;

  // The pods policy `index` applies to.
  const PodSet& selected(size_t index) const { return m_policies[index].selected; }

private:
  struct CompiledRule {
    const Rule* rule = nullptr;
    PodSet peers; // pods the rule's peers match (all pods for any_peer)
  };
  struct CompiledPolicy {
    const Policy* policy = nullptr;
    PodSet selected;
    std::vector<CompiledRule> ingress, egress, ingress_deny, egress_deny;
  };
  // Destinations on which a rule's ports allow the queried port.
  struct PortCoverage {
    enum class Kind { none, all, some } kind = Kind::none;
    PodSet pods;
  };
  class NamedPortCache;

  PodSet select(const PodMatcher& matcher);
  CompiledRule compile(const Rule& rule);
  PortCoverage coverage(const Rule& rule, PortProtocol port, NamedPortCache& cache) const;
  bool peer_matches(const CompiledRule& rule, const Endpoint& endpoint) const;
  bool side_allows(bool ingress, size_t pod, const Endpoint& peer, const Pod* destination,
                   PortProtocol port) const;

  const Cluster& m_cluster;
  EngineOptions m_options;
  size_t m_size = 0;
  std::vector<CompiledPolicy> m_policies;
  std::vector<Labels> m_cilium_labels; // per pod, filled when a Cilium policy needs it
  std::unordered_map<std::string, PodSet> m_selection_cache;
  std::unordered_map<std::string, std::pair<size_t, size_t>> m_namespace_ranges;
};

struct AnalysedPort {
  PortProtocol port;
  bool other = false; // the port no policy names, standing for every such port
};

// The ports worth analysing: every port a policy names (numeric ports, the first port of a
// range, named ports resolved against the pods that declare them), sorted and unique, then
// one TCP port that no policy names (the highest such), marked `other`.
std::vector<AnalysedPort> ports_of_interest(const Cluster& cluster,
                                            const std::vector<Policy>& policies);

} // namespace netpol::analyze
