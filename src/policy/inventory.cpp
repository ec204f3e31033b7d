#include "policy/inventory.hpp"

namespace netpol::policy {
namespace {

using nlohmann::json;

const json& at(const json& v, std::initializer_list<const char*> path) {
  static const json null_value;
  const json* cur = &v;
  for (const char* key : path) {
    if (!cur->is_object()) return null_value;
    auto it = cur->find(key);
    if (it == cur->end()) return null_value;
    cur = &*it;
  }
  return *cur;
}

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
    const json& containers = at(pod_spec, {list});
    if (!containers.is_array()) continue;
    for (const auto& c : containers) {
      const json& ports = at(c, {"ports"});
      if (!ports.is_array()) continue;
      for (const auto& p : ports) {
        ContainerPort port;
        if (at(p, {"name"}).is_string()) port.name = p["name"].get<std::string>();
        if (at(p, {"containerPort"}).is_number_integer()) port.port = p["containerPort"].get<int>();
        if (at(p, {"protocol"}).is_string()) port.protocol = p["protocol"].get<std::string>();
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
        at(o.value, {"kind"}).is_string() ? o.value["kind"].get<std::string>() : "";
    const json& meta = at(o.value, {"metadata"});
    const std::string name = at(meta, {"name"}).is_string() ? meta["name"].get<std::string>() : "";
    std::string ns =
        at(meta, {"namespace"}).is_string() ? meta["namespace"].get<std::string>() : "";
    if (ns.empty()) ns = default_namespace;
    if (kind == "Namespace") {
      inv.namespaces[name] = labels_of(at(meta, {"labels"}));
      continue;
    }
    const json* template_ = nullptr;
    if (kind == "Pod") {
      PodInfo pod{
          kind,   ns, name, labels_of(at(meta, {"labels"})), ports_of(at(o.value, {"spec"})),
          o.where};
      inv.pods.push_back(std::move(pod));
      continue;
    }
    if (kind == "Deployment" || kind == "StatefulSet" || kind == "DaemonSet" ||
        kind == "ReplicaSet" || kind == "Job" || kind == "DeploymentConfig" ||
        kind == "ReplicationController") {
      template_ = &at(o.value, {"spec", "template"});
    } else if (kind == "CronJob") {
      template_ = &at(o.value, {"spec", "jobTemplate", "spec", "template"});
    }
    if (!template_ || !template_->is_object()) continue;
    inv.pods.push_back(PodInfo{kind, ns, name, labels_of(at(*template_, {"metadata", "labels"})),
                               ports_of(at(*template_, {"spec"})), o.where});
  }
  return inv;
}

bool selector_matches(const json& selector, const Labels& labels) {
  if (selector.is_null()) return true;
  if (!selector.is_object()) return false;
  const json& match_labels = at(selector, {"matchLabels"});
  if (match_labels.is_object()) {
    for (const auto& [k, v] : match_labels.items()) {
      auto it = labels.find(k);
      if (!v.is_string() || it == labels.end() || it->second != v.get<std::string>()) return false;
    }
  }
  const json& exprs = at(selector, {"matchExpressions"});
  if (exprs.is_array()) {
    for (const auto& e : exprs) {
      const json& key = at(e, {"key"});
      const json& op = at(e, {"operator"});
      if (!key.is_string() || !op.is_string()) return false;
      auto it = labels.find(key.get<std::string>());
      bool in_values = false;
      const json& values = at(e, {"values"});
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
