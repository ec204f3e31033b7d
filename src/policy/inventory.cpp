#include "policy/inventory.hpp"

namespace netpol::policy {
namespace {

using nlohmann::json;

Labels labels_of(const json& v) {
  Labels out;
  if (!v.is_object()) return out;
  for (const auto& [k, val] : v.items())
    if (val.is_string()) out[k] = val.get<std::string>();
  return out;
}

std::vector<ContainerPort> ports_of(const json& pod_spec) {
  std::vector<ContainerPort> out;
  for (const char* list : {"containers", "initContainers"}) {
    const json& containers = field_at(pod_spec, {list});
    if (!containers.is_array()) continue;
    for (const auto& c : containers) {
      const json& ports = field_at(c, {"ports"});
      if (!ports.is_array()) continue;
      for (const auto& p : ports) {
        ContainerPort port;
        if (field_at(p, {"name"}).is_string()) port.name = p["name"].get<std::string>();
        if (field_at(p, {"containerPort"}).is_number_integer())
          port.port = p["containerPort"].get<int>();
        if (field_at(p, {"protocol"}).is_string()) port.protocol = p["protocol"].get<std::string>();
        out.push_back(port);
      }
    }
  }
  return out;
}

} // namespace

Labels Inventory::namespace_labels(const std::string& name) const {
  Labels out;
  if (auto it = namespaces.find(name); it != namespaces.end()) out = it->second;
  out["kubernetes.io/metadata.name"] = name;
  return out;
}

Inventory make_inventory(const std::vector<OtherObject>& objects,
                         const std::string& default_namespace) {
  Inventory inv;
  for (const auto& o : objects) {
    const std::string kind =
        field_at(o.value, {"kind"}).is_string() ? o.value["kind"].get<std::string>() : "";
    const json& meta = field_at(o.value, {"metadata"});
    const std::string name =
        field_at(meta, {"name"}).is_string() ? meta["name"].get<std::string>() : "";
    std::string ns =
        field_at(meta, {"namespace"}).is_string() ? meta["namespace"].get<std::string>() : "";
    if (ns.empty()) ns = default_namespace;
    if (kind == "Namespace") {
      inv.namespaces[name] = labels_of(field_at(meta, {"labels"}));
      continue;
    }
    const json* template_ = nullptr;
    if (kind == "Pod") {
      PodInfo pod{kind,
                  ns,
                  name,
                  labels_of(field_at(meta, {"labels"})),
                  ports_of(field_at(o.value, {"spec"})),
                  o.where};
      inv.pods.push_back(std::move(pod));
      continue;
    }
    if (kind == "Deployment" || kind == "StatefulSet" || kind == "DaemonSet" ||
        kind == "ReplicaSet" || kind == "Job" || kind == "DeploymentConfig" ||
        kind == "ReplicationController") {
      template_ = &field_at(o.value, {"spec", "template"});
    } else if (kind == "CronJob") {
      template_ = &field_at(o.value, {"spec", "jobTemplate", "spec", "template"});
    }
    if (!template_ || !template_->is_object()) continue;
    inv.pods.push_back(PodInfo{kind, ns, name,
                               labels_of(field_at(*template_, {"metadata", "labels"})),
                               ports_of(field_at(*template_, {"spec"})), o.where});
  }
  return inv;
}

} // namespace netpol::policy
