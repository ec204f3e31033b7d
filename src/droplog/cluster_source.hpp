// Drop-log lines from the cluster (SPEC §8): the `cilium-agent` container log of every Cilium
// agent pod, read through `pods/log` with sinceTime, all pods concurrently. The Hubble
// exporter writes flow events to the agent's stdout (exporter `filePath: stdout`).
#pragma once

#include <string>

#include "droplog/source.hpp"
#include "kube/api.hpp"

namespace netpol::droplog {

struct ClusterSourceOptions {
  std::string since_time;                        // RFC 3339; "" = the whole retained log
  std::string label_selector = "k8s-app=cilium"; // the agent DaemonSet's pods
  std::string container = "cilium-agent";
  size_t max_parallel = 8; // log streams open at once
  // Where the agents run, when known (--cilium-namespace): only there are pods listed. "" =
  // every namespace, and `fallback_namespace` when the token may not list pods cluster-wide
  // (a Role in the agents' namespace is enough: examples/rbac/drops.yaml).
  std::string namespace_name;
  std::string fallback_namespace = "kube-system";
};

// Lines from one pod are passed on in order; lines of different pods interleave at line
// boundaries. A pod whose log cannot be read is a warning naming the pod; an Error only when
// the pods cannot be listed or no pod could be read at all. Finding no agent pod is a
// warning (the report then says nothing was dropped, and why). A missing right (list pods,
// get pods/log) is named in the message, with where to grant it.
//
// Logs are asked for with timestamps=true (the parser strips the prefix). When the agent
// container restarted inside the window (restartCount > 0 and lastState.terminated.finishedAt
// after its start), the previous container's log is read first (previous=true): its lines
// are the older ones. A 400 for it (no previous container left) is noted at debug level.
//
// The report's coverage has one entry per agent pod: the time of the oldest line the API
// still serves for it. The kubelet skips lines before sinceTime, so a first line read after
// the window's start may only mean the agent was quiet: then the first line of the oldest log
// read is asked for (limitBytes, no sinceTime; one small request), and only a log that starts
// after the window's start is a gap.
class ClusterSource final : public DropSource {
public:
  ClusterSource(kube::KubeApi& api, ClusterSourceOptions options)
      : m_api(api), m_options(std::move(options)) {}
  Result<SourceReport> read(const std::function<void(std::string_view)>& on_line) override;

private:
  kube::KubeApi& m_api;
  ClusterSourceOptions m_options;
};

} // namespace netpol::droplog
