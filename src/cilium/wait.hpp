// Waiting for Cilium to be healthy after `helm upgrade --install`, the way
// `cilium status --wait` decides it, through the Kubernetes API only: the agent DaemonSet and
// the operator (and Hubble Relay when installed) have rolled out and are ready, no agent is
// crash-looping, and the CRDs the operator registers exist. Then the running configuration is
// checked against what was installed.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "cilium/defaults.hpp"
#include "kube/api.hpp"
#include "util/duration.hpp"
#include "util/error.hpp"

namespace netpol::cilium {

// One look at the installation.
struct Readiness {
  bool ready = false;
  // One line per part that is not ready yet, e.g.
  // "DaemonSet kube-system/cilium: 1/3 pods ready".
  std::vector<std::string> not_ready;
  // One line for progress output: "cilium 1/3 ready, cilium-operator 1/1 ready, CRDs 3/3".
  std::string summary;
};

// The CRDs netpol relies on once Cilium runs (the operator registers them at start).
const std::vector<std::string>& required_crds();

// Looks once. A crash-looping Cilium container is ErrorCode::check_failed naming the pod and
// container ("pod kube-system/cilium-x container cilium-agent is crash-looping ..."): it will
// not get better by waiting. API errors other than "not found" are returned as they are.
Result<Readiness> check_readiness(kube::KubeApi& api, const std::string& namespace_name);

struct WaitOptions {
  std::string namespace_name = defaults::k_namespace;
  Duration timeout = defaults::k_wait_timeout;
  Duration poll_interval = defaults::k_poll_interval;
  Duration progress_interval = defaults::k_progress_interval;
  // The clock and the pause between polls; tests replace them so no test waits for real.
  std::function<std::chrono::steady_clock::time_point()> now = [] {
    return std::chrono::steady_clock::now();
  };
  std::function<void(Duration)> sleep; // default: std::this_thread::sleep_for
};

// Polls check_readiness() until ready. `progress` gets the summary line on the first poll
// and then every progress_interval. Running out of time is ErrorCode::check_failed
// ("Cilium not ready after 5m0s: ...") with each part that is not ready as a detail line.
// Connection failures and request timeouts are retried until the deadline.
Result<Readiness> wait_ready(kube::KubeApi& api, const WaitOptions& options,
                             const std::function<void(std::string_view)>& progress);

// Checks that ConfigMap cilium-config carries what `values` asked for: policy-audit-mode,
// Hubble on, and the flow export to stdout with the allowlist. Returns one line per check
// that passed; a mismatch is ErrorCode::check_failed listing every key that differs.
Result<std::vector<std::string>>
verify_config(kube::KubeApi& api, const std::string& namespace_name, const nlohmann::json& values);

} // namespace netpol::cilium
