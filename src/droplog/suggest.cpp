#include "droplog/suggest.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>

#include <fmt/format.h>

#include "droplog/views.hpp"
#include "policy/validate.hpp"
#include "util/log.hpp"
#include "util/yaml.hpp"

namespace netpol::droplog {
namespace {

using nlohmann::ordered_json;

struct Target {
  std::string namespace_name;
  std::string workload;
  bool ingress = true;
  auto operator<=>(const Target&) const = default;
};

struct TargetRules {
  std::vector<std::pair<std::string, std::string>> labels; // podSelector
  // (protocol, port) -> peers (ids into the peer table; sorted and deduplicated at the end)
  std::map<std::pair<std::string, uint32_t>, std::vector<uint32_t>> ports;
};

ordered_json labels_json(const std::vector<std::pair<std::string, std::string>>& labels) {
  ordered_json j = ordered_json::object();
  for (const auto& [k, v] : labels)
    j[k] = v;
  return j;
}

// The NetworkPolicy peer for an endpoint as compact JSON, or "" with `why` set.
std::string peer_of(const FlowEndpoint& e, std::string& why) {
  if (e.is_pod() || !e.labels.empty()) {
    if (e.namespace_name.empty() || e.labels.empty()) {
      why = "the flow carries no labels for pod " + endpoint_name(e) +
            " (a field mask may have removed them)";
      return {};
    }
    ordered_json peer;
    peer["podSelector"] = {{"matchLabels", labels_json(e.labels)}};
    peer["namespaceSelector"] = {
        {"matchLabels", {{"kubernetes.io/metadata.name", e.namespace_name}}}};
    return peer.dump();
  }
  if (e.ip.empty()) {
    why = "endpoint " + e.workload + " has no address";
    return {};
  }
  const bool v6 = e.ip.find(':') != std::string::npos;
  ordered_json peer;
  peer["ipBlock"] = {{"cidr", e.ip + (v6 ? "/128" : "/32")}};
  return peer.dump();
}

// DNS-1123 subdomain, at most 63 characters so the name also works as a label value.
std::string policy_name(const Target& t) {
  std::string base;
  for (char c : t.workload) {
    const char l = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    base += (std::isalnum(static_cast<unsigned char>(l)) || l == '-' || l == '.') ? l : '-';
  }
  const std::string suffix = t.ingress ? "-ingress" : "-egress";
  std::string name = "allow-observed-" + base;
  name = name.substr(0, 63 - suffix.size());
  while (!name.empty() && (name.back() == '-' || name.back() == '.'))
    name.pop_back();
  return name + suffix;
}

// Peers by their JSON text: rows share few endpoints, so each distinct one is built once.
class PeerTable {
public:
  static constexpr uint32_t k_none = UINT32_MAX;

  // The peer id of `e`, or k_none with `why` pointing at the reason.
  uint32_t id_of(const FlowEndpoint& e, const std::string*& why) {
    m_key.clear();
    m_key += e.is_pod() ? 'p' : '-';
    for (const std::string* part : {&e.namespace_name, &e.workload, &e.ip}) {
      m_key += *part;
      m_key += '\x1f';
    }
    for (const auto& [k, v] : e.labels) {
      m_key += k;
      m_key += '=';
      m_key += v;
      m_key += '\x1e';
    }
    auto cached = m_by_endpoint.find(m_key);
    if (cached == m_by_endpoint.end()) {
      std::string reason;
      std::string json = peer_of(e, reason);
      uint32_t id = k_none;
      if (!json.empty()) {
        // Endpoints of different workloads with the same labels are the same peer.
        auto [at, added] = m_by_json.emplace(json, static_cast<uint32_t>(m_json.size()));
        if (added) m_json.push_back(std::move(json));
        id = at->second;
      }
      cached = m_by_endpoint.emplace(m_key, std::make_pair(id, std::move(reason))).first;
    }
    why = &cached->second.second;
    return cached->second.first;
  }

  // Renumbers the peers in the order of their JSON text: rank[id] is the new number, and
  // the peers' JSON is moved out in that order.
  std::vector<std::string> sort(std::vector<uint32_t>& rank) {
    std::vector<uint32_t> order(m_json.size());
    for (uint32_t i = 0; i < order.size(); ++i)
      order[i] = i;
    std::sort(order.begin(), order.end(),
              [&](uint32_t a, uint32_t b) { return m_json[a] < m_json[b]; });
    rank.assign(order.size(), 0);
    std::vector<std::string> sorted;
    sorted.reserve(order.size());
    for (uint32_t i = 0; i < order.size(); ++i) {
      rank[order[i]] = i;
      sorted.push_back(std::move(m_json[order[i]]));
    }
    return sorted;
  }

private:
  std::string m_key;
  std::unordered_map<std::string, std::pair<uint32_t, std::string>> m_by_endpoint;
  std::unordered_map<std::string, uint32_t> m_by_json;
  std::vector<std::string> m_json;
};

} // namespace

Suggestion suggest_policies(const DropRows& rows, const std::vector<std::string>& namespaces) {
  Suggestion out;
  std::map<Target, TargetRules> targets;
  std::set<std::string> notes;
  PeerTable peers;
  for (const auto& r : rows) {
    const bool dst_pod = r.destination.is_pod() || !r.destination.labels.empty();
    const bool src_pod = r.source.is_pod() || !r.source.labels.empty();
    bool ingress = true;
    if (r.direction == "EGRESS") {
      ingress = false;
    } else if (r.direction != "INGRESS") {
      ingress = dst_pod || !src_pod; // unknown: the destination's ingress, if it is a pod
    }
    const FlowEndpoint& subject = ingress ? r.destination : r.source;
    const FlowEndpoint& other = ingress ? r.source : r.destination;
    if (!namespaces.empty() && std::find(namespaces.begin(), namespaces.end(),
                                         subject.namespace_name) == namespaces.end()) {
      continue;
    }
    // Only notes name the flow; most rows become rules.
    const auto flow = [&r] { return flow_name(r); };
    if (subject.namespace_name.empty() || !(ingress ? dst_pod : src_pod)) {
      notes.insert(flow() + ": the " + (ingress ? "destination" : "source") +
                   " is not a pod, so no NetworkPolicy selects it");
      continue;
    }
    if (subject.labels.empty()) {
      notes.insert(flow() + ": the flow carries no labels for pod " + endpoint_name(subject) +
                   " (a field mask may have removed them)");
      continue;
    }
    if (r.protocol != "TCP" && r.protocol != "UDP" && r.protocol != "SCTP") {
      notes.insert(flow() + ": NetworkPolicy cannot allow " +
                   (r.protocol.empty() ? std::string("an unknown protocol") : r.protocol) +
                   " without allowing every port");
      continue;
    }
    if (r.port == 0) {
      notes.insert(flow() + ": the flow has no destination port");
      continue;
    }
    const std::string* why = nullptr;
    const uint32_t peer = peers.id_of(other, why);
    if (peer == PeerTable::k_none) {
      notes.insert(flow() + ": " + *why);
      continue;
    }
    auto& rules = targets[Target{subject.namespace_name, subject.workload, ingress}];
    if (rules.labels.empty()) rules.labels = subject.labels;
    rules.ports[{r.protocol, r.port}].push_back(peer);
  }

  // Peers numbered in the order of their JSON text, so sorted numbers are sorted peers and
  // peer sets compare as the sets of their JSON text would.
  std::vector<uint32_t> rank;
  out.peers = peers.sort(rank);
  for (auto& [target, rules] : targets) {
    // Ports observed with exactly the same peers share a rule: still only observed pairs.
    std::map<std::vector<uint32_t>, std::vector<std::pair<std::string, uint32_t>>> by_peers;
    for (auto& [port, ids] : rules.ports) {
      for (auto& id : ids)
        id = rank[id];
      std::sort(ids.begin(), ids.end());
      ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
      by_peers[std::move(ids)].push_back(port);
    }
    SuggestedPolicy policy;
    policy.name = policy_name(target);
    policy.namespace_name = target.namespace_name;
    policy.ingress = target.ingress;
    policy.labels = std::move(rules.labels);
    for (auto& [ids, ports] : by_peers)
      policy.rules.push_back(SuggestedRule{ids, std::move(ports)});
    out.policies.push_back(std::move(policy));
  }
  // What is suggested must be what apply accepts: a policy the API server would refuse
  // (labels or a namespace a flow carried that no object may have) becomes a note instead.
  std::vector<SuggestedPolicy> valid;
  for (size_t i = 0; i < out.policies.size(); ++i) {
    policy::PolicyObject object;
    object.value = nlohmann::json::parse(policy_to_json(out, i).dump());
    object.origin = "suggested-policy.yaml";
    const auto result = policy::validate(object);
    if (result.ok()) {
      valid.push_back(std::move(out.policies[i]));
      continue;
    }
    notes.insert(fmt::format("{}: not suggested, the API server would refuse it: {}",
                             object.describe(), result.errors.front().text()));
  }
  out.policies = std::move(valid);
  out.notes.assign(notes.begin(), notes.end());
  return out;
}

ordered_json policy_to_json(const Suggestion& s, size_t index) {
  const SuggestedPolicy& p = s.policies.at(index);
  ordered_json rule_list = ordered_json::array();
  for (const auto& r : p.rules) {
    ordered_json rule;
    ordered_json peer_list = ordered_json::array();
    for (const uint32_t peer : r.peers)
      peer_list.push_back(ordered_json::parse(s.peers.at(peer)));
    rule[p.ingress ? "from" : "to"] = std::move(peer_list);
    ordered_json port_list = ordered_json::array();
    for (const auto& [protocol, port] : r.ports)
      port_list.push_back({{"protocol", protocol}, {"port", port}});
    rule["ports"] = std::move(port_list);
    rule_list.push_back(std::move(rule));
  }
  ordered_json policy;
  policy["apiVersion"] = "networking.k8s.io/v1";
  policy["kind"] = "NetworkPolicy";
  policy["metadata"] = {{"name", p.name}, {"namespace", p.namespace_name}};
  ordered_json spec;
  spec["podSelector"] = {{"matchLabels", labels_json(p.labels)}};
  spec["policyTypes"] = ordered_json::array({p.ingress ? "Ingress" : "Egress"});
  spec[p.ingress ? "ingress" : "egress"] = std::move(rule_list);
  policy["spec"] = std::move(spec);
  return policy;
}

std::string suggestion_to_yaml(const Suggestion& s) {
  std::string out =
      "# NetworkPolicies that allow the dropped or audited flows of the drop log, and no more.\n"
      "# Review before applying: every flow listed was blocked, not necessarily wanted.\n";
  // A note quotes names from the flows: escaped, so it stays one comment line.
  for (const auto& note : s.notes)
    out += "# not allowed: " + log::printable(note) + "\n";
  if (s.policies.empty()) {
    return out + "# No flow to allow.\n";
  }
  // Each document through to_yaml (YAML::Emitter), so names and labels are quoted as every
  // YAML reader needs (the policy objects are small next to the drop log they come from).
  for (size_t i = 0; i < s.policies.size(); ++i)
    out += "---\n" + to_yaml(nlohmann::json(policy_to_json(s, i)));
  return out;
}

} // namespace netpol::droplog
