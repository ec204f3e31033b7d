// Least-permissive NetworkPolicies that would allow the flows of a drop log (SPEC §5
// suggested-policy.yaml). Per target workload and direction, one policy whose podSelector
// is the workload's labels and whose rules allow exactly the observed peers on exactly the
// observed ports: an INGRESS drop gives the destination an ingress rule, an EGRESS drop gives
// the source an egress rule. Peers are pods (podSelector + namespaceSelector on
// kubernetes.io/metadata.name) or, outside the cluster, single addresses (ipBlock /32, /128).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "droplog/aggregate.hpp"

namespace netpol::droplog {

// One rule of a suggested policy: these peers (indices into Suggestion::peers, in the
// order of their JSON text) on these (protocol, port) pairs.
struct SuggestedRule {
  std::vector<uint32_t> peers;
  std::vector<std::pair<std::string, uint32_t>> ports;
};

// A networking.k8s.io/v1 NetworkPolicy allowing one workload's observed ingress or egress.
struct SuggestedPolicy {
  std::string name;
  std::string namespace_name;
  bool ingress = true;
  std::vector<std::pair<std::string, std::string>> labels; // podSelector.matchLabels
  std::vector<SuggestedRule> rules;
};

struct Suggestion {
  std::vector<SuggestedPolicy> policies;
  // Every peer the rules name, as its NetworkPolicy peer JSON (compact).
  std::vector<std::string> peers;
  // Flows no NetworkPolicy can allow exactly, one line each with why (no pod labels in the
  // flow, ICMP, a host endpoint without address...).
  std::vector<std::string> notes;
};

// `namespaces`: only suggest policies for targets in these namespaces (empty = all).
Suggestion suggest_policies(const DropRows& rows, const std::vector<std::string>& namespaces = {});

// The policy at `index` as a NetworkPolicy object.
nlohmann::ordered_json policy_to_json(const Suggestion& suggestion, size_t index);

// suggested-policy.yaml: the policies as a multi-document YAML stream, led by a comment;
// a file with only the comment when there is nothing to allow. Each document is
// to_yaml(policy_to_json(...)); notes are comment lines with controls escaped.
std::string suggestion_to_yaml(const Suggestion& suggestion);

} // namespace netpol::droplog
