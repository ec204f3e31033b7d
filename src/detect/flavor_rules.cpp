#include "detect/flavor_rules.hpp"

#include <algorithm>
#include <array>
#include <set>

#include <fmt/format.h>

#include "detect/names.hpp"
#include "detect/rules.hpp"

namespace netpol::detect {
namespace {

using nlohmann::json;

struct FlavorVote {
  Flavor flavor;
  bool strong; // names the platform by itself (a weak vote only hints, e.g. a cloud providerID)
};

// Strong votes decide in this order: a distribution (OpenShift, k3s, minikube, kind) runs on
// top of a cloud's VMs, so it wins over the cloud's node markers.
constexpr std::array<Flavor, 7> k_flavor_priority = {
    Flavor::openshift, Flavor::k3s, Flavor::minikube, Flavor::kind,
    Flavor::gke,       Flavor::eks, Flavor::aks};

class FlavorRules {
public:
  FlavorRules(const Evidence& e, Detection& d) : m_e(e), m_d(d) {}

  void decide() {
    const std::string& v = m_d.kubernetes_version;
    if (contains(v, "-gke."))
      vote(Flavor::gke, true, fmt::format("server version {} (GKE build)", v));
    if (contains(v, "-eks-"))
      vote(Flavor::eks, true, fmt::format("server version {} (EKS build)", v));
    if (contains(v, "+k3s"))
      vote(Flavor::k3s, true, fmt::format("server version {} (k3s build)", v));
    if (contains(v, "+rke2")) add(fmt::format("server version {} (RKE2 build)", v));

    vote_hints();
    vote_nodes();
    if (m_e.api_groups) {
      for (const char* group : {"route.openshift.io", "config.openshift.io"}) {
        if (std::find(m_e.api_groups->begin(), m_e.api_groups->end(), group) !=
            m_e.api_groups->end()) {
          vote(Flavor::openshift, true, fmt::format("api group {} served (OpenShift)", group));
          break;
        }
      }
    }

    for (Flavor f : k_flavor_priority) {
      for (const auto& vt : m_votes) {
        if (vt.strong && vt.flavor == f) {
          m_d.flavor = f;
          m_d.flavor_confidence = Confidence::high;
          return;
        }
      }
    }
    // Only hints: a kubeconfig name is chosen by people, so trust it less.
    for (Flavor f : k_flavor_priority) {
      for (const auto& vt : m_votes) {
        if (vt.flavor == f && m_weak_decides.count(f) != 0) {
          m_d.flavor = f;
          m_d.flavor_confidence = Confidence::medium;
          return;
        }
      }
    }
    m_d.flavor = Flavor::generic;
    const bool saw_nodes = m_e.nodes.has_value() && !m_e.nodes->empty();
    m_d.flavor_confidence =
        saw_nodes && m_e.version && m_e.api_groups ? Confidence::high : Confidence::medium;
    add(saw_nodes ? "no platform marker in server version, nodes, API groups or kubeconfig: generic"
                  : "no node readable: flavour decided without node labels");
  }

private:
  void vote(Flavor f, bool strong, std::string line) {
    m_votes.push_back({f, strong});
    add(std::move(line));
  }

  void vote_hints() {
    const auto& h = m_e.hints;
    std::string host = h.server;
    if (auto p = host.find("://"); p != std::string::npos) host.erase(0, p + 3);
    if (auto p = host.find_first_of("/"); p != std::string::npos) host.erase(p);
    if (auto p = host.rfind(':'); p != std::string::npos) host.erase(p);
    if (host.ends_with(".eks.amazonaws.com")) {
      vote(Flavor::eks, true, fmt::format("server {} is an EKS endpoint", h.server));
    }
    if (host.ends_with(".azmk8s.io")) {
      vote(Flavor::aks, true, fmt::format("server {} is an AKS endpoint", h.server));
    }
    for (const auto* name : {&h.cluster_name, &h.context_name}) {
      if (name->empty()) continue;
      const char* what = name == &h.cluster_name ? "cluster" : "context";
      if (*name == "minikube") {
        weak(Flavor::minikube, fmt::format("kubeconfig {} name {}", what, *name));
      } else if (name->starts_with("kind-")) {
        weak(Flavor::kind, fmt::format("kubeconfig {} name {} (kind naming)", what, *name));
      } else if (name->starts_with("gke_")) {
        weak(Flavor::gke, fmt::format("kubeconfig {} name {} (gcloud naming)", what, *name));
      } else if (name->ends_with(".eksctl.io") || name->starts_with("arn:aws:eks:")) {
        weak(Flavor::eks, fmt::format("kubeconfig {} name {} (EKS naming)", what, *name));
      }
    }
  }

  void weak(Flavor f, std::string line) {
    m_weak_decides.insert(f);
    vote(f, false, std::move(line));
  }

  void vote_nodes() {
    if (!m_e.nodes) return;
    std::set<std::string> seen; // one evidence line per kind of signal, from the first node
    auto once = [&](const std::string& key, Flavor f, bool strong, const std::string& line) {
      if (seen.insert(key).second) vote(f, strong, line);
    };
    auto nodes = *m_e.nodes; // by name, so the evidence does not depend on list order
    std::stable_sort(nodes.begin(), nodes.end(), [](const json& a, const json& b) {
      return str_at(a, "/metadata/name") < str_at(b, "/metadata/name");
    });
    for (const auto& node : nodes) {
      const std::string name = str_at(node, "/metadata/name");
      for (const char* key : {names::k_gke_nodepool_label, names::k_gke_os_label}) {
        if (has_label(node, key)) {
          once("gke-label", Flavor::gke, true,
               fmt::format("node {} label {}={}", name, key, label(node, key)));
        }
      }
      for (const char* key : {names::k_eks_nodegroup_label, names::k_eks_compute_type_label}) {
        if (has_label(node, key)) {
          once("eks-label", Flavor::eks, true,
               fmt::format("node {} label {}={}", name, key, label(node, key)));
        }
      }
      for (const char* key : {names::k_aks_cluster_label, names::k_aks_agentpool_label}) {
        if (has_label(node, key)) {
          once("aks-label", Flavor::aks, true,
               fmt::format("node {} label {}={}", name, key, label(node, key)));
        }
      }
      for (const char* key :
           {"node.kubernetes.io/instance-type", "beta.kubernetes.io/instance-type"}) {
        if (label(node, key) == "k3s") {
          once("k3s-label", Flavor::k3s, true, fmt::format("node {} label {}=k3s", name, key));
        }
      }
      if (has_label(node, names::k_minikube_label)) {
        once("minikube-label", Flavor::minikube, true,
             fmt::format("node {} label {}={}", name, names::k_minikube_label,
                         label(node, names::k_minikube_label)));
      }
      if (has_label(node, names::k_openshift_os_label)) {
        once("openshift-label", Flavor::openshift, true,
             fmt::format("node {} label {}={}", name, names::k_openshift_os_label,
                         label(node, names::k_openshift_os_label)));
      }
      const std::string provider_id = str_at(node, "/spec/providerID");
      const auto pid_line = fmt::format("node {} providerID {}", name, provider_id);
      if (provider_id.starts_with("kind://")) once("pid", Flavor::kind, true, pid_line);
      if (provider_id.starts_with("k3s://")) once("pid", Flavor::k3s, true, pid_line);
      // A cloud VM says where the node runs, not who manages the cluster (kubeadm on EC2).
      if (provider_id.starts_with("gce://")) once("pid", Flavor::gke, false, pid_line);
      if (provider_id.starts_with("aws://")) once("pid", Flavor::eks, false, pid_line);
      if (provider_id.starts_with("azure://")) once("pid", Flavor::aks, false, pid_line);
      const std::string os_image = str_at(node, "/status/nodeInfo/osImage");
      const std::string kubelet = str_at(node, "/status/nodeInfo/kubeletVersion");
      if (!os_image.empty() && seen.insert("os").second) {
        add(fmt::format("node {} osImage {}, kubelet {}", name, os_image, kubelet));
      }
    }
  }
  void add(std::string line) { add_evidence(m_d, std::move(line)); }

  const Evidence& m_e;
  Detection& m_d;
  std::vector<FlavorVote> m_votes;
  std::set<Flavor> m_weak_decides;
};

} // namespace

void decide_flavor(const Evidence& evidence, Detection& detection) {
  FlavorRules(evidence, detection).decide();
}

} // namespace netpol::detect
