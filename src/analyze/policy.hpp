// Policies in one normalized form that the engine evaluates: NetworkPolicy
// (networking.k8s.io/v1) fully, and the common subset of CiliumNetworkPolicy and
// CiliumClusterwideNetworkPolicy. What a policy says that is not modelled (toFQDNs, L7 rules,
// host/node entities...) becomes a warning on the policy: the analysis then treats that part
// as matching nothing, and says so, instead of silently allowing or denying.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "analyze/cluster.hpp"
#include "model/ip.hpp"
#include "model/policy_kind.hpp"
#include "model/selector.hpp"

namespace netpol::analyze {

using model::Cidr;
using model::PolicyKind;

// A set of pods; every condition that is set must hold.
struct PodMatcher {
  std::optional<std::string> namespace_name;       // only pods of this namespace
  std::optional<LabelSelector> namespace_selector; // only pods whose namespace's labels match
  LabelSelector pod_selector;                      // over the pod's labels
  // pod_selector is over Cilium identity labels ("k8s:app", "k8s:io.kubernetes.pod.namespace",
  // "k8s:io.cilium.k8s.namespace.labels.team", ...) instead of plain pod labels.
  bool cilium_labels = false;

  std::string canonical() const; // equal matchers select equal pods
};

// One entry of from/to (or one Cilium peer); a peer may name pods, addresses or both.
struct Peer {
  std::optional<PodMatcher> pods;
  bool any_pod = false;      // every pod (Cilium entity cluster/all)
  bool any_external = false; // every address outside the cluster (entity world/all)
  std::optional<IpBlock> ip_block;
  // NetworkPolicy ipBlock also matches pods whose IP is in the block (Kubernetes e2e
  // semantics; the engine can switch this off). Cilium CIDR rules never match pods.
  bool ip_block_matches_pods = false;
};

struct PortSpec {
  std::optional<Protocol> protocol; // nullopt: any protocol (Cilium ANY)
  int port = 0;                     // 0: every port of the protocol
  int end_port = 0;                 // >= port for a range, 0 otherwise
  std::string name;                 // named port, resolved against the destination pod

  // Whether a connection to `destination` (nullptr for an address outside the cluster) on
  // `port`/`protocol` is covered. A named port never covers an outside address.
  bool matches(int port, Protocol protocol, const Pod* destination) const;
};

struct Rule {
  bool any_peer = false;       // from/to empty or omitted: everything, pods and addresses
  std::vector<Peer> peers;     // OR
  std::vector<PortSpec> ports; // OR; empty: every port of every protocol
  bool has_named_port() const;
};

struct Policy {
  PolicyKind kind = PolicyKind::network_policy;
  std::string namespace_name; // "" for a cluster-wide policy
  std::string name;
  PodMatcher subject; // the pods the policy applies to
  bool isolates_ingress = false;
  bool isolates_egress = false;
  std::vector<Rule> ingress, egress;           // allow
  std::vector<Rule> ingress_deny, egress_deny; // Cilium deny rules: win over any allow
  std::vector<Issue> warnings;                 // parts not modelled, surprising forms

  // "NetworkPolicy/ns/name", "CiliumClusterwideNetworkPolicy/name"
  std::string id() const;
};

// Parses a NetworkPolicy, CiliumNetworkPolicy or CiliumClusterwideNetworkPolicy object. A
// Cilium object with `specs` gives one Policy per rule. A policy without metadata.namespace
// belongs to `default_namespace`. Fails (with the JSON pointer of the offending node) on
// what the API server would reject and the engine cannot evaluate: a missing podSelector, an
// invalid selector, a peer without any selector, a malformed CIDR, an invalid port.
Parsed<std::vector<Policy>> parse_policy(const nlohmann::json& object,
                                         const std::string& default_namespace);

} // namespace netpol::analyze
