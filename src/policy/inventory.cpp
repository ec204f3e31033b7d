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

bool selector_matches(const json& selector, const Labels& labels) {
  if (selector.is_null()) return true;
  if (!selector.is_object()) return false;
  const json& match_labels = field_at(selector, {"matchLabels"});
  if (match_labels.is_object()) {
    for (const auto& [k, v] : match_labels.items()) {
      auto it = labels.find(k);
      if (!v.is_string() || it == labels.end() || it->second != v.get<std::string>()) return false;
    }
  }
  const json& exprs = field_at(selector, {"matchExpressions"});
  if (exprs.is_array()) {
    for (const auto& e : exprs) {
      const json& key = field_at(e, {"key"});
      const json& op = field_at(e, {"operator"});
      if (!key.is_string() || !op.is_string()) return false;
      auto it = labels.find(key.get<std::string>());
      bool in_values = false;
      const json& values = field_at(e, {"values"});
      if (it != labels.end() && values.is_array()) {
        for (const auto& v : values)
          in_values = in_values || (v.is_string() && v == it->second);
      }
      const std::string o = op.get<std::string>();
      if (o == "In" && !in_values) return false;
      if (o == "NotIn" && in_values) return false;
      if (o == "Exists" && it == labels.end()) return false;
      if (o == "DoesNotExist" && it != labels.end()) return false;
      if (o != "In" && o != "NotIn" && o != "Exists" && o != "DoesNotExist") return false;
    }
  }
  return true;
}

} // namespace netpol::policy
