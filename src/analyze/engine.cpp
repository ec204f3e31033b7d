#include "analyze/engine.hpp"

#include <algorithm>
#include <map>
#include <set>

namespace netpol::analyze {
namespace {

// Cilium identity labels of a pod: its labels, its namespace and the namespace's labels, its
// service account, all with source "k8s".
Labels cilium_labels(const Pod& pod, const Namespace* ns) {
  Labels out;
  for (const auto& [k, v] : pod.labels) {
    out["k8s:" + k] = v;
  }
  out["k8s:io.kubernetes.pod.namespace"] = pod.namespace_name;
  out["k8s:io.cilium.k8s.policy.serviceaccount"] = pod.service_account;
  out["k8s:io.cilium.k8s.policy.cluster"] = "default";
  if (ns != nullptr) {
    for (const auto& [k, v] : ns->labels) {
      out["k8s:io.cilium.k8s.namespace.labels." + k] = v;
    }
  }
  return out;
}

template <class F> void for_each_bit(const PodSet& set, F&& f) {
  for (auto i = set.find_first(); i != PodSet::npos; i = set.find_next(i)) {
    f(i);
  }
}

} // namespace

size_t ConnectivityMatrix::count() const {
  size_t n = 0;
  for (const auto& row : m_rows)
    n += row.count();
  return n;
}

// Pods whose named port (name, protocol) is the queried port number, per name; filled on
// first use during one matrix() call.
class Engine::NamedPortCache {
public:
  NamedPortCache(const Cluster& cluster, PortProtocol port) : m_cluster(cluster), m_port(port) {}

  const PodSet& pods_with(const std::string& name) {
    auto it = m_sets.find(name);
    if (it != m_sets.end()) return it->second;
    const auto& pods = m_cluster.pods();
    PodSet set(pods.size());
    for (size_t i = 0; i < pods.size(); ++i) {
      auto number = pods[i].named_port(name, m_port.protocol);
      if (number && *number == m_port.port) set.set(i);
    }
    return m_sets.emplace(name, std::move(set)).first->second;
  }

private:
  const Cluster& m_cluster;
  PortProtocol m_port;
  std::map<std::string, PodSet> m_sets;
};

Engine::Engine(const Cluster& cluster, const std::vector<Policy>& policies, EngineOptions options)
    : m_cluster(cluster), m_options(options), m_size(cluster.pods().size()) {
  const auto& pods = cluster.pods();
  for (size_t i = 0; i < pods.size();) {
    size_t j = i;
    while (j < pods.size() && pods[j].namespace_name == pods[i].namespace_name)
      ++j;
    m_namespace_ranges[pods[i].namespace_name] = {i, j};
    i = j;
  }
  const bool any_cilium = std::any_of(policies.begin(), policies.end(), [](const Policy& p) {
    return p.kind != PolicyKind::network_policy;
  });
  if (any_cilium) {
    m_cilium_labels.reserve(pods.size());
    for (const auto& pod : pods) {
      m_cilium_labels.push_back(cilium_labels(pod, cluster.find_namespace(pod.namespace_name)));
    }
  }
  m_policies.reserve(policies.size());
  for (const auto& policy : policies) {
    CompiledPolicy compiled;
    compiled.policy = &policy;
    compiled.selected = select(policy.subject);
    for (const auto& r : policy.ingress)
      compiled.ingress.push_back(compile(r));
    for (const auto& r : policy.egress)
      compiled.egress.push_back(compile(r));
    for (const auto& r : policy.ingress_deny)
      compiled.ingress_deny.push_back(compile(r));
    for (const auto& r : policy.egress_deny)
      compiled.egress_deny.push_back(compile(r));
    m_policies.push_back(std::move(compiled));
  }
}

PodSet Engine::select(const PodMatcher& matcher) {
  const std::string key = matcher.canonical();
  if (auto it = m_selection_cache.find(key); it != m_selection_cache.end()) {
    return it->second;
  }
  const auto& pods = m_cluster.pods();
  PodSet out(m_size);
  auto scan = [&](size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) {
      const Labels& labels = matcher.cilium_labels ? m_cilium_labels[i] : pods[i].labels;
      if (matcher.pod_selector.matches(labels)) out.set(i);
    }
  };
  for (const auto& [name, range] : m_namespace_ranges) {
    if (matcher.namespace_name && *matcher.namespace_name != name) continue;
    if (matcher.namespace_selector) {
      const Namespace* ns = m_cluster.find_namespace(name);
      if (ns == nullptr || !matcher.namespace_selector->matches(ns->labels)) continue;
    }
    scan(range.first, range.second);
  }
  m_selection_cache.emplace(key, out);
  return out;
}

Engine::CompiledRule Engine::compile(const Rule& rule) {
  CompiledRule compiled;
  compiled.rule = &rule;
  compiled.peers = PodSet(m_size);
  if (rule.any_peer) {
    compiled.peers.set();
    return compiled;
  }
  const auto& pods = m_cluster.pods();
  for (const auto& peer : rule.peers) {
    if (peer.any_pod) {
      compiled.peers.set();
    }
    if (peer.pods) {
      compiled.peers |= select(*peer.pods);
    }
    if (peer.ip_block && peer.ip_block_matches_pods && m_options.ipblock_matches_pods) {
      for (size_t i = 0; i < pods.size(); ++i) {
        for (const auto& ip : pods[i].ips) {
          if (peer.ip_block->contains(ip)) {
            compiled.peers.set(i);
            break;
          }
        }
      }
    }
  }
  return compiled;
}

Engine::PortCoverage Engine::coverage(const Rule& rule, PortProtocol port,
                                      NamedPortCache& cache) const {
  PortCoverage out;
  if (rule.ports.empty()) {
    out.kind = PortCoverage::Kind::all;
    return out;
  }
  for (const auto& spec : rule.ports) {
    if (spec.name.empty()) {
      if (spec.matches(port.port, port.protocol, nullptr)) {
        out.kind = PortCoverage::Kind::all;
        return out;
      }
      continue;
    }
    if (spec.protocol && *spec.protocol != port.protocol) continue;
    const PodSet& named = cache.pods_with(spec.name);
    if (named.none()) continue;
    if (out.kind == PortCoverage::Kind::none) {
      out.kind = PortCoverage::Kind::some;
      out.pods = named;
    } else {
      out.pods |= named;
    }
  }
  return out;
}

ConnectivityMatrix Engine::matrix(PortProtocol port) const {
  const size_t n = m_size;
  NamedPortCache cache(m_cluster, port);
  PodSet all(n);
  all.set();

  // Ingress: sources allowed into each destination. Egress: destinations each source may reach.
  std::vector<PodSet> in(n, PodSet(n)), out(n, PodSet(n));
  std::vector<PodSet> in_deny, out_deny;
  PodSet in_isolated(n), out_isolated(n);

  // `target` is indexed by the selected pod; rules add their peer sets to the selected pods
  // the rule's ports cover (ingress: the selected pod is the destination) or add the peers the
  // ports cover (egress: the peer is the destination).
  auto add_ingress = [&](const CompiledPolicy& p, const std::vector<CompiledRule>& rules,
                         std::vector<PodSet>& target) {
    PodSet uniform(n);
    bool any_uniform = false;
    for (const auto& r : rules) {
      auto cov = coverage(*r.rule, port, cache);
      if (cov.kind == PortCoverage::Kind::all) {
        uniform |= r.peers;
        any_uniform = true;
      } else if (cov.kind == PortCoverage::Kind::some) {
        for_each_bit(p.selected & cov.pods, [&](size_t b) { target[b] |= r.peers; });
      }
    }
    if (any_uniform && uniform.any()) {
      for_each_bit(p.selected, [&](size_t b) { target[b] |= uniform; });
    }
  };
  auto add_egress = [&](const CompiledPolicy& p, const std::vector<CompiledRule>& rules,
                        std::vector<PodSet>& target) {
    PodSet reach(n);
    for (const auto& r : rules) {
      auto cov = coverage(*r.rule, port, cache);
      if (cov.kind == PortCoverage::Kind::all) {
        reach |= r.peers;
      } else if (cov.kind == PortCoverage::Kind::some) {
        reach |= r.peers & cov.pods;
      }
    }
    if (reach.any()) {
      for_each_bit(p.selected, [&](size_t a) { target[a] |= reach; });
    }
  };

  for (const auto& p : m_policies) {
    if (p.selected.none()) continue;
    if (p.policy->isolates_ingress) in_isolated |= p.selected;
    if (p.policy->isolates_egress) out_isolated |= p.selected;
    add_ingress(p, p.ingress, in);
    add_egress(p, p.egress, out);
    if (!p.ingress_deny.empty()) {
      if (in_deny.empty()) in_deny.assign(n, PodSet(n));
      add_ingress(p, p.ingress_deny, in_deny);
    }
    if (!p.egress_deny.empty()) {
      if (out_deny.empty()) out_deny.assign(n, PodSet(n));
      add_egress(p, p.egress_deny, out_deny);
    }
  }
  for (size_t i = 0; i < n; ++i) {
    if (!in_isolated.test(i)) in[i] = all;
    if (!out_isolated.test(i)) out[i] = all;
    if (!in_deny.empty()) in[i] -= in_deny[i];
    if (!out_deny.empty()) out[i] -= out_deny[i];
  }

  // allowed(a, b) = out[a][b] && in[b][a]: transpose `in` once, then AND row by row.
  ConnectivityMatrix result(n);
  for (size_t b = 0; b < n; ++b) {
    if (in[b].all()) {
      continue; // handled below without a per-bit transpose
    }
    for_each_bit(in[b], [&](size_t a) { result.row(a).set(b); });
  }
  PodSet open_destinations(n);
  for (size_t b = 0; b < n; ++b) {
    if (in[b].all()) open_destinations.set(b);
  }
  for (size_t a = 0; a < n; ++a) {
    result.row(a) |= open_destinations;
    result.row(a) &= out[a];
  }
  return result;
}

bool Engine::peer_matches(const CompiledRule& rule, const Endpoint& endpoint) const {
  if (endpoint.pod) {
    return rule.peers.test(*endpoint.pod);
  }
  if (rule.rule->any_peer) {
    return true;
  }
  for (const auto& peer : rule.rule->peers) {
    if (peer.any_external) return true;
    if (peer.ip_block && endpoint.address && peer.ip_block->contains(*endpoint.address)) {
      return true;
    }
  }
  return false;
}

bool Engine::side_allows(bool ingress, size_t pod, const Endpoint& peer, const Pod* destination,
                         PortProtocol port) const {
  bool isolated = false;
  bool allowed = false;
  for (const auto& p : m_policies) {
    if (!p.selected.test(pod)) continue;
    const auto& allow_rules = ingress ? p.ingress : p.egress;
    const auto& deny_rules = ingress ? p.ingress_deny : p.egress_deny;
    isolated = isolated || (ingress ? p.policy->isolates_ingress : p.policy->isolates_egress);
    auto covers = [&](const CompiledRule& r) {
      if (r.rule->ports.empty()) return peer_matches(r, peer);
      const bool port_ok =
          std::any_of(r.rule->ports.begin(), r.rule->ports.end(), [&](const PortSpec& s) {
            return s.matches(port.port, port.protocol, destination);
          });
      return port_ok && peer_matches(r, peer);
    };
    if (std::any_of(deny_rules.begin(), deny_rules.end(), covers)) {
      return false;
    }
    allowed = allowed || std::any_of(allow_rules.begin(), allow_rules.end(), covers);
  }
  return !isolated || allowed;
}

bool Engine::allowed(const Endpoint& from, const Endpoint& to, PortProtocol port) const {
  const auto& pods = m_cluster.pods();
  const Pod* destination = to.pod ? &pods[*to.pod] : nullptr;
  if (from.pod && !side_allows(false, *from.pod, to, destination, port)) {
    return false;
  }
  if (to.pod && !side_allows(true, *to.pod, from, destination, port)) {
    return false;
  }
  return true;
}

std::vector<AnalysedPort> ports_of_interest(const Cluster& cluster,
                                            const std::vector<Policy>& policies) {
  std::set<PortProtocol> named;
  std::vector<std::pair<int, int>> tcp_ranges; // numeric TCP ports and ranges that policies name
  auto visit = [&](const Rule& rule) {
    for (const auto& spec : rule.ports) {
      std::vector<Protocol> protocols;
      if (spec.protocol) {
        protocols.push_back(*spec.protocol);
      } else {
        protocols = {Protocol::tcp, Protocol::udp};
      }
      if (!spec.name.empty()) {
        for (const auto& pod : cluster.pods()) {
          for (Protocol proto : protocols) {
            if (auto number = pod.named_port(spec.name, proto)) {
              named.insert({*number, proto});
              if (proto == Protocol::tcp) tcp_ranges.emplace_back(*number, *number);
            }
          }
        }
      } else if (spec.port != 0) {
        for (Protocol proto : protocols) {
          named.insert({spec.port, proto});
          if (proto == Protocol::tcp) {
            tcp_ranges.emplace_back(spec.port, std::max(spec.port, spec.end_port));
          }
        }
      }
    }
  };
  for (const auto& policy : policies) {
    for (const auto* rules :
         {&policy.ingress, &policy.egress, &policy.ingress_deny, &policy.egress_deny}) {
      for (const auto& rule : *rules)
        visit(rule);
    }
  }
  std::vector<AnalysedPort> out;
  for (const auto& p : named)
    out.push_back({p, false});
  for (int candidate = 65535; candidate >= 1; --candidate) {
    const bool named_here = std::any_of(tcp_ranges.begin(), tcp_ranges.end(), [&](const auto& r) {
      return candidate >= r.first && candidate <= r.second;
    });
    if (!named_here) {
      out.push_back({{candidate, Protocol::tcp}, true});
      break;
    }
  }
  return out;
}

} // namespace netpol::analyze
