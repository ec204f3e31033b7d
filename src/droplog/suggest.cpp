#include "droplog/suggest.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>

#include <fmt/format.h>

#include "droplog/views.hpp"
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
  // (protocol, port) -> peers (serialized JSON, so equal peers compare equal)
  std::map<std::pair<std::string, uint32_t>, std::set<std::string>> ports;
};

ordered_json labels_json(const std::vector<std::pair<std::string, std::string>>& labels) {
  ordered_json j = ordered_json::object();
  for (const auto& [k, v] : labels)
    j[k] = v;
  return j;
}

// The NetworkPolicy peer for an endpoint, or "" with `why` set.
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

} // namespace

Suggestion suggest_policies(const DropRows& rows, const std::vector<std::string>& namespaces) {
  Suggestion out;
  std::map<Target, TargetRules> targets;
  std::set<std::string> notes;
  // An endpoint's key -> its peer JSON, or "" and why it has none.
  std::unordered_map<std::string, std::pair<std::string, std::string>> peer_cache;
  std::string peer_key;
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
    // Rows share few endpoints: each peer's JSON is built once.
    peer_key.clear();
    peer_key += other.is_pod() ? 'p' : '-';
    for (const std::string* part : {&other.namespace_name, &other.workload, &other.ip}) {
      peer_key += *part;
      peer_key += '\x1f';
    }
    for (const auto& [k, v] : other.labels) {
      peer_key += k;
      peer_key += '=';
      peer_key += v;
      peer_key += '\x1e';
    }
    auto cached = peer_cache.find(peer_key);
    if (cached == peer_cache.end()) {
      std::string why;
      std::string peer = peer_of(other, why);
      cached = peer_cache.emplace(peer_key, std::make_pair(std::move(peer), std::move(why))).first;
    }
    const auto& [peer, why] = cached->second;
    if (peer.empty()) {
      notes.insert(flow() + ": " + why);
      continue;
    }
    auto& rules = targets[Target{subject.namespace_name, subject.workload, ingress}];
    if (rules.labels.empty()) rules.labels = subject.labels;
    rules.ports[{r.protocol, r.port}].insert(peer);
  }

  for (const auto& [target, rules] : targets) {
    // Ports observed with exactly the same peers share a rule: still only observed pairs.
    std::map<std::set<std::string>, std::vector<std::pair<std::string, uint32_t>>> by_peers;
    for (const auto& [port, peers] : rules.ports)
      by_peers[peers].push_back(port);
    ordered_json rule_list = ordered_json::array();
    for (const auto& [peers, ports] : by_peers) {
      ordered_json rule;
      ordered_json peer_list = ordered_json::array();
      for (const auto& p : peers)
        peer_list.push_back(ordered_json::parse(p));
      rule[target.ingress ? "from" : "to"] = std::move(peer_list);
      ordered_json port_list = ordered_json::array();
      for (const auto& [protocol, port] : ports)
        port_list.push_back({{"protocol", protocol}, {"port", port}});
      rule["ports"] = std::move(port_list);
      rule_list.push_back(std::move(rule));
    }
    ordered_json policy;
    policy["apiVersion"] = "networking.k8s.io/v1";
    policy["kind"] = "NetworkPolicy";
    policy["metadata"] = {{"name", policy_name(target)}, {"namespace", target.namespace_name}};
    ordered_json spec;
    spec["podSelector"] = {{"matchLabels", labels_json(rules.labels)}};
    spec["policyTypes"] = ordered_json::array({target.ingress ? "Ingress" : "Egress"});
    spec[target.ingress ? "ingress" : "egress"] = std::move(rule_list);
    policy["spec"] = std::move(spec);
    out.policies.push_back(std::move(policy));
  }
  out.notes.assign(notes.begin(), notes.end());
  return out;
}

std::string suggestion_to_yaml(const Suggestion& s) {
  std::string out =
      "# NetworkPolicies that allow the dropped or audited flows of the drop log, and no more.\n"
      "# Review before applying: every flow listed was blocked, not necessarily wanted.\n";
  for (const auto& note : s.notes)
    out += "# not allowed: " + note + "\n";
  if (s.policies.empty()) {
    return out + "# No flow to allow.\n";
  }
  for (const auto& p : s.policies)
    out += "---\n" + to_yaml(nlohmann::json(p));
  return out;
}

} // namespace netpol::droplog
