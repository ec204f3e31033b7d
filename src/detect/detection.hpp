// What `netpol detect` concludes about a cluster: its flavour, the network provider that
// handles (or ignores) NetworkPolicy, and whether drops can be logged. `run`,
// `install-cilium` and `apply` consume a Detection; `detect` writes it out as provider.json
// (SPEC §7), netpol.env (GitLab dotenv) and a human table.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace netpol::detect {

enum class Flavor { gke, eks, aks, openshift, k3s, kind, minikube, generic };

enum class ProviderName {
  cilium,
  gke_dataplane_v2, // Google-managed Cilium (DaemonSet anetd): never install Cilium on top
  calico,
  canal,
  weave,
  kube_router,
  antrea,
  aws_vpc_cni,
  azure_npm,
  flannel,
  ovn_kubernetes,
  kindnet,
  k3s, // the policy controller built into the k3s process (no pods)
  none,
};

enum class DropLogSource { hubble_export_stdout, none };

// How far the conclusion can be trusted. `high`: decided from the objects that define it.
// `medium`: a supporting read was forbidden or a rule had to guess (e.g. an image tag that
// says nothing). `low`: the reads that decide the provider were forbidden or failed.
enum class Confidence { high, medium, low };

// SPEC §7 names: "gke-dataplane-v2", "aws-vpc-cni", "hubble-export-stdout", ...
std::string_view to_string(Flavor flavor);
std::string_view to_string(ProviderName name);
std::string_view to_string(DropLogSource source);
std::string_view to_string(Confidence confidence);
std::optional<Flavor> parse_flavor(std::string_view text);
std::optional<ProviderName> parse_provider_name(std::string_view text);

struct Provider {
  ProviderName name = ProviderName::none;
  std::optional<std::string>
      version; // from the image tag, without a leading "v"; nullopt if unknown
  std::optional<std::string> namespace_name; // where its agents run; nullopt for none/k3s
  bool enforces_network_policy = false;
  bool audit_mode = false; // Cilium policy-audit-mode: denials are logged, not enforced
  DropLogSource drop_log_source = DropLogSource::none;
  // Agents ready (DaemonSet numberReady == desiredNumberScheduled); nullopt if not applicable.
  std::optional<bool> ready;
  Confidence confidence = Confidence::high;
};

// A cluster-wide policy of the Network Policy API (policy.networking.k8s.io) that exists in
// the cluster: it is in force wherever the provider implements that API.
struct ClusterPolicy {
  std::string api_version; // "policy.networking.k8s.io/v1beta1"
  std::string kind;        // ClusterNetworkPolicy, AdminNetworkPolicy, BaselineAdminNetworkPolicy
  std::string name;
  std::string tier; // "Admin" or "Baseline" (ClusterNetworkPolicy spec.tier; ANP: Admin)
  std::optional<int64_t> priority;
};

struct Detection {
  std::string kubernetes_version; // /version gitVersion, "" when unreadable
  Flavor flavor = Flavor::generic;
  Confidence flavor_confidence = Confidence::high;
  Provider provider; // the one that decides enforcement (ProviderName::none if nothing)
  std::vector<Provider> other_providers; // also present (chained CNI, flannel under Canal, ...)
  std::vector<ClusterPolicy> cluster_network_policies; // by kind, then name
  std::vector<std::string> evidence; // one line per fact behind the conclusions, in order found
  Confidence confidence = Confidence::high; // the lowest of flavour and provider confidence
  uint64_t api_requests = 0;                // requests the detection sent
  // Reads the token was not allowed ("list nodes", "get configmap kube-system/cilium-config"):
  // the rights that would have given more evidence. Not in provider.json (the evidence names
  // them too); the command says which rights to grant.
  std::vector<std::string> forbidden_reads;

  // Is NetworkPolicy enforced right now (not merely audited)?
  bool enforcing() const { return provider.enforces_network_policy && !provider.audit_mode; }

  // provider.json (SPEC §7) plus "confidence", provider "ready"/"confidence" and
  // "cluster_network_policies".
  nlohmann::ordered_json to_json() const;
  // Inverse of to_json(); nullopt when a required field is missing or names an unknown value.
  static std::optional<Detection> from_json(const nlohmann::json& json);

  // netpol.env for artifacts:reports:dotenv: KEY=value lines, no quotes, no newlines in
  // values, well under GitLab's 5 KB limit.
  std::string to_dotenv() const;

  // The human table printed by `netpol detect` (text format).
  std::string to_text() const;
};

} // namespace netpol::detect
