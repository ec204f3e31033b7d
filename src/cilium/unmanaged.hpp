// Pods that started before Cilium keep the network set up by the previous CNI: no policy
// applies to them and no flow of theirs is logged until they are recreated. Cilium writes a
// CiliumEndpoint for every pod it manages, so a running pod without one is unmanaged.
#pragma once

#include <string>
#include <vector>

#include "kube/api.hpp"
#include "util/error.hpp"

namespace netpol::cilium {

struct UnmanagedPod {
  std::string namespace_name;
  std::string name;
  // The controlling owner, "ReplicaSet/web-7d9f8", or "" for a bare pod (deleting it would
  // lose it: it is never restarted by netpol).
  std::string owner;
};

// Pods scheduled to a node, not finished, not on the host network, not being deleted, and
// without a CiliumEndpoint of the same namespace and name; sorted by namespace and name.
Result<std::vector<UnmanagedPod>> unmanaged_pods(kube::KubeApi& api);

struct RestartOutcome {
  UnmanagedPod pod;
  bool restarted = false; // deleted so that its owner recreates it
  std::string message;    // why not, or the delete error
};

// Deletes every owner-controlled pod in `pods` (its owner recreates it under Cilium); bare
// pods are left alone and say so. One failed delete does not stop the others.
std::vector<RestartOutcome> restart_pods(kube::KubeApi& api, const std::vector<UnmanagedPod>& pods);

// "kubectl -n <ns> delete pod <name>" lines for the pods a human should restart.
std::vector<std::string> restart_commands(const std::vector<UnmanagedPod>& pods);

} // namespace netpol::cilium
