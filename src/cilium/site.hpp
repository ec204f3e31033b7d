// Where the Cilium release lives and how helm and netpol reach it: the cluster, the
// kubeconfig and context helm is given, and where helm is found. From the global options and
// the environment (cli builds it); the same for every Cilium workflow.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "kube/api.hpp"

namespace netpol::cilium {

struct Site {
  kube::Connect cluster;                     // connected on first use
  std::vector<std::string> kubeconfig_paths; // given to helm (--kubeconfig / KUBECONFIG)
  std::string context;                       // --context: helm's --kube-context, a hint to detect
  std::string search_path;                   // PATH: where helm is looked for
  // NETPOL_CILIUM_CHART: the chart the image carries, in place of defaults::k_bundled_chart.
  std::optional<std::string> bundled_chart;
};

} // namespace netpol::cilium
