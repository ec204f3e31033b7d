// analyze's input from the cluster (--live): the same Namespace, Pod and policy objects a
// --pods-from file holds, listed through the API.
#pragma once

#include <vector>

#include <nlohmann/json.hpp>

#include "analyze/input.hpp"
#include "kube/api.hpp"
#include "util/error.hpp"

namespace netpol::analyze {

struct LiveObjects {
  std::vector<nlohmann::json> namespaces;
  std::vector<nlohmann::json> pods;
  // NetworkPolicies, plus CiliumNetworkPolicies and CiliumClusterwideNetworkPolicies when the
  // cluster serves those kinds (a cluster without Cilium is no error).
  std::vector<nlohmann::json> policies;
};

// Lists namespaces, pods and policies across all namespaces. The first failing request is the
// error (ErrorCode::api with the status, or unreachable/timeout).
Result<LiveObjects> list_live(kube::KubeApi& api);

// Builds the cluster model from listed objects (pods in Succeeded/Failed are skipped).
Result<Cluster> cluster_from(const LiveObjects& objects);
// Parses listed policies; an invalid one (the server accepted it, we cannot evaluate it) is
// ErrorCode::invalid_policy naming "Kind/ns/name".
Result<PolicySet> policies_from(const std::vector<nlohmann::json>& objects);

// The policies in force after applying `planned` over `live`: a planned policy replaces the
// live one of the same kind, namespace and name; every other live policy stays (apply does not
// delete).
PolicySet overlay(const PolicySet& live, const PolicySet& planned);

} // namespace netpol::analyze
