#include "kube/api.hpp"

namespace netpol::kube {

namespace resources {
const ResourceInfo namespaces{"", "v1", "namespaces", "Namespace", false};
const ResourceInfo nodes{"", "v1", "nodes", "Node", false};
const ResourceInfo pods{"", "v1", "pods", "Pod", true};
const ResourceInfo config_maps{"", "v1", "configmaps", "ConfigMap", true};
const ResourceInfo daemon_sets{"apps", "v1", "daemonsets", "DaemonSet", true};
const ResourceInfo deployments{"apps", "v1", "deployments", "Deployment", true};
const ResourceInfo network_policies{"networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy",
                                    true};
const ResourceInfo custom_resource_definitions{
    "apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition", false};
const ResourceInfo cilium_network_policies{"cilium.io", "v2", "ciliumnetworkpolicies",
                                           "CiliumNetworkPolicy", true};
const ResourceInfo cilium_clusterwide_network_policies{
    "cilium.io", "v2", "ciliumclusterwidenetworkpolicies", "CiliumClusterwideNetworkPolicy", false};
const ResourceInfo cilium_endpoints{"cilium.io", "v2", "ciliumendpoints", "CiliumEndpoint", true};
} // namespace resources

std::string describe(const nlohmann::json& object) {
  auto field = [&](const char* key) -> std::string {
    if (!object.is_object() || !object.contains("metadata") || !object["metadata"].is_object())
      return {};
    const auto& m = object["metadata"];
    return m.contains(key) && m[key].is_string() ? m[key].get<std::string>() : std::string();
  };
  std::string kind = object.is_object() && object.contains("kind") && object["kind"].is_string()
                         ? object["kind"].get<std::string>()
                         : std::string("object");
  const auto ns = field("namespace");
  const auto name = field("name");
  return ns.empty() ? kind + "/" + name : kind + "/" + ns + "/" + name;
}

} // namespace netpol::kube
