// One dropped or audited flow as netpol needs it, reduced from a Hubble flow event
// (research: Hubble `flow.Flow`, protojson with proto field names). Only the fields that
// the drop log aggregates, shows or turns into policy are kept.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace netpol::droplog {

// One side of a flow.
struct FlowEndpoint {
  std::string namespace_name; // "" for non-pods
  std::string pod;            // pod name, "" for non-pods
  // What rows group by: the owning workload for pods (see derive_workload), else
  // "host", "remote-node", "kube-apiserver", ... for Cilium reserved identities, else the IP.
  std::string workload;
  std::string ip;
  // Kubernetes pod labels from the Cilium identity ("k8s:app=db" -> {"app","db"}), sorted
  // by key, without Cilium's own io.cilium.k8s.* / io.kubernetes.pod.namespace labels.
  std::vector<std::pair<std::string, std::string>> labels;
  // The reserved identity ("world", "host", ...) from a "reserved:<x>" label; "" for pods.
  std::string reserved;
  // workloads[0].name when the agent reports it (Cilium 1.16+), the most exact owner.
  std::string reported_workload;

  bool is_pod() const { return !pod.empty(); }
  void clear();
};

struct DropFlow {
  std::string verdict;   // "DROPPED", "AUDIT"; Verdicts::connections: "FORWARDED", "REDIRECTED"
  std::string direction; // "INGRESS", "EGRESS" or "UNKNOWN" (the field is omitted when 0)
  FlowEndpoint source;
  FlowEndpoint destination;
  uint32_t port = 0;    // L4 destination port; 0 when the protocol has none (ICMP)
  std::string protocol; // "TCP", "UDP", "SCTP", "ICMPv4", "ICMPv6", ... ; "" if unknown
  std::string reason;   // drop_reason_desc ("POLICY_DENIED"), or the number as text; ""
  std::vector<std::string> policies; // "ns/name" (or "name") of denying policies, sorted
  std::string time;                  // RFC 3339 as received; "" when the event has none
  int64_t time_ns = 0;               // time since the epoch; valid when has_time
  bool has_time = false;
  // An aggregated exporter event (Cilium 1.19+, `fieldAggregate` with `aggregationInterval`)
  // stands for many flows, counted by the direction of each in the flow's `aggregate`
  // object: ingress_flow_count, egress_flow_count, unknown_direction_flow_count. All 0 for
  // an ordinary event, which stands for one flow.
  uint64_t aggregate_ingress = 0;
  uint64_t aggregate_egress = 0;
  uint64_t aggregate_unknown = 0;
  // The flows this one stands for, as DropAggregator::add counts it (the collector sets it
  // per direction of an aggregated event).
  uint64_t count = 1;
  // is_reply (or the older `reply`): the flow answers a connection the other end opened.
  bool reply = false;

  bool aggregated() const { return aggregate_ingress + aggregate_egress + aggregate_unknown != 0; }
  void clear();
};

// The workload a pod belongs to, as rows name it: the reported workload if any; else the
// pod name less a Deployment (-<template-hash>-<5>), DaemonSet/Job (-<5>) or StatefulSet
// (-<ordinal>) suffix; else the app.kubernetes.io/name or app label; else the pod name.
std::string derive_workload(const FlowEndpoint& endpoint);

// The name of a Hubble drop reason number (flow.proto DropReason), or the number as text
// when this build does not know it (new Cilium versions add reasons).
std::string drop_reason_name(uint64_t code);

} // namespace netpol::droplog
