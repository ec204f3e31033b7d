#include "detect/classify.hpp"

#include <algorithm>
#include <tuple>

#include <fmt/format.h>

#include "detect/flavor_rules.hpp"
#include "detect/provider_rules.hpp"
#include "detect/rules.hpp"

namespace netpol::detect {
namespace {

using nlohmann::json;

class Classifier {
public:
  explicit Classifier(const Evidence& e) : m_e(e) {}

  Detection run() {
    note_version();
    note_forbidden_reads();
    decide_flavor(m_e, m_d);
    decide_providers(m_e, m_d);
    decide_cluster_policies();
    m_d.confidence = lowest(m_d.flavor_confidence, m_d.provider.confidence);
    return std::move(m_d);
  }

private:
  void add(std::string line) { add_evidence(m_d, std::move(line)); }

  void note_version() {
    if (m_e.version) {
      m_d.kubernetes_version = str_at(*m_e.version, "/gitVersion");
    }
  }

  void note_forbidden_reads() {
    for (const auto& r : m_e.reads) {
      if (r.status == ReadStatus::forbidden || r.status == ReadStatus::failed) {
        // The server's wording goes to the debug log; the evidence names the read only.
        add(fmt::format("{}: {}", r.what, read_word(r.status)));
      }
      // The per-namespace DaemonSet lists only stand in for the cluster-wide one: that is
      // the right that is missing.
      if (r.status == ReadStatus::forbidden && !r.what.starts_with("list daemonsets in ")) {
        m_d.forbidden_reads.push_back(r.what);
      }
    }
  }

  // ClusterNetworkPolicy (and the AdminNetworkPolicy it replaced) are enforced only by the
  // providers that implement the Network Policy API; list what exists, and say who enforces.
  void decide_cluster_policies() {
    for (const auto& o : m_e.cluster_policies) {
      ClusterPolicy c;
      c.api_version = str_at(o, "/apiVersion");
      c.kind = str_at(o, "/kind");
      c.name = str_at(o, "/metadata/name");
      c.tier = str_at(o, "/spec/tier");
      if (c.tier.empty()) c.tier = c.kind == "BaselineAdminNetworkPolicy" ? "Baseline" : "Admin";
      const json::json_pointer priority("/spec/priority");
      if (o.contains(priority) && o.at(priority).is_number_integer()) {
        c.priority = o.at(priority).get<int64_t>();
      }
      m_d.cluster_network_policies.push_back(std::move(c));
    }
    auto& list = m_d.cluster_network_policies;
    std::sort(list.begin(), list.end(), [](const ClusterPolicy& a, const ClusterPolicy& b) {
      return std::tie(a.kind, a.name) < std::tie(b.kind, b.name);
    });
    for (const auto& c : list) {
      add(fmt::format("{} {} {} (tier {}{}) exists", c.api_version, c.kind, c.name, c.tier,
                      c.priority ? fmt::format(", priority {}", *c.priority) : ""));
    }
    if (!list.empty()) {
      add("cluster-wide policies are enforced where the provider implements the Network Policy "
          "API (Calico 3.32+, Antrea, the AWS network policy agent, Cilium 1.20+ with "
          "enable-k8s-cluster-network-policy), not by NetworkPolicy support alone");
    }
  }

  const Evidence& m_e;
  Detection m_d;
};

} // namespace

Detection classify(const Evidence& evidence) {
  return Classifier(evidence).run();
}

} // namespace netpol::detect
