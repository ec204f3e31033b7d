#include "policy/policy_object.hpp"

namespace netpol::policy {

const char* to_string(PolicyKind kind) {
  switch (kind) {
  case PolicyKind::network_policy: return "NetworkPolicy";
  case PolicyKind::cilium_network_policy: return "CiliumNetworkPolicy";
  case PolicyKind::cilium_clusterwide_network_policy: return "CiliumClusterwideNetworkPolicy";
  }
  return "?";
}

std::string PolicyObject::where(const std::string& pointer) const {
  if (!document) return origin;
  return document->where(base_pointer + pointer);
}

namespace {
std::string metadata_string(const nlohmann::json& value, const char* key) {
  if (!value.is_object()) return {};
  auto meta = value.find("metadata");
  if (meta == value.end() || !meta->is_object()) return {};
  auto it = meta->find(key);
  if (it == meta->end() || !it->is_string()) return {};
  return it->get<std::string>();
}
} // namespace

std::string PolicyObject::name() const {
  return metadata_string(value, "name");
}
std::string PolicyObject::namespace_name() const {
  return metadata_string(value, "namespace");
}

std::string PolicyObject::describe() const {
  const std::string ns = namespace_name();
  const std::string n = name().empty() ? "<unnamed>" : name();
  return std::string(to_string(kind)) + "/" + (ns.empty() ? "" : ns + "/") + n;
}

} // namespace netpol::policy
