// Least-permissive NetworkPolicies that would allow the flows of a drop log (SPEC §5
// suggested-policy.yaml). Per target workload and direction, one policy whose podSelector
// is the workload's labels and whose rules allow exactly the observed peers on exactly the
// observed ports: an INGRESS drop gives the destination an ingress rule, an EGRESS drop gives
// the source an egress rule. Peers are pods (podSelector + namespaceSelector on
// kubernetes.io/metadata.name) or, outside the cluster, single addresses (ipBlock /32, /128).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "droplog/aggregate.hpp"

namespace netpol::droplog {

struct Suggestion {
  std::vector<nlohmann::ordered_json> policies; // networking.k8s.io/v1 NetworkPolicy objects
  // Flows no NetworkPolicy can allow exactly, one line each with why (no pod labels in the
  // flow, ICMP, a host endpoint without address...).
  std::vector<std::string> notes;
};

// `namespaces`: only suggest policies for targets in these namespaces (empty = all).
Suggestion suggest_policies(const DropRows& rows, const std::vector<std::string>& namespaces = {});

// suggested-policy.yaml: the policies as a multi-document YAML stream, led by a comment;
// a file with only the comment when there is nothing to allow.
std::string suggestion_to_yaml(const Suggestion& suggestion);

} // namespace netpol::droplog
