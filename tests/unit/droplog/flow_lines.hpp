// Builds Hubble flow event lines for droplog tests, with the field names of the real
// captures in tests/data/hubble (protojson, proto names) and of the fields newer agents add
// (workloads, *_denied_by), so each test states only what it is about.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace netpol::test {

struct PeerSpec {
  std::string ns;
  std::string pod;
  std::vector<std::string> labels; // Cilium label strings: "k8s:app=db", "reserved:world"
  std::string ip = "10.0.0.1";
};

struct FlowSpec {
  std::string verdict = "DROPPED";
  std::string time = "2026-11-26T10:00:00Z";
  PeerSpec source{"shop", "frontend-7d9f8b6c5d-x2x4z", {"k8s:app=frontend"}, "10.0.1.5"};
  PeerSpec destination{"shop", "db-0", {"k8s:app=db"}, "10.0.2.7"};
  std::string protocol = "TCP";
  int port = 5432;
  std::string direction = "INGRESS";
  std::string reason = "POLICY_DENIED"; // "" = omitted
  std::vector<std::string> denied_by;   // "ns/name"
};

inline nlohmann::ordered_json peer_json(const PeerSpec& p) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  if (!p.ns.empty()) j["namespace"] = p.ns;
  if (!p.labels.empty()) j["labels"] = p.labels;
  if (!p.pod.empty()) j["pod_name"] = p.pod;
  return j;
}

// The exporter shape: {"flow":{...},"node_name":...,"time":...}, fields in proto order.
inline std::string flow_line(const FlowSpec& s) {
  nlohmann::ordered_json flow;
  flow["time"] = s.time;
  flow["verdict"] = s.verdict;
  flow["IP"] = {{"source", s.source.ip}, {"destination", s.destination.ip}, {"ipVersion", "IPv4"}};
  if (s.protocol == "ICMPv4") {
    flow["l4"] = {{"ICMPv4", {{"type", 8}}}};
  } else {
    flow["l4"] = {{s.protocol, {{"source_port", 40000}, {"destination_port", s.port}}}};
  }
  flow["source"] = peer_json(s.source);
  flow["destination"] = peer_json(s.destination);
  flow["Type"] = "L3_L4";
  flow["node_name"] = "kind-worker";
  flow["event_type"] = {{"type", s.verdict == "AUDIT" ? 5 : 1}};
  if (!s.direction.empty()) flow["traffic_direction"] = s.direction;
  if (!s.reason.empty()) flow["drop_reason_desc"] = s.reason;
  if (!s.denied_by.empty()) {
    nlohmann::ordered_json policies = nlohmann::ordered_json::array();
    for (const auto& p : s.denied_by) {
      const auto slash = p.find('/');
      policies.push_back(nlohmann::ordered_json{{"name", p.substr(slash + 1)},
                                                {"namespace", p.substr(0, slash)},
                                                {"kind", "NetworkPolicy"}});
    }
    flow[s.direction == "EGRESS" ? "egress_denied_by" : "ingress_denied_by"] = policies;
  }
  nlohmann::ordered_json event = {{"flow", flow}, {"node_name", "kind-worker"}, {"time", s.time}};
  return event.dump();
}

// An aggregated exporter event (Cilium 1.19+, exporter `fieldAggregate` and
// `aggregationInterval`): the group's first flow with the group's counts in flow.aggregate,
// e.g. {{"ingress_flow_count", 3}}, zero counts left out (cilium/cilium
// pkg/hubble/exporter/aggregator.go, pkg/hubble/ir/aggregate.go). With `fields`, the flow keeps
// only those (the fieldAggregate projection) and "time".
inline std::string aggregated_line(const FlowSpec& s, const nlohmann::ordered_json& aggregate,
                                   const std::vector<std::string>& fields = {}) {
  auto event = nlohmann::ordered_json::parse(flow_line(s));
  if (!fields.empty()) {
    nlohmann::ordered_json projected = {{"time", s.time}};
    for (const auto& f : fields)
      if (event["flow"].contains(f)) projected[f] = event["flow"][f];
    event["flow"] = projected;
  }
  event["flow"]["aggregate"] = aggregate;
  return event.dump();
}

// Go's strconv.Quote for ASCII text, as logrus and slog write logfmt values.
inline std::string go_quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// The agent log shape: the event inside msg="...".
inline std::string logfmt_line(const std::string& json) {
  return "time=\"2026-11-26T10:00:00Z\" level=info msg=" + go_quote(json) + " subsys=hubble";
}

} // namespace netpol::test
