#include "analyze/live.hpp"

#include <set>
#include <tuple>

namespace netpol::analyze {

Result<LiveObjects> list_live(kube::KubeApi& api) {
  LiveObjects out;
  auto namespaces = api.list(kube::resources::namespaces, "");
  if (!namespaces) return fail(namespaces.error());
  out.namespaces = std::move(*namespaces);
  auto pods = api.list(kube::resources::pods, "");
  if (!pods) return fail(pods.error());
  out.pods = std::move(*pods);
  auto policies = api.list(kube::resources::network_policies, "");
  if (!policies) return fail(policies.error());
  out.policies = std::move(*policies);
  for (const char* kind : {"CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy"}) {
    auto resource = api.resolve("cilium.io/v2", kind);
    if (!resource) return fail(resource.error());
    if (!*resource) continue;
    auto items = api.list(**resource, "");
    if (!items) return fail(items.error());
    for (auto& item : *items)
      out.policies.push_back(std::move(item));
  }
  return out;
}

Result<Cluster> cluster_from(const LiveObjects& objects) {
  Cluster cluster;
  for (const auto* list : {&objects.namespaces, &objects.pods}) {
    for (const auto& object : *list) {
      auto ok = add_cluster_object(cluster, object, "default", {});
      if (!ok) return fail(ok.error());
    }
  }
  return cluster;
}

Result<PolicySet> policies_from(const std::vector<nlohmann::json>& objects) {
  PolicySet set;
  for (const auto& object : objects) {
    auto ok = add_policy_object(set, object, "default", {});
    if (!ok) return fail(ok.error());
  }
  return set;
}

PolicySet overlay(const PolicySet& live, const PolicySet& planned) {
  using Key = std::tuple<PolicyKind, std::string, std::string>;
  std::set<Key> replaced;
  for (const auto& p : planned.policies)
    replaced.insert({p.kind, p.namespace_name, p.name});
  PolicySet out;
  for (const auto& p : live.policies) {
    if (!replaced.count({p.kind, p.namespace_name, p.name})) out.policies.push_back(p);
  }
  out.policies.insert(out.policies.end(), planned.policies.begin(), planned.policies.end());
  out.warnings = live.warnings;
  out.warnings.insert(out.warnings.end(), planned.warnings.begin(), planned.warnings.end());
  out.ignored_objects = live.ignored_objects + planned.ignored_objects;
  return out;
}

} // namespace netpol::analyze
