// Gathers detection Evidence through the Kubernetes API, cheapest reads first:
// /version, API groups, nodes, DaemonSets (one cluster-wide list), then only the ConfigMaps
// the DaemonSets found call for (cilium-config, amazon-vpc-cni, cilium-flowlog-config).
// With a full-rights token that is at most 8 requests on a cluster of up to 500 nodes; a token
// that may not list DaemonSets cluster-wide costs up to 5 more (one per well-known namespace),
// never more than 12 in all.
#pragma once

#include "detect/evidence.hpp"
#include "kube/api.hpp"
#include "util/error.hpp"

namespace netpol::detect {

// Success: Evidence, where each forbidden (403) or failed (other non-2xx) read is recorded in
// Evidence::reads and leaves its field empty. Failure: the cluster could not be reached or
// timed out (ErrorCode::unreachable / timeout, naming the server), or it rejected the
// credentials (401, ErrorCode::api).
Result<Evidence> collect(kube::KubeApi& api, const Hints& hints);

} // namespace netpol::detect
