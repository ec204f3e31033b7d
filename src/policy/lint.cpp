#include "policy/lint.hpp"

#include <map>
#include <set>

#include <fmt/format.h>

#include "model/selector.hpp"

namespace netpol::policy {
namespace {

using nlohmann::json;

bool non_empty_array(const json& v) {
  return v.is_array() && !v.empty();
}

// Where a peer of a NetworkPolicy rule stands: "/spec/ingress/0/from/1" and
// "ingress[0].from[1]".
struct PeerAt {
  std::string pointer;
  std::string field;
};

// Calls `fn` for every peer of every ingress (`from`) and egress (`to`) rule of `spec`.
template <typename Fn> void for_each_peer(const json& spec, Fn&& fn) {
  for (const auto& [direction, key] : {std::pair{"ingress", "from"}, std::pair{"egress", "to"}}) {
    const json& rules = field_at(spec, {direction});
    if (!rules.is_array()) continue;
    for (size_t i = 0; i < rules.size(); ++i) {
      const json& peers = field_at(rules[i], {key});
      if (!peers.is_array()) continue;
      for (size_t j = 0; j < peers.size(); ++j) {
        fn(PeerAt{fmt::format("/spec/{}/{}/{}/{}", direction, i, key, j),
                  fmt::format("{}[{}].{}[{}]", direction, i, key, j)},
           peers[j]);
      }
    }
  }
}

bool selects_everything(const json& selector) {
  return selector.is_null() ||
         (selector.is_object() && field_at(selector, {"matchLabels"}).empty() &&
          field_at(selector, {"matchExpressions"}).empty());
}

struct Directions {
  bool ingress = false;
  bool egress = false;
  bool explicit_types = false;
};

// policyTypes as the API server defaults them: Ingress always, Egress when egress rules exist.
Directions effective_types(const json& spec) {
  Directions d;
  const json& types = field_at(spec, {"policyTypes"});
  if (non_empty_array(types)) {
    d.explicit_types = true;
    for (const auto& t : types) {
      d.ingress = d.ingress || t == "Ingress";
      d.egress = d.egress || t == "Egress";
    }
    return d;
  }
  d.ingress = true;
  d.egress = non_empty_array(field_at(spec, {"egress"}));
  return d;
}

// Does a rule's port list allow `protocol` port 53? Named ports count when they look like
// DNS (CoreDNS names its ports "dns" and "dns-tcp").
bool rule_allows_dns(const json& rule, const std::string& protocol) {
  const json& ports = field_at(rule, {"ports"});
  if (!non_empty_array(ports)) return true;
  for (const auto& p : ports) {
    const json& proto = field_at(p, {"protocol"});
    if ((proto.is_string() ? proto.get<std::string>() : "TCP") != protocol) continue;
    const json& port = field_at(p, {"port"});
    if (port.is_null()) return true;
    if (port.is_number_integer()) {
      const int64_t v = port.get<int64_t>();
      const json& end = field_at(p, {"endPort"});
      const int64_t e = end.is_number_integer() ? end.get<int64_t>() : v;
      if (v <= 53 && 53 <= e) return true;
    } else if (port.is_string()) {
      const auto& name = port.get_ref<const std::string&>();
      if (name.find("dns") != std::string::npos || name == "domain") return true;
    }
  }
  return false;
}

class Linter {
public:
  Linter(const std::vector<PolicyObject>& policies, const LintOptions& options)
      : m_policies(policies), m_options(options) {}

  std::vector<Finding> run() {
    // Namespace and egress isolation per policy, computed once: egress-blocks-dns compares
    // every policy with every other one.
    m_egress.reserve(m_policies.size());
    for (const auto& p : m_policies) {
      const bool egress = p.kind == PolicyKind::network_policy && p.value.is_object() &&
                          effective_types(field_at(p.value, {"spec"})).egress;
      m_egress.push_back({egress ? ns_of(p) : std::string(), egress});
    }
    duplicates();
    for (const auto& p : m_policies) {
      if (p.kind != PolicyKind::network_policy || !p.value.is_object()) continue;
      const json& spec = field_at(p.value, {"spec"});
      rules_ignored(p, spec);
      egress_dns(p, spec);
      named_port_to_ipblock(p, spec);
      denies_all(p, spec);
      ipblock_covers_pods(p, spec);
      if (m_options.inventory) {
        selects_no_pods(p, spec);
        peers_select_no_pods(p, spec);
        named_ports_exposed(p, spec);
      }
    }
    if (m_options.inventory) pods_not_isolated();
    namespaces_without_default_deny();
    return std::move(m_findings);
  }

private:
  std::string ns_of(const PolicyObject& p) const {
    const std::string ns = p.namespace_name();
    return ns.empty() ? m_options.default_namespace : ns;
  }

  void add(Severity s, const char* check, const PolicyObject& p, const std::string& pointer,
           std::string message) {
    m_findings.push_back({s, check, p.describe(), p.where(pointer), std::move(message)});
  }

  std::vector<const PodInfo*> pods_in(const std::string& ns, const json& selector) const {
    std::vector<const PodInfo*> out;
    const auto read = model::LabelSelector::read_lenient(selector);
    if (!read) return out; // a malformed selector matches nothing
    for (const auto& pod : m_options.inventory->pods)
      if (pod.namespace_name == ns && read->matches(pod.labels)) out.push_back(&pod);
    return out;
  }

  void duplicates() {
    std::map<std::string, const PolicyObject*> seen;
    for (const auto& p : m_policies) {
      if (p.name().empty()) {
        // Valid for a create (the server picks the name), but netpol applies by name: each
        // run would make another object, and none could be compared or pruned.
        if (!field_at(p.value, {"metadata", "generateName"}).is_null()) {
          add(Severity::error, "generate-name", p, "/metadata/generateName",
              "netpol applies objects by name (server-side apply): set metadata.name instead "
              "of metadata.generateName");
        }
        continue;
      }
      const std::string key =
          std::string(to_string(p.kind)) + "/" +
          (p.kind == PolicyKind::cilium_clusterwide_network_policy ? "" : ns_of(p)) + "/" +
          p.name();
      auto [it, inserted] = seen.emplace(key, &p);
      if (!inserted) {
        add(Severity::error, "duplicate-name", p, "/metadata/name",
            fmt::format("declared twice (also at {}); only one of them could be applied",
                        it->second->where("/metadata/name")));
      }
    }
  }

  void rules_ignored(const PolicyObject& p, const json& spec) {
    const Directions d = effective_types(spec);
    if (!d.explicit_types) return;
    if (!d.ingress && non_empty_array(field_at(spec, {"ingress"}))) {
      add(Severity::warning, "rules-ignored-by-policy-types", p, "/spec/ingress",
          "ingress rules are ignored: policyTypes does not list Ingress");
    }
    if (!d.egress && non_empty_array(field_at(spec, {"egress"}))) {
      add(Severity::warning, "rules-ignored-by-policy-types", p, "/spec/egress",
          "egress rules are ignored: policyTypes does not list Egress");
    }
  }

  // Policies add up: DNS is allowed for P's pods if any egress policy of the namespace that
  // selects all pods, or the same pods as P, allows it.
  void egress_dns(const PolicyObject& p, const json& spec) {
    if (!effective_types(spec).egress) return;
    const json& selector = field_at(spec, {"podSelector"});
    bool udp = false, tcp = false;
    const std::string& ns = m_egress[static_cast<size_t>(&p - m_policies.data())].ns;
    for (size_t i = 0; i < m_policies.size(); ++i) {
      if (!m_egress[i].egress || m_egress[i].ns != ns) continue;
      const PolicyObject& other = m_policies[i];
      const json& ospec = field_at(other.value, {"spec"});
      const json& osel = field_at(ospec, {"podSelector"});
      if (!selects_everything(osel) && osel != selector) continue;
      const json& rules = field_at(ospec, {"egress"});
      if (!rules.is_array()) continue;
      for (const auto& r : rules) {
        udp = udp || rule_allows_dns(r, "UDP");
        tcp = tcp || rule_allows_dns(r, "TCP");
      }
    }
    const std::string pointer =
        field_at(spec, {"egress"}).is_null() ? "/spec/policyTypes" : "/spec/egress";
    if (!udp) {
      add(Severity::warning, "egress-blocks-dns", p, pointer,
          std::string("egress is restricted but no rule allows DNS (port 53/UDP") +
              (tcp ? "" : " and 53/TCP") + "): name resolution will fail for the selected pods");
    } else if (!tcp) {
      add(Severity::info, "egress-blocks-dns", p, pointer,
          "egress allows DNS over UDP only: large DNS answers (port 53/TCP) will fail");
    }
  }

  void named_port_to_ipblock(const PolicyObject& p, const json& spec) {
    const json& rules = field_at(spec, {"egress"});
    if (!rules.is_array()) return;
    for (size_t i = 0; i < rules.size(); ++i) {
      const json& peers = field_at(rules[i], {"to"});
      const json& ports = field_at(rules[i], {"ports"});
      if (!peers.is_array() || !ports.is_array()) continue;
      bool has_block = false;
      for (const auto& peer : peers)
        has_block = has_block || !field_at(peer, {"ipBlock"}).is_null();
      if (!has_block) continue;
      for (size_t j = 0; j < ports.size(); ++j) {
        const json& port = field_at(ports[j], {"port"});
        if (!port.is_string()) continue;
        add(Severity::warning, "named-port-to-ipblock", p,
            fmt::format("/spec/egress/{}/ports/{}/port", i, j),
            fmt::format("named port \"{}\" never matches traffic to an ipBlock peer (addresses "
                        "outside the cluster have no named ports); use the port number",
                        port.get<std::string>()));
      }
    }
  }

  void denies_all(const PolicyObject& p, const json& spec) {
    const json& selector = field_at(spec, {"podSelector"});
    if (selects_everything(selector)) return; // a namespace default deny is deliberate
    const Directions d = effective_types(spec);
    if (d.ingress && !non_empty_array(field_at(spec, {"ingress"}))) {
      add(Severity::info, "denies-all-traffic", p, "/spec",
          "the selected pods accept no ingress traffic at all (no ingress rules)");
    }
    if (d.egress && !non_empty_array(field_at(spec, {"egress"}))) {
      add(Severity::info, "denies-all-traffic", p, "/spec",
          "the selected pods may open no connections at all (no egress rules)");
    }
  }

  void ipblock_covers_pods(const PolicyObject& p, const json& spec) {
    if (m_options.pod_cidrs.empty()) return;
    for_each_peer(spec, [&](const PeerAt& at, const json& peer) {
      const json& block = field_at(peer, {"ipBlock"});
      const json& cidr_text = field_at(block, {"cidr"});
      if (!cidr_text.is_string()) return;
      auto cidr = model::Cidr::parse(cidr_text.get<std::string>(), model::IpSyntax::api_server);
      if (!cidr) return;
      for (const auto& pod_cidr : m_options.pod_cidrs) {
        if (!cidr->contains(pod_cidr) && !pod_cidr.contains(*cidr)) continue;
        bool excepted = false;
        const json& except = field_at(block, {"except"});
        if (except.is_array()) {
          for (const auto& e : except) {
            auto ex = e.is_string()
                          ? model::Cidr::parse(e.get<std::string>(), model::IpSyntax::api_server)
                          : std::nullopt;
            excepted = excepted || (ex && ex->contains(pod_cidr));
          }
        }
        if (excepted) continue;
        add(Severity::warning, "ipblock-covers-pod-cidr", p, at.pointer + "/ipBlock/cidr",
            fmt::format("ipBlock {} overlaps the pod network {}: whether pod traffic "
                        "matches an ipBlock differs between providers; select pods with "
                        "podSelector/namespaceSelector (or add the pod CIDR to except)",
                        cidr_text.get<std::string>(), pod_cidr.to_string()));
      }
    });
  }

  void selects_no_pods(const PolicyObject& p, const json& spec) {
    const json& selector = field_at(spec, {"podSelector"});
    if (!pods_in(ns_of(p), selector).empty()) return;
    add(Severity::warning, "selects-no-pods", p, "/spec/podSelector",
        fmt::format("spec.podSelector {} matches no workload in namespace {}",
                    selector.is_null() ? "{}" : selector.dump(), ns_of(p)));
  }

  void peers_select_no_pods(const PolicyObject& p, const json& spec) {
    for_each_peer(spec, [&](const PeerAt& at, const json& peer) {
      const json& sel = field_at(peer, {"podSelector"});
      // Other namespaces may hold workloads the inventory does not list.
      if (sel.is_null() || !field_at(peer, {"namespaceSelector"}).is_null()) return;
      if (!pods_in(ns_of(p), sel).empty()) return;
      add(Severity::warning, "peer-selects-no-pods", p, at.pointer + "/podSelector",
          fmt::format("{}.podSelector {} matches no workload in namespace {}", at.field, sel.dump(),
                      ns_of(p)));
    });
  }

  void named_ports_exposed(const PolicyObject& p, const json& spec) {
    const auto selected = pods_in(ns_of(p), field_at(spec, {"podSelector"}));
    if (selected.empty()) return; // selects-no-pods says it
    const json& rules = field_at(spec, {"ingress"});
    if (!rules.is_array()) return;
    for (size_t i = 0; i < rules.size(); ++i) {
      const json& ports = field_at(rules[i], {"ports"});
      if (!ports.is_array()) continue;
      for (size_t j = 0; j < ports.size(); ++j) {
        const json& port = field_at(ports[j], {"port"});
        if (!port.is_string()) continue;
        const json& proto_value = field_at(ports[j], {"protocol"});
        const std::string proto = proto_value.is_string() ? proto_value.get<std::string>() : "TCP";
        bool found = false;
        for (const auto* pod : selected) {
          for (const auto& cp : pod->ports)
            found = found || (cp.name == port && cp.protocol == proto);
        }
        if (found) continue;
        add(Severity::warning, "named-port-not-exposed", p,
            fmt::format("/spec/ingress/{}/ports/{}/port", i, j),
            fmt::format("no selected workload has a {} container port named \"{}\"; the rule "
                        "allows nothing",
                        proto, port.get<std::string>()));
      }
    }
  }

  void pods_not_isolated() {
    for (const auto& pod : m_options.inventory->pods) {
      bool selected = false;
      for (const auto& p : m_policies) {
        if (p.kind != PolicyKind::network_policy || ns_of(p) != pod.namespace_name) continue;
        if (selected) break;
        const auto read =
            model::LabelSelector::read_lenient(field_at(p.value, {"spec", "podSelector"}));
        selected = read && read->matches(pod.labels);
      }
      if (!selected) {
        m_findings.push_back({Severity::info, "pod-not-isolated", pod.describe(), pod.where,
                              "no NetworkPolicy selects these pods: they accept traffic from "
                              "everywhere"});
      }
    }
  }

  void namespaces_without_default_deny() {
    std::map<std::string, const PolicyObject*> first;
    std::set<std::string> with_deny;
    for (const auto& p : m_policies) {
      if (p.kind != PolicyKind::network_policy) continue;
      first.emplace(ns_of(p), &p);
      const json& spec = field_at(p.value, {"spec"});
      if (selects_everything(field_at(spec, {"podSelector"})) && effective_types(spec).ingress &&
          !non_empty_array(field_at(spec, {"ingress"}))) {
        with_deny.insert(ns_of(p));
      }
    }
    for (const auto& [ns, p] : first) {
      if (with_deny.count(ns)) continue;
      m_findings.push_back({Severity::info, "namespace-without-default-deny", "Namespace/" + ns,
                            p->where(),
                            "no default-deny policy (podSelector {} without ingress "
                            "rules): pods no policy selects stay open"});
    }
  }

  const std::vector<PolicyObject>& m_policies;
  struct EgressInfo {
    std::string ns; // set when egress is isolated
    bool egress = false;
  };
  std::vector<EgressInfo> m_egress; // by index in m_policies
  const LintOptions& m_options;
  std::vector<Finding> m_findings;
};

} // namespace

const char* to_string(Severity severity) {
  switch (severity) {
  case Severity::error: return "error";
  case Severity::warning: return "warning";
  case Severity::info: return "info";
  }
  return "?";
}

std::string Finding::text() const {
  // A load error has no object ("shop.yaml:3: error: bad indentation [load]").
  if (object.empty())
    return fmt::format("{}: {}: {} [{}]", where, to_string(severity), message, check);
  return fmt::format("{}: {}: {}: {} [{}]", where, to_string(severity), object, message, check);
}

std::vector<Finding> lint(const std::vector<PolicyObject>& policies, const LintOptions& options) {
  return Linter(policies, options).run();
}

} // namespace netpol::policy
