// What lint needs to know about the cluster's workloads, read from manifests (Pod,
// Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob, DeploymentConfig) and
// Namespace objects, so checks like "policy selects no pods" run offline.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/selector.hpp"
#include "policy/loader.hpp"

namespace netpol::policy {

using model::Labels;

// A container port as the manifest spells it. Unlike analyze's model::ContainerPort the
// protocol stays text: lint compares it with a policy port's protocol as written, so a
// misspelt one ("udp") on both sides still pairs up while validation reports the policy's.
struct ContainerPort {
  std::string name; // "" when unnamed
  int port = 0;
  std::string protocol = "TCP";
};

// A pod or the pod template of a workload.
struct PodInfo {
  std::string kind; // "Pod", "Deployment", ...
  std::string namespace_name;
  std::string name;
  Labels labels;
  std::vector<ContainerPort> ports;
  std::string where; // file:line

  std::string describe() const { return kind + "/" + namespace_name + "/" + name; }
};

struct Inventory {
  std::vector<PodInfo> pods;
  std::map<std::string, Labels> namespaces; // namespaces known with their labels

  // A namespace's labels: the declared ones plus kubernetes.io/metadata.name, which the
  // API server sets on every namespace.
  Labels namespace_labels(const std::string& name) const;
};

// Builds an inventory from objects of other kinds (LoadOptions::collect_other_kinds);
// objects without a namespace are in `default_namespace`. Kinds it does not know are
// ignored.
Inventory make_inventory(const std::vector<OtherObject>& objects,
                         const std::string& default_namespace);

} // namespace netpol::policy
