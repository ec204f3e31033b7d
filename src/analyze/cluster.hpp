// What analyze evaluates policies against: namespaces with their labels and pods with their
// labels, IPs and named container ports. Built from Namespace and Pod objects (a file for
// offline use; the same objects come from the API server for --live).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/ip.hpp"
#include "model/issue.hpp"
#include "model/port.hpp"
#include "model/selector.hpp"

namespace netpol::analyze {

// The engine speaks the shared policy model (model/); these names are its vocabulary.
using model::ContainerPort;
using model::IpAddress;
using model::IpBlock;
using model::Issue;
using model::Labels;
using model::LabelSelector;
using model::parse_protocol;
using model::Parsed;
using model::problem;
using model::Protocol;
using model::Requirement;
using model::SelectorOperator;
using model::to_string;

struct Namespace {
  std::string name;
  Labels labels; // always carries kubernetes.io/metadata.name, as the API server sets it
};

struct Pod {
  std::string namespace_name;
  std::string name;
  Labels labels;
  std::vector<IpAddress> ips;
  std::vector<ContainerPort> ports; // of containers and init (sidecar) containers
  std::string service_account = "default";
  std::string workload; // "frontend" for frontend-7d9f8c-abcde; see workload_name()

  std::string id() const { return namespace_name + "/" + name; }
  // The container port named `name` for `protocol`, if the pod has one.
  std::optional<int> named_port(std::string_view name, Protocol protocol) const;
};

// The workload a pod belongs to, for grouping: the owning ReplicaSet's name less its pod
// template hash (the Deployment), the StatefulSet/DaemonSet/Job owner, else the pod name less
// a pod-template-hash suffix, else the pod name.
std::string workload_name(const nlohmann::json& pod_object);

class Cluster {
public:
  // Adds a Namespace or Pod object, or every such item of a List (kind List, PodList,
  // NamespaceList). Other kinds are ignored and reported false. A pod without
  // metadata.namespace goes to `default_namespace`. Pods that are no policy endpoint are
  // left out: those in phase Succeeded or Failed, those with a status phase (the API server's)
  // but no IP yet (Pending), and hostNetwork pods (counted: they are the node, which only an
  // ipBlock matches). A pod without a status (written by hand) stays. A duplicate pod or a
  // malformed object is an Issue.
  Parsed<bool> add_object(const nlohmann::json& object, const std::string& default_namespace);

  void add_namespace(Namespace ns);
  // Adds a pod (and its namespace, with default labels, if unknown). Fails on a duplicate.
  Parsed<void> add_pod(Pod pod);

  // Pods in "namespace/name" order; indices into this vector identify pods everywhere.
  const std::vector<Pod>& pods() const;
  const std::map<std::string, Namespace, std::less<>>& namespaces() const { return m_namespaces; }
  const Namespace* find_namespace(std::string_view name) const;
  // hostNetwork pods add_object left out of pods().
  size_t host_network_pods() const { return m_host_network_pods; }
  // Index of the pod "ns/name", or nullopt.
  std::optional<size_t> find_pod(std::string_view id) const;

private:
  Parsed<bool> add_object_unchecked(const nlohmann::json& object,
                                    const std::string& default_namespace);

  std::map<std::string, Namespace, std::less<>> m_namespaces;
  std::unordered_set<std::string> m_pod_ids;
  mutable std::vector<Pod> m_pods;
  mutable bool m_sorted = true;
  size_t m_host_network_pods = 0;
};

// "N hostNetwork pods are the node: not analysed as pods", or empty when there are none.
std::string host_network_note(const Cluster& cluster);

// Parses one Pod object (no List handling).
Parsed<Pod> parse_pod(const nlohmann::json& object, const std::string& default_namespace);
// Parses one Namespace object.
Parsed<Namespace> parse_namespace(const nlohmann::json& object);

} // namespace netpol::analyze
