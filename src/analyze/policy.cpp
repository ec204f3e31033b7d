#include "analyze/policy.hpp"

#include <algorithm>
#include <set>

namespace netpol::analyze {
namespace {

using nlohmann::json;

constexpr std::string_view k_cilium_namespace_key = "k8s:io.kubernetes.pod.namespace";
constexpr std::string_view k_cilium_namespace_labels_prefix = "k8s:io.cilium.k8s.namespace.labels.";

// A node that may be absent, null or a list; absent and null read as an empty list.
Parsed<const json*> list_at(const json& parent, const char* key, const std::string& pointer) {
  auto it = parent.find(key);
  if (it == parent.end() || it->is_null()) {
    return nullptr;
  }
  if (!it->is_array()) {
    return problem(pointer + "/" + key, std::string(key) + " must be a list");
  }
  return &*it;
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

Parsed<IpBlock> parse_ip_block(const json& value, const std::string& pointer,
                               const char* except_key) {
  if (!value.is_object() || !value.contains("cidr") || !value["cidr"].is_string()) {
    return problem(pointer, "ipBlock needs a cidr");
  }
  const std::string text = value["cidr"].get<std::string>();
  auto cidr = Cidr::parse(text, model::IpSyntax::canonical);
  if (!cidr) {
    return problem(pointer + "/cidr", "'" + text + "' is not a valid CIDR");
  }
  IpBlock block{*cidr, {}};
  auto except = list_at(value, except_key, pointer);
  if (!except) return tl::unexpected(except.error());
  if (*except != nullptr) {
    for (size_t i = 0; i < (*except)->size(); ++i) {
      const auto& e = (**except)[i];
      const std::string at = pointer + "/" + except_key + "/" + std::to_string(i);
      auto inner = e.is_string() ? Cidr::parse(e.get<std::string>(), model::IpSyntax::canonical)
                                 : std::nullopt;
      if (!inner) {
        return problem(at, "'" + (e.is_string() ? e.get<std::string>() : e.dump()) +
                               "' is not a valid CIDR");
      }
      block.except.push_back(*inner);
    }
  }
  return block;
}

// ---- NetworkPolicy -------------------------------------------------------------------------

Parsed<PortSpec> parse_k8s_port(const json& value, const std::string& pointer) {
  PortSpec spec;
  spec.protocol = Protocol::tcp;
  if (value.is_null()) {
    return spec;
  }
  if (!value.is_object()) {
    return problem(pointer, "port entry must be an object");
  }
  if (auto p = value.find("protocol"); p != value.end() && !p->is_null()) {
    auto protocol = p->is_string() ? parse_protocol(p->get<std::string>()) : std::nullopt;
    if (!protocol || p->get<std::string>() != to_string(*protocol)) {
      return problem(pointer + "/protocol", "protocol must be TCP, UDP or SCTP");
    }
    spec.protocol = protocol;
  }
  if (auto p = value.find("port"); p != value.end() && !p->is_null()) {
    if (p->is_number_integer()) {
      spec.port = p->get<int>();
      if (spec.port < 1 || spec.port > 65535) {
        return problem(pointer + "/port", "port must be between 1 and 65535");
      }
    } else if (p->is_string() && !all_digits(p->get<std::string>()) &&
               !p->get<std::string>().empty()) {
      spec.name = p->get<std::string>();
    } else {
      return problem(pointer + "/port", "port must be a number or a port name");
    }
  }
  if (auto e = value.find("endPort"); e != value.end() && !e->is_null()) {
    if (!e->is_number_integer()) {
      return problem(pointer + "/endPort", "endPort must be a number");
    }
    if (spec.port == 0) {
      return problem(pointer + "/endPort", "endPort may only be given with a numeric port");
    }
    spec.end_port = e->get<int>();
    if (spec.end_port < spec.port || spec.end_port > 65535) {
      return problem(pointer + "/endPort", "endPort must be between port and 65535");
    }
  }
  return spec;
}

Parsed<Peer> parse_k8s_peer(const json& value, const std::string& pointer,
                            const std::string& policy_namespace) {
  if (!value.is_object()) {
    return problem(pointer, "peer must be an object");
  }
  const bool has_pods = value.contains("podSelector") && !value["podSelector"].is_null();
  const bool has_namespaces =
      value.contains("namespaceSelector") && !value["namespaceSelector"].is_null();
  const bool has_block = value.contains("ipBlock") && !value["ipBlock"].is_null();
  if (!has_pods && !has_namespaces && !has_block) {
    return problem(pointer, "must specify a peer (podSelector, namespaceSelector or ipBlock)");
  }
  if (has_block && (has_pods || has_namespaces)) {
    return problem(pointer, "may not specify both ipBlock and another peer");
  }
  Peer peer;
  if (has_block) {
    auto block = parse_ip_block(value["ipBlock"], pointer + "/ipBlock", "except");
    if (!block) return tl::unexpected(block.error());
    peer.ip_block = std::move(*block);
    peer.ip_block_matches_pods = true;
    return peer;
  }
  PodMatcher matcher;
  if (has_pods) {
    auto selector = LabelSelector::parse(value["podSelector"], pointer + "/podSelector");
    if (!selector) return tl::unexpected(selector.error());
    matcher.pod_selector = std::move(*selector);
  }
  if (has_namespaces) {
    auto selector =
        LabelSelector::parse(value["namespaceSelector"], pointer + "/namespaceSelector");
    if (!selector) return tl::unexpected(selector.error());
    matcher.namespace_selector = std::move(*selector);
  } else {
    // podSelector alone selects in the policy's own namespace.
    matcher.namespace_name = policy_namespace;
  }
  peer.pods = std::move(matcher);
  return peer;
}

Parsed<Rule> parse_k8s_rule(const json& value, const std::string& pointer, const char* peers_key,
                            const std::string& policy_namespace) {
  Rule rule;
  if (value.is_null()) {
    rule.any_peer = true;
    return rule;
  }
  if (!value.is_object()) {
    return problem(pointer, "rule must be an object");
  }
  auto peers = list_at(value, peers_key, pointer);
  if (!peers) return tl::unexpected(peers.error());
  if (*peers == nullptr || (*peers)->empty()) {
    rule.any_peer = true;
  } else {
    for (size_t i = 0; i < (*peers)->size(); ++i) {
      auto peer = parse_k8s_peer((**peers)[i], pointer + "/" + peers_key + "/" + std::to_string(i),
                                 policy_namespace);
      if (!peer) return tl::unexpected(peer.error());
      rule.peers.push_back(std::move(*peer));
    }
  }
  auto ports = list_at(value, "ports", pointer);
  if (!ports) return tl::unexpected(ports.error());
  if (*ports != nullptr) {
    for (size_t i = 0; i < (*ports)->size(); ++i) {
      auto port = parse_k8s_port((**ports)[i], pointer + "/ports/" + std::to_string(i));
      if (!port) return tl::unexpected(port.error());
      rule.ports.push_back(std::move(*port));
    }
  }
  return rule;
}

Parsed<std::vector<Rule>> parse_k8s_rules(const json& spec, const char* key, const char* peers_key,
                                          const std::string& policy_namespace) {
  std::vector<Rule> rules;
  auto list = list_at(spec, key, "/spec");
  if (!list) return tl::unexpected(list.error());
  if (*list != nullptr) {
    for (size_t i = 0; i < (*list)->size(); ++i) {
      auto rule = parse_k8s_rule((**list)[i], std::string("/spec/") + key + "/" + std::to_string(i),
                                 peers_key, policy_namespace);
      if (!rule) return tl::unexpected(rule.error());
      rules.push_back(std::move(*rule));
    }
  }
  return rules;
}

Parsed<Policy> parse_network_policy(const json& object, Policy policy) {
  const auto spec_it = object.find("spec");
  if (spec_it == object.end() || !spec_it->is_object()) {
    return problem("/spec", "NetworkPolicy needs a spec");
  }
  const json& spec = *spec_it;
  if (!spec.contains("podSelector")) {
    return problem("/spec/podSelector", "spec.podSelector is required (use {} for all pods)");
  }
  auto selector = LabelSelector::parse(spec["podSelector"], "/spec/podSelector");
  if (!selector) return tl::unexpected(selector.error());
  policy.subject.namespace_name = policy.namespace_name;
  policy.subject.pod_selector = std::move(*selector);

  auto ingress = parse_k8s_rules(spec, "ingress", "from", policy.namespace_name);
  if (!ingress) return tl::unexpected(ingress.error());
  auto egress = parse_k8s_rules(spec, "egress", "to", policy.namespace_name);
  if (!egress) return tl::unexpected(egress.error());

  auto types = list_at(spec, "policyTypes", "/spec");
  if (!types) return tl::unexpected(types.error());
  if (*types == nullptr) {
    // API server defaulting: Ingress always, Egress when egress rules are present.
    policy.isolates_ingress = true;
    policy.isolates_egress = !egress->empty();
  } else {
    for (size_t i = 0; i < (*types)->size(); ++i) {
      const auto& t = (**types)[i];
      const std::string text = t.is_string() ? t.get<std::string>() : t.dump();
      if (text == "Ingress") {
        policy.isolates_ingress = true;
      } else if (text == "Egress") {
        policy.isolates_egress = true;
      } else {
        return problem("/spec/policyTypes/" + std::to_string(i),
                       "policy type '" + text + "' is not Ingress or Egress");
      }
    }
  }
  if (!policy.isolates_ingress && !ingress->empty()) {
    policy.warnings.push_back(
        {"/spec/ingress", "ingress rules are ignored: policyTypes does not list Ingress"});
    ingress->clear();
  }
  if (!policy.isolates_egress && !egress->empty()) {
    policy.warnings.push_back(
        {"/spec/egress", "egress rules are ignored: policyTypes does not list Egress"});
    egress->clear();
  }
  policy.ingress = std::move(*ingress);
  policy.egress = std::move(*egress);
  return policy;
}

// ---- Cilium --------------------------------------------------------------------------------

// Cilium label keys carry a source: "k8s:app". A key without source ("app") or with "any:"
// matches any source; pods only have k8s labels, so both mean "k8s:app" here.
std::string cilium_key(const std::string& key, bool& foreign_source) {
  const auto colon = key.find(':');
  if (colon == std::string::npos) {
    return "k8s:" + key;
  }
  const std::string source = key.substr(0, colon);
  if (source == "k8s") {
    return key;
  }
  if (source == "any") {
    return "k8s:" + key.substr(colon + 1);
  }
  foreign_source = true;
  return key;
}

Parsed<LabelSelector> parse_cilium_selector(const json& value, const std::string& pointer,
                                            std::vector<Issue>& warnings) {
  auto selector = LabelSelector::parse(value, pointer);
  if (!selector) return selector;
  for (auto& r : selector->requirements()) {
    bool foreign = false;
    const std::string original = r.key;
    r.key = cilium_key(r.key, foreign);
    if (foreign) {
      warnings.push_back({pointer, "label '" + original +
                                       "' has a non-Kubernetes source: not analysed, the "
                                       "selector matches no pod"});
    }
  }
  return selector;
}

// An endpoint selector of a peer. In a namespaced policy it is limited to the policy's
// namespace unless it names a namespace itself (the pod-namespace label or a namespace label).
Parsed<PodMatcher> parse_cilium_endpoints(const json& value, const std::string& pointer,
                                          const Policy& policy, std::vector<Issue>& warnings) {
  auto selector = parse_cilium_selector(value, pointer, warnings);
  if (!selector) return tl::unexpected(selector.error());
  PodMatcher matcher;
  matcher.cilium_labels = true;
  if (!policy.namespace_name.empty() && !selector->mentions(k_cilium_namespace_key) &&
      !selector->mentions_prefix(k_cilium_namespace_labels_prefix)) {
    matcher.namespace_name = policy.namespace_name;
  }
  matcher.pod_selector = std::move(*selector);
  return matcher;
}

Parsed<PortSpec> parse_cilium_port(const json& value, const std::string& pointer) {
  PortSpec spec;
  if (!value.is_object()) {
    return problem(pointer, "port entry must be an object");
  }
  if (auto p = value.find("protocol"); p != value.end() && !p->is_null()) {
    const std::string text = p->is_string() ? p->get<std::string>() : p->dump();
    if (text != "ANY" && !text.empty()) {
      auto protocol = parse_protocol(text);
      if (!protocol || text != to_string(*protocol)) {
        return problem(pointer + "/protocol", "protocol must be TCP, UDP, SCTP or ANY");
      }
      spec.protocol = protocol;
    }
  }
  if (auto p = value.find("port"); p != value.end() && !p->is_null()) {
    const std::string text = p->is_string() ? p->get<std::string>() : p->dump();
    if (all_digits(text)) {
      spec.port = std::stoi(text.substr(0, 6));
      if (spec.port > 65535) {
        return problem(pointer + "/port", "port must be between 0 and 65535");
      }
    } else if (!text.empty()) {
      spec.name = text;
    }
  }
  if (auto e = value.find("endPort"); e != value.end() && !e->is_null() && spec.name.empty()) {
    if (!e->is_number_integer()) {
      return problem(pointer + "/endPort", "endPort must be a number");
    }
    spec.end_port = e->get<int>();
    if (spec.port != 0 && spec.end_port < spec.port) {
      return problem(pointer + "/endPort", "endPort must not be below port");
    }
  }
  return spec;
}

Parsed<void> parse_cilium_to_ports(const json& rule, const std::string& pointer, Rule& out,
                                   std::vector<Issue>& warnings, bool& has_to_ports) {
  auto to_ports = list_at(rule, "toPorts", pointer);
  if (!to_ports) return tl::unexpected(to_ports.error());
  has_to_ports = *to_ports != nullptr && !(*to_ports)->empty();
  if (!has_to_ports) {
    return {};
  }
  for (size_t i = 0; i < (*to_ports)->size(); ++i) {
    const auto& entry = (**to_ports)[i];
    const std::string at = pointer + "/toPorts/" + std::to_string(i);
    if (!entry.is_object()) {
      return problem(at, "toPorts entry must be an object");
    }
    for (const char* l7 :
         {"rules", "terminatingTLS", "originatingTLS", "serverNames", "listener"}) {
      if (entry.contains(l7) && !entry[l7].is_null()) {
        warnings.push_back({at + "/" + l7, std::string(l7) +
                                               " (layer 7) is not analysed: the port is treated "
                                               "as allowed for every request"});
      }
    }
    auto ports = list_at(entry, "ports", at);
    if (!ports) return tl::unexpected(ports.error());
    if (*ports == nullptr || (*ports)->empty()) {
      out.ports.push_back(PortSpec{}); // every port, every protocol
      continue;
    }
    for (size_t j = 0; j < (*ports)->size(); ++j) {
      auto port = parse_cilium_port((**ports)[j], at + "/ports/" + std::to_string(j));
      if (!port) return tl::unexpected(port.error());
      out.ports.push_back(std::move(*port));
    }
  }
  return {};
}

Parsed<Rule> parse_cilium_rule(const json& value, const std::string& pointer, bool ingress,
                               const Policy& policy, std::vector<Issue>& warnings) {
  Rule rule;
  if (value.is_null()) {
    return rule;
  }
  if (!value.is_object()) {
    return problem(pointer, "rule must be an object");
  }
  const std::string dir = ingress ? "from" : "to";
  bool any_peer_field = false;

  const std::string endpoints_key = dir + "Endpoints";
  auto endpoints = list_at(value, endpoints_key.c_str(), pointer);
  if (!endpoints) return tl::unexpected(endpoints.error());
  if (*endpoints != nullptr) {
    any_peer_field = true;
    for (size_t i = 0; i < (*endpoints)->size(); ++i) {
      auto matcher = parse_cilium_endpoints((**endpoints)[i],
                                            pointer + "/" + endpoints_key + "/" + std::to_string(i),
                                            policy, warnings);
      if (!matcher) return tl::unexpected(matcher.error());
      Peer peer;
      peer.pods = std::move(*matcher);
      rule.peers.push_back(std::move(peer));
    }
  }

  const std::string entities_key = dir + "Entities";
  auto entities = list_at(value, entities_key.c_str(), pointer);
  if (!entities) return tl::unexpected(entities.error());
  if (*entities != nullptr) {
    any_peer_field = true;
    for (size_t i = 0; i < (*entities)->size(); ++i) {
      const auto& e = (**entities)[i];
      const std::string name = e.is_string() ? e.get<std::string>() : e.dump();
      Peer peer;
      if (name == "world" || name == "world-ipv4" || name == "world-ipv6") {
        peer.any_external = true;
      } else if (name == "cluster") {
        peer.any_pod = true;
      } else if (name == "all") {
        peer.any_pod = true;
        peer.any_external = true;
      } else if (name == "none") {
        continue;
      } else {
        warnings.push_back({pointer + "/" + entities_key + "/" + std::to_string(i),
                            "entity '" + name +
                                "' is not a pod or an outside address: traffic with it is not "
                                "analysed"});
        continue;
      }
      rule.peers.push_back(std::move(peer));
    }
  }

  const std::string cidr_key = dir + "CIDR";
  auto cidrs = list_at(value, cidr_key.c_str(), pointer);
  if (!cidrs) return tl::unexpected(cidrs.error());
  if (*cidrs != nullptr) {
    any_peer_field = true;
    for (size_t i = 0; i < (*cidrs)->size(); ++i) {
      const auto& c = (**cidrs)[i];
      const std::string at = pointer + "/" + cidr_key + "/" + std::to_string(i);
      auto block = c.is_string() ? Cidr::parse(c.get<std::string>(), model::IpSyntax::canonical)
                                 : std::nullopt;
      if (!block) {
        return problem(at, "'" + (c.is_string() ? c.get<std::string>() : c.dump()) +
                               "' is not a valid CIDR");
      }
      Peer peer;
      peer.ip_block = IpBlock{*block, {}};
      rule.peers.push_back(std::move(peer));
    }
  }

  const std::string cidr_set_key = dir + "CIDRSet";
  auto cidr_sets = list_at(value, cidr_set_key.c_str(), pointer);
  if (!cidr_sets) return tl::unexpected(cidr_sets.error());
  if (*cidr_sets != nullptr) {
    any_peer_field = true;
    for (size_t i = 0; i < (*cidr_sets)->size(); ++i) {
      const auto& c = (**cidr_sets)[i];
      const std::string at = pointer + "/" + cidr_set_key + "/" + std::to_string(i);
      if (c.is_object() && !c.contains("cidr")) {
        warnings.push_back(
            {at, "CIDR set without a cidr (cidrGroupRef, selectors) is not analysed"});
        continue;
      }
      auto block = parse_ip_block(c, at, "except");
      if (!block) return tl::unexpected(block.error());
      Peer peer;
      peer.ip_block = std::move(*block);
      rule.peers.push_back(std::move(peer));
    }
  }

  const std::vector<std::string> unsupported =
      ingress ? std::vector<std::string>{"fromRequires", "fromGroups", "fromNodes", "icmps",
                                         "authentication"}
              : std::vector<std::string>{"toFQDNs", "toServices", "toRequires",    "toGroups",
                                         "toNodes", "icmps",      "authentication"};
  for (const auto& key : unsupported) {
    if (value.contains(key) && !value[key].is_null()) {
      if (key != "icmps" && key != "authentication" && key != "fromRequires" &&
          key != "toRequires") {
        any_peer_field = true;
      }
      warnings.push_back({pointer + "/" + key,
                          key + " is not analysed: the peers it names are treated as not allowed"});
    }
  }

  bool has_to_ports = false;
  auto ports = parse_cilium_to_ports(value, pointer, rule, warnings, has_to_ports);
  if (!ports) return tl::unexpected(ports.error());
  // A rule that names only ports applies to every peer (an L4-only rule); a rule that names
  // neither peers nor ports ({}) allows nothing: it only puts the endpoints into default deny.
  if (!any_peer_field && has_to_ports) {
    rule.any_peer = true;
  }
  return rule;
}

Parsed<std::vector<Rule>> parse_cilium_rules(const json& spec, const std::string& pointer,
                                             const char* key, bool ingress, const Policy& policy,
                                             std::vector<Issue>& warnings, bool& present) {
  std::vector<Rule> rules;
  auto list = list_at(spec, key, pointer);
  if (!list) return tl::unexpected(list.error());
  present = *list != nullptr && !(*list)->empty();
  if (*list != nullptr) {
    if ((*list)->empty()) {
      warnings.push_back({pointer + "/" + key,
                          std::string("an empty ") + key +
                              " list puts no endpoint into default deny in Cilium; write [{}] "
                              "for that"});
    }
    for (size_t i = 0; i < (*list)->size(); ++i) {
      auto rule = parse_cilium_rule((**list)[i], pointer + "/" + key + "/" + std::to_string(i),
                                    ingress, policy, warnings);
      if (!rule) return tl::unexpected(rule.error());
      rules.push_back(std::move(*rule));
    }
  }
  return rules;
}

Parsed<Policy> parse_cilium_spec(const json& spec, const std::string& pointer, Policy policy) {
  if (!spec.is_object()) {
    return problem(pointer, "spec must be an object");
  }
  std::vector<Issue> warnings;
  if (spec.contains("endpointSelector") && !spec["endpointSelector"].is_null()) {
    auto selector =
        parse_cilium_selector(spec["endpointSelector"], pointer + "/endpointSelector", warnings);
    if (!selector) return tl::unexpected(selector.error());
    policy.subject.cilium_labels = true;
    policy.subject.pod_selector = std::move(*selector);
    if (!policy.namespace_name.empty()) {
      // A namespaced policy always applies in its own namespace, whatever the selector says.
      policy.subject.namespace_name = policy.namespace_name;
    }
  } else if (spec.contains("nodeSelector")) {
    warnings.push_back({pointer + "/nodeSelector",
                        "nodeSelector (host firewall) policies apply to nodes, not pods: not "
                        "analysed"});
    policy.warnings = std::move(warnings);
    policy.subject.cilium_labels = true;
    policy.subject.pod_selector.add({"reserved:host", SelectorOperator::exists, {}});
    return policy;
  } else {
    return problem(pointer, "spec needs an endpointSelector");
  }

  bool ingress_present = false, ingress_deny_present = false;
  bool egress_present = false, egress_deny_present = false;
  auto ingress =
      parse_cilium_rules(spec, pointer, "ingress", true, policy, warnings, ingress_present);
  if (!ingress) return tl::unexpected(ingress.error());
  auto ingress_deny = parse_cilium_rules(spec, pointer, "ingressDeny", true, policy, warnings,
                                         ingress_deny_present);
  if (!ingress_deny) return tl::unexpected(ingress_deny.error());
  auto egress =
      parse_cilium_rules(spec, pointer, "egress", false, policy, warnings, egress_present);
  if (!egress) return tl::unexpected(egress.error());
  auto egress_deny =
      parse_cilium_rules(spec, pointer, "egressDeny", false, policy, warnings, egress_deny_present);
  if (!egress_deny) return tl::unexpected(egress_deny.error());

  // Default deny per direction when the rule has a section for it, unless
  // enableDefaultDeny switches that off.
  bool deny_ingress = true, deny_egress = true;
  if (auto d = spec.find("enableDefaultDeny"); d != spec.end() && d->is_object()) {
    if (d->contains("ingress") && (*d)["ingress"].is_boolean()) deny_ingress = (*d)["ingress"];
    if (d->contains("egress") && (*d)["egress"].is_boolean()) deny_egress = (*d)["egress"];
  }
  policy.isolates_ingress = deny_ingress && (ingress_present || ingress_deny_present);
  policy.isolates_egress = deny_egress && (egress_present || egress_deny_present);
  policy.ingress = std::move(*ingress);
  policy.ingress_deny = std::move(*ingress_deny);
  policy.egress = std::move(*egress);
  policy.egress_deny = std::move(*egress_deny);
  policy.warnings = std::move(warnings);
  return policy;
}

Parsed<std::vector<Policy>> parse_cilium_policy(const json& object, const Policy& base) {
  std::vector<Policy> out;
  const bool has_spec = object.contains("spec") && !object["spec"].is_null();
  const bool has_specs = object.contains("specs") && !object["specs"].is_null();
  if (!has_spec && !has_specs) {
    return problem("", std::string(to_string(base.kind)) + " needs spec or specs");
  }
  if (has_spec) {
    auto policy = parse_cilium_spec(object["spec"], "/spec", base);
    if (!policy) return tl::unexpected(policy.error());
    out.push_back(std::move(*policy));
  }
  if (has_specs) {
    if (!object["specs"].is_array()) {
      return problem("/specs", "specs must be a list");
    }
    for (size_t i = 0; i < object["specs"].size(); ++i) {
      auto policy = parse_cilium_spec(object["specs"][i], "/specs/" + std::to_string(i), base);
      if (!policy) return tl::unexpected(policy.error());
      out.push_back(std::move(*policy));
    }
  }
  return out;
}

} // namespace

std::string PodMatcher::canonical() const {
  std::string out = cilium_labels ? "cilium|" : "k8s|";
  out += namespace_name ? "ns=" + *namespace_name : std::string("ns=*");
  out += "|nssel=";
  out += namespace_selector ? namespace_selector->canonical() : std::string("-");
  out += "|pods=" + pod_selector.canonical();
  return out;
}

bool PortSpec::matches(int q, Protocol p, const Pod* destination) const {
  if (protocol && *protocol != p) {
    return false;
  }
  if (!name.empty()) {
    if (destination == nullptr) return false;
    auto number = destination->named_port(name, p);
    return number && *number == q;
  }
  if (port == 0) {
    return true;
  }
  return q >= port && q <= std::max(port, end_port);
}

bool Rule::has_named_port() const {
  return std::any_of(ports.begin(), ports.end(), [](const PortSpec& p) { return !p.name.empty(); });
}

std::string Policy::id() const {
  return std::string(to_string(kind)) + "/" +
         (namespace_name.empty() ? name : namespace_name + "/" + name);
}

namespace {

Parsed<std::vector<Policy>> parse_policy_object(const json& object,
                                                const std::string& default_namespace) {
  if (!object.is_object()) {
    return problem("", "policy must be an object");
  }
  const std::string kind = object.value("kind", std::string());
  Policy base;
  if (auto known = model::policy_kind(kind)) {
    base.kind = *known;
  } else {
    return problem("/kind", "'" + kind + "' is not a policy kind analyze understands");
  }
  const auto& metadata = object.value("metadata", json::object());
  if (!metadata.is_object() || !metadata.contains("name") || !metadata["name"].is_string()) {
    return problem("/metadata", kind + " needs metadata.name");
  }
  base.name = metadata["name"].get<std::string>();
  if (base.kind != PolicyKind::cilium_clusterwide_network_policy) {
    base.namespace_name = metadata.value("namespace", default_namespace);
  }
  if (base.kind == PolicyKind::network_policy) {
    auto policy = parse_network_policy(object, std::move(base));
    if (!policy) return tl::unexpected(policy.error());
    return std::vector<Policy>{std::move(*policy)};
  }
  return parse_cilium_policy(object, base);
}

} // namespace

Parsed<std::vector<Policy>> parse_policy(const json& object, const std::string& default_namespace) {
  try {
    return parse_policy_object(object, default_namespace);
  } catch (const json::exception& e) {
    // A field of an unexpected type (value() on a string that is a list, ...).
    return problem("", std::string("unexpected field type: ") + e.what());
  }
}

} // namespace netpol::analyze
