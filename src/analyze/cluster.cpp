#include "analyze/cluster.hpp"

#include <algorithm>

#include "util/yaml.hpp"

namespace netpol::analyze {
namespace {

constexpr const char* k_namespace_name_label = "kubernetes.io/metadata.name";

Parsed<Labels> parse_labels(const nlohmann::json& metadata, const std::string& pointer) {
  Labels labels;
  auto it = metadata.find("labels");
  if (it == metadata.end() || it->is_null()) {
    return labels;
  }
  if (!it->is_object()) {
    return problem(pointer, "labels must be a map of strings");
  }
  for (const auto& [k, v] : it->items()) {
    if (v.is_string()) {
      labels[k] = v.get<std::string>();
    } else if (v.is_number() || v.is_boolean()) {
      labels[k] = v.dump();
    } else {
      return problem(pointer + "/" + pointer_token(k), "label value must be a string");
    }
  }
  return labels;
}

Parsed<void> parse_container_ports(const nlohmann::json& containers, const std::string& pointer,
                                   std::vector<ContainerPort>& out) {
  if (containers.is_null()) {
    return {};
  }
  if (!containers.is_array()) {
    return problem(pointer, "containers must be a list");
  }
  for (size_t c = 0; c < containers.size(); ++c) {
    const auto& ports = containers[c].value("ports", nlohmann::json());
    if (ports.is_null()) continue;
    const std::string here = pointer + "/" + std::to_string(c) + "/ports";
    if (!ports.is_array()) {
      return problem(here, "ports must be a list");
    }
    for (size_t p = 0; p < ports.size(); ++p) {
      const auto& port = ports[p];
      const std::string at = here + "/" + std::to_string(p);
      if (!port.is_object() || !port.contains("containerPort") ||
          !port["containerPort"].is_number_integer()) {
        return problem(at, "container port needs an integer containerPort");
      }
      ContainerPort cp;
      cp.port = port["containerPort"].get<int>();
      cp.name = port.value("name", std::string());
      const auto protocol = parse_protocol(port.value("protocol", std::string("TCP")));
      if (!protocol) {
        return problem(at + "/protocol", "unsupported protocol");
      }
      cp.protocol = *protocol;
      out.push_back(std::move(cp));
    }
  }
  return {};
}

} // namespace

std::optional<int> Pod::named_port(std::string_view port_name, Protocol protocol) const {
  for (const auto& p : ports) {
    if (p.protocol == protocol && p.name == port_name) return p.port;
  }
  return std::nullopt;
}

std::string workload_name(const nlohmann::json& object) {
  const auto& metadata = object.value("metadata", nlohmann::json::object());
  const std::string name = metadata.value("name", std::string());
  if (auto owners = metadata.find("ownerReferences");
      owners != metadata.end() && owners->is_array()) {
    for (const auto& owner : *owners) {
      const std::string kind = owner.value("kind", std::string());
      std::string owner_name = owner.value("name", std::string());
      if (owner_name.empty()) continue;
      if (kind == "ReplicaSet") {
        // A Deployment's ReplicaSet is "<deployment>-<pod-template-hash>".
        const auto labels = metadata.value("labels", nlohmann::json::object());
        const std::string hash = labels.value("pod-template-hash", std::string());
        if (!hash.empty() && owner_name.size() > hash.size() + 1 &&
            owner_name.compare(owner_name.size() - hash.size(), hash.size(), hash) == 0) {
          owner_name.resize(owner_name.size() - hash.size() - 1);
        }
        return owner_name;
      }
      if (kind == "StatefulSet" || kind == "DaemonSet" || kind == "Job" || kind == "Deployment") {
        return owner_name;
      }
    }
  }
  // Without owners (pods written by hand in a file): strip "-<hash>-<suffix>" of a
  // Deployment pod when the pod-template-hash label says which part is the hash.
  const auto labels = metadata.value("labels", nlohmann::json::object());
  if (auto hash = labels.find("pod-template-hash"); hash != labels.end() && hash->is_string()) {
    std::string marker = "-";
    marker += hash->get<std::string>();
    marker += '-';
    if (auto pos = name.rfind(marker); pos != std::string::npos && pos > 0) {
      return name.substr(0, pos);
    }
  }
  if (auto sts = labels.find("statefulset.kubernetes.io/pod-name"); sts != labels.end()) {
    if (auto dash = name.rfind('-'); dash != std::string::npos && dash > 0) {
      return name.substr(0, dash);
    }
  }
  return name;
}

Parsed<Pod> parse_pod(const nlohmann::json& object, const std::string& default_namespace) {
  const auto& metadata = object.value("metadata", nlohmann::json::object());
  if (!metadata.is_object() || !metadata.contains("name") || !metadata["name"].is_string()) {
    return problem("/metadata", "Pod needs metadata.name");
  }
  Pod pod;
  pod.name = metadata["name"].get<std::string>();
  pod.namespace_name = metadata.value("namespace", default_namespace);
  auto labels = parse_labels(metadata, "/metadata/labels");
  if (!labels) return tl::unexpected(labels.error());
  pod.labels = std::move(*labels);
  pod.workload = workload_name(object);

  const auto& spec = object.value("spec", nlohmann::json::object());
  if (spec.is_object()) {
    for (const char* field : {"containers", "initContainers"}) {
      auto ok = parse_container_ports(spec.value(field, nlohmann::json()),
                                      std::string("/spec/") + field, pod.ports);
      if (!ok) return tl::unexpected(ok.error());
    }
    pod.service_account = spec.value("serviceAccountName", std::string("default"));
  }

  const auto& status = object.value("status", nlohmann::json::object());
  if (status.is_object()) {
    std::vector<std::string> texts;
    if (auto ips = status.find("podIPs"); ips != status.end() && ips->is_array()) {
      for (const auto& ip : *ips) {
        if (ip.is_object() && ip.contains("ip") && ip["ip"].is_string()) {
          texts.push_back(ip["ip"].get<std::string>());
        }
      }
    }
    if (auto ip = status.find("podIP");
        ip != status.end() && ip->is_string() &&
        std::find(texts.begin(), texts.end(), ip->get<std::string>()) == texts.end()) {
      texts.push_back(ip->get<std::string>());
    }
    for (const auto& text : texts) {
      auto address = IpAddress::parse(text);
      if (!address) {
        return problem("/status/podIPs", "'" + text + "' is not an IP address");
      }
      pod.ips.push_back(*address);
    }
  }
  return pod;
}

Parsed<Namespace> parse_namespace(const nlohmann::json& object) {
  const auto& metadata = object.value("metadata", nlohmann::json::object());
  if (!metadata.is_object() || !metadata.contains("name") || !metadata["name"].is_string()) {
    return problem("/metadata", "Namespace needs metadata.name");
  }
  Namespace ns;
  ns.name = metadata["name"].get<std::string>();
  auto labels = parse_labels(metadata, "/metadata/labels");
  if (!labels) return tl::unexpected(labels.error());
  ns.labels = std::move(*labels);
  return ns;
}

Parsed<bool> Cluster::add_object(const nlohmann::json& object,
                                 const std::string& default_namespace) {
  try {
    return add_object_unchecked(object, default_namespace);
  } catch (const nlohmann::json::exception& e) {
    return problem("", std::string("unexpected field type: ") + e.what());
  }
}

Parsed<bool> Cluster::add_object_unchecked(const nlohmann::json& object,
                                           const std::string& default_namespace) {
  if (!object.is_object()) {
    return false;
  }
  const std::string kind = object.value("kind", std::string());
  if (kind == "List" || kind == "PodList" || kind == "NamespaceList") {
    const auto& items = object.value("items", nlohmann::json::array());
    bool any = false;
    for (size_t i = 0; i < items.size(); ++i) {
      auto added = add_object_unchecked(items[i], default_namespace);
      if (!added) {
        auto issue = added.error();
        issue.pointer = "/items/" + std::to_string(i) + issue.pointer;
        return tl::unexpected(issue);
      }
      any = any || *added;
    }
    return any;
  }
  if (kind == "Namespace") {
    auto ns = parse_namespace(object);
    if (!ns) return tl::unexpected(ns.error());
    add_namespace(std::move(*ns));
    return true;
  }
  if (kind == "Pod") {
    const auto status = object.value("status", nlohmann::json::object());
    const auto spec = object.value("spec", nlohmann::json::object());
    const std::string phase = status.is_object() ? status.value("phase", std::string()) : "";
    if (phase == "Succeeded" || phase == "Failed") {
      return true;
    }
    // The pod shares the node's network namespace: its traffic is the node's, no pod selector
    // selects it, only an ipBlock holding the node's IP does. It is no endpoint of the matrix.
    if (spec.is_object() && spec.value("hostNetwork", false)) {
      ++m_host_network_pods;
      return true;
    }
    auto pod = parse_pod(object, default_namespace);
    if (!pod) return tl::unexpected(pod.error());
    // A status with a phase is the API server's: without an IP the pod takes no traffic yet
    // (Pending). A pod written by hand without a status is a planned one and stays.
    if (!phase.empty() && pod->ips.empty()) {
      return true;
    }
    auto ok = add_pod(std::move(*pod));
    if (!ok) return tl::unexpected(ok.error());
    return true;
  }
  return false;
}

void Cluster::add_namespace(Namespace ns) {
  ns.labels.emplace(k_namespace_name_label, ns.name);
  m_namespaces[ns.name] = std::move(ns);
}

Parsed<void> Cluster::add_pod(Pod pod) {
  if (!m_pod_ids.insert(pod.id()).second) {
    return problem("/metadata/name", "pod " + pod.id() + " appears twice");
  }
  if (m_namespaces.find(pod.namespace_name) == m_namespaces.end()) {
    add_namespace(Namespace{pod.namespace_name, {}});
  }
  m_pods.push_back(std::move(pod));
  m_sorted = false;
  return {};
}

const std::vector<Pod>& Cluster::pods() const {
  if (!m_sorted) {
    std::sort(m_pods.begin(), m_pods.end(), [](const Pod& a, const Pod& b) {
      return std::tie(a.namespace_name, a.name) < std::tie(b.namespace_name, b.name);
    });
    m_sorted = true;
  }
  return m_pods;
}

const Namespace* Cluster::find_namespace(std::string_view name) const {
  auto it = m_namespaces.find(name);
  return it == m_namespaces.end() ? nullptr : &it->second;
}

std::string host_network_note(const Cluster& cluster) {
  const size_t n = cluster.host_network_pods();
  if (n == 0) return {};
  return std::to_string(n) + (n == 1 ? " hostNetwork pod is" : " hostNetwork pods are") +
         " the node: not analysed as pods";
}

std::optional<size_t> Cluster::find_pod(std::string_view id) const {
  const auto& all = pods();
  const auto slash = id.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  const auto ns = id.substr(0, slash);
  const auto name = id.substr(slash + 1);
  auto it = std::lower_bound(
      all.begin(), all.end(), std::pair(ns, name),
      [](const Pod& p, const std::pair<std::string_view, std::string_view>& k) {
        return std::pair<std::string_view, std::string_view>(p.namespace_name, p.name) < k;
      });
  if (it != all.end() && it->namespace_name == ns && it->name == name) {
    return static_cast<size_t>(it - all.begin());
  }
  return std::nullopt;
}

} // namespace netpol::analyze
