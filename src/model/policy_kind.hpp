// The policy kinds netpol reads, validates, applies and analyses.
#pragma once

#include <optional>
#include <string_view>

namespace netpol::model {

enum class PolicyKind {
  network_policy,                    // networking.k8s.io/v1 NetworkPolicy
  cilium_network_policy,             // cilium.io/v2 CiliumNetworkPolicy
  cilium_clusterwide_network_policy, // cilium.io/v2 CiliumClusterwideNetworkPolicy
};

const char* to_string(PolicyKind kind); // the Kubernetes kind name: "NetworkPolicy", ...
// The kind named `kind` ("NetworkPolicy", ...); nullopt for every other kind.
std::optional<PolicyKind> policy_kind(std::string_view kind);

} // namespace netpol::model
