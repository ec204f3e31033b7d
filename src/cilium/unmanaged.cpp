#include "cilium/unmanaged.hpp"

#include <algorithm>
#include <set>
#include <tuple>

#include <fmt/format.h>

namespace netpol::cilium {
namespace {

using nlohmann::json;

std::string controller_of(const json& pod) {
  const json::json_pointer ptr("/metadata/ownerReferences");
  if (!pod.contains(ptr) || !pod.at(ptr).is_array()) return {};
  for (const auto& ref : pod.at(ptr)) {
    if (ref.value("controller", false)) {
      return ref.value("kind", "") + "/" + ref.value("name", "");
    }
  }
  return {};
}

bool needs_endpoint(const json& pod) {
  const auto& spec = pod.value("spec", json::object());
  if (spec.value("hostNetwork", false)) return false;
  if (spec.value("nodeName", "").empty()) return false; // not started: it will be managed
  if (pod.contains(json::json_pointer("/metadata/deletionTimestamp"))) return false;
  const std::string phase = pod.value(json::json_pointer("/status/phase"), std::string());
  return phase != "Succeeded" && phase != "Failed";
}

} // namespace

Result<std::vector<UnmanagedPod>> unmanaged_pods(kube::KubeApi& api) {
  auto endpoints = api.list(kube::resources::cilium_endpoints, "");
  if (!endpoints) return fail(endpoints.error());
  std::set<std::pair<std::string, std::string>> managed;
  for (const auto& ep : *endpoints) {
    managed.emplace(ep.value(json::json_pointer("/metadata/namespace"), std::string()),
                    ep.value(json::json_pointer("/metadata/name"), std::string()));
  }
  auto pods = api.list(kube::resources::pods, "");
  if (!pods) return fail(pods.error());
  std::vector<UnmanagedPod> out;
  for (const auto& pod : *pods) {
    if (!needs_endpoint(pod)) continue;
    UnmanagedPod u;
    u.namespace_name = pod.value(json::json_pointer("/metadata/namespace"), std::string());
    u.name = pod.value(json::json_pointer("/metadata/name"), std::string());
    if (managed.count({u.namespace_name, u.name}) != 0) continue;
    u.owner = controller_of(pod);
    out.push_back(std::move(u));
  }
  std::sort(out.begin(), out.end(), [](const UnmanagedPod& a, const UnmanagedPod& b) {
    return std::tie(a.namespace_name, a.name) < std::tie(b.namespace_name, b.name);
  });
  return out;
}

std::vector<RestartOutcome> restart_pods(kube::KubeApi& api,
                                         const std::vector<UnmanagedPod>& pods) {
  std::vector<RestartOutcome> out;
  for (const auto& pod : pods) {
    RestartOutcome o{pod, false, {}};
    if (pod.owner.empty()) {
      o.message = "not deleted: no controller would recreate it";
    } else if (auto removed = api.remove(kube::resources::pods, pod.namespace_name, pod.name);
               removed) {
      o.restarted = true;
      o.message = fmt::format("deleted; {} recreates it", pod.owner);
    } else if (kube::is_not_found(removed.error())) {
      o.restarted = true;
      o.message = "already gone";
    } else {
      o.message = removed.error().message;
    }
    out.push_back(std::move(o));
  }
  return out;
}

std::vector<std::string> restart_commands(const std::vector<UnmanagedPod>& pods) {
  std::vector<std::string> out;
  for (const auto& p : pods) {
    out.push_back(fmt::format("kubectl -n {} delete pod {}{}", p.namespace_name, p.name,
                              p.owner.empty() ? "   # bare pod: recreate it yourself" : ""));
  }
  return out;
}

} // namespace netpol::cilium
