#include "cilium/platform.hpp"

namespace netpol::cilium {

Platform platform_from(const detect::Detection& detection) {
  Platform p;
  p.flavor = std::string(detect::to_string(detection.flavor));
  p.provider = ProviderInfo{std::string(detect::to_string(detection.provider.name)),
                            detection.provider.enforces_network_policy};
  for (const auto& other : detection.other_providers) {
    p.other_providers.push_back(
        ProviderInfo{std::string(detect::to_string(other.name)), other.enforces_network_policy});
  }
  if (detection.provider.name == detect::ProviderName::cilium) {
    p.existing_audit_mode = detection.provider.audit_mode;
  }
  return p;
}

} // namespace netpol::cilium
