#include "analyze/live.hpp"

#include <future>
#include <set>
#include <tuple>

#include <fmt/format.h>

namespace netpol::analyze {

Result<LiveObjects> list_live(kube::KubeApi& api) {
  // The lists are independent: send them at once (KubeApi is thread-safe), so a high-latency
  // API server costs one round of pages, not five.
  using Items = Result<std::vector<nlohmann::json>>;
  auto list_kind = [&api](const char* kind) -> Items {
    auto resource = api.resolve("cilium.io/v2", kind);
    if (!resource) return fail(resource.error());
    if (!*resource) return std::vector<nlohmann::json>{};
    return api.list(**resource, "");
  };
  auto namespaces =
      std::async(std::launch::async, [&api] { return api.list(kube::resources::namespaces, ""); });
  auto pods =
      std::async(std::launch::async, [&api] { return api.list(kube::resources::pods, ""); });
  auto cilium = std::async(std::launch::async, [&] { return list_kind("CiliumNetworkPolicy"); });
  auto clusterwide =
      std::async(std::launch::async, [&] { return list_kind("CiliumClusterwideNetworkPolicy"); });
  Items policies = api.list(kube::resources::network_policies, "");
  // Every future is waited for before returning, whatever failed first.
  Items results[] = {namespaces.get(), pods.get(), std::move(policies), cilium.get(),
                     clusterwide.get()};
  for (const auto& r : results) {
    if (!r) return fail(r.error());
  }
  LiveObjects out;
  out.namespaces = std::move(*results[0]);
  out.pods = std::move(*results[1]);
  out.policies = std::move(*results[2]);
  for (int i : {3, 4}) {
    for (auto& item : *results[i])
      out.policies.push_back(std::move(item));
  }
  return out;
}

namespace {

// The objects come from the server: one of a shape the model does not expect (a field of
// another JSON type) is the server's error, named with the object, not netpol's.
Error unexpected_shape(const nlohmann::json& object, const std::exception& e) {
  return Error(ErrorCode::api,
               fmt::format("{}: the server sent an object of an unexpected shape ({})",
                           kube::describe(object), e.what()));
}

} // namespace

Result<Cluster> cluster_from(const LiveObjects& objects) {
  Cluster cluster;
  for (const auto* list : {&objects.namespaces, &objects.pods}) {
    for (const auto& object : *list) {
      try {
        auto ok = add_cluster_object(cluster, object, "default", {});
        if (!ok) return fail(ok.error());
      } catch (const nlohmann::json::exception& e) {
        return fail(unexpected_shape(object, e));
      }
    }
  }
  return cluster;
}

Result<PolicySet> policies_from(const std::vector<nlohmann::json>& objects) {
  PolicySet set;
  for (const auto& object : objects) {
    try {
      auto ok = add_policy_object(set, object, "default", {});
      if (!ok) return fail(ok.error());
    } catch (const nlohmann::json::exception& e) {
      return fail(unexpected_shape(object, e));
    }
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
