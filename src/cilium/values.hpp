// Which Helm values Cilium gets on a given cluster, and where it must not go at all.
// decide_values() is pure: the same platform and request always give the same values, so
// every flavour is tested without a cluster and `--dry-run` shows exactly what would run.
//
// A new install gets netpol's values for the platform. An upgrade starts from the values the
// running release was given and changes only what netpol needs: the Hubble export of dropped
// and audited flows, and the audit mode when one is asked for. The datapath of a running
// release (routing mode, IPAM, tunnel protocol, kube-proxy replacement, CNI chaining) is
// never changed by netpol; only the operator's own values file can.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/error.hpp"

namespace netpol::cilium {

// A network provider found in the cluster (names as in provider.json, SPEC §7).
struct ProviderInfo {
  std::string name;      // "cilium", "calico", "aws-vpc-cni", "kindnet", "k3s", "none", ...
  bool enforces = false; // enforces Kubernetes NetworkPolicy as configured now
};

// What the decision needs to know about the cluster: a thin view of detection (provider.json)
// plus the Helm release state.
struct Platform {
  std::string flavor = "generic"; // gke, eks, aks, openshift, k3s, kind, minikube, generic
  ProviderInfo provider{"none", false};
  std::vector<ProviderInfo> other_providers; // further providers found beside `provider`
  bool cilium_release = false;               // Helm release kube-system/cilium exists
  std::optional<bool> existing_audit_mode;   // policy-audit-mode of the Cilium running now
  std::optional<std::string> chart_version;  // version of the chart to install, when known
  // The release's values (`helm get values`) and its chart version, when it exists.
  nlohmann::json release_values = nlohmann::json::object();
  std::optional<std::string> release_chart_version;
  // Version of the Cilium agents running now (detection), for the supported-lines warning.
  std::optional<std::string> running_version;
};

enum class EksMode { chaining, eni };

// What the user asked for (flags and CI variables).
struct Request {
  // --audit-mode / --no-audit-mode / CILIUM_AUDIT_MODE; nullopt: keep the running Cilium's
  // audit mode on an upgrade, else true.
  std::optional<bool> audit_mode;
  EksMode eks_mode = EksMode::chaining; // --eks-mode
  bool force = false;                   // --force: install even where netpol would refuse
  // --native-routing-cidr: the cluster's pod CIDR; GKE's native routing needs it.
  std::optional<std::string> native_routing_cidr;
  // --export-forwarded / CILIUM_EXPORT_FORWARDED: export FORWARDED flows too (aggregated, with
  // a field mask, on charts 1.19+), so `drops` has evidence of allowed traffic.
  bool export_forwarded = false;
  // --values / CILIUM_VALUES_FILE, deep-merged over everything netpol decides.
  nlohmann::json user_values = nlohmann::json::object();
};

struct Decision {
  nlohmann::json values;  // exactly what Helm is given (cilium-values.yaml)
  bool upgrade = false;   // the release exists already
  bool audit_mode = true; // policyAuditMode in `values`
  // Why audit mode has that value: "default", "requested", "kept from the running Cilium",
  // "values file".
  std::string audit_mode_source;
  std::string datapath;           // one line for humans, e.g. "chained on aws-cni"
  std::vector<std::string> notes; // what the user must know or do (pod restarts, --force)
  // Upgrade only: the release's values before (Platform::release_values) and one line per
  // key that changes (changed_keys()); empty when nothing changes.
  nlohmann::json previous_values = nlohmann::json::object();
  std::vector<std::string> changes;
  // Whether the agents restart: cilium-config changes (with rollOutCiliumPods) or the chart
  // version does. `restart_reason` says why, or why not, in one line.
  bool agents_restart = false;
  std::string restart_reason;
};

// The values keys that make up a running Cilium's datapath (JSON pointers): netpol never
// changes them on an upgrade.
const std::vector<std::string>& datapath_keys();

// Decides the values for `platform`. Fails with ErrorCode::config when Cilium cannot or must
// not be installed there (GKE Dataplane V2, another enforcing provider, AKS without BYOCNI,
// k3s with its flannel, OpenShift, kind with kindnet, ...): the message says why in one line
// and details say what to do. `request.force` turns such a refusal into a note, except where
// no values can be decided at all (GKE without a native routing CIDR).
Result<Decision> decide_values(const Platform& platform, const Request& request);

// Helm's merge of values files: objects merge key by key, everything else (lists included)
// is replaced by `overlay`, and a null in `overlay` deletes the key.
nlohmann::json merge_values(nlohmann::json base, const nlohmann::json& overlay);

// Reads a values file (YAML mapping; empty file = no values). A file that is missing, not
// YAML, has several documents or is not a mapping is ErrorCode::config naming file:line.
Result<nlohmann::json> load_values_file(const std::string& path);

const char* to_string(EksMode mode);

} // namespace netpol::cilium
