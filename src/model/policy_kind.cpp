#include "model/policy_kind.hpp"

namespace netpol::model {

const char* to_string(PolicyKind kind) {
  switch (kind) {
  case PolicyKind::network_policy: return "NetworkPolicy";
  case PolicyKind::cilium_network_policy: return "CiliumNetworkPolicy";
  case PolicyKind::cilium_clusterwide_network_policy: return "CiliumClusterwideNetworkPolicy";
  }
  return "?";
}

std::optional<PolicyKind> policy_kind(std::string_view kind) {
  for (auto k : {PolicyKind::network_policy, PolicyKind::cilium_network_policy,
                 PolicyKind::cilium_clusterwide_network_policy}) {
    if (kind == to_string(k)) return k;
  }
  return std::nullopt;
}

} // namespace netpol::model
