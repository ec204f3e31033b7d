#include "droplog/flow.hpp"

#include <algorithm>
#include <array>

namespace netpol::droplog {

void FlowEndpoint::clear() {
  namespace_name.clear();
  pod.clear();
  workload.clear();
  ip.clear();
  labels.clear();
  reserved.clear();
  reported_workload.clear();
}

void DropFlow::clear() {
  verdict.clear();
  direction.clear();
  source.clear();
  destination.clear();
  port = 0;
  protocol.clear();
  reason.clear();
  policies.clear();
  time.clear();
  time_ns = 0;
  has_time = false;
  aggregate_ingress = 0;
  aggregate_egress = 0;
  aggregate_unknown = 0;
  count = 1;
  reply = false;
}

namespace {

bool all_lower_alnum(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
  });
}

bool has_digit(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Kubernetes generates name suffixes from "bcdfghjklmnpqrstvwxz2456789" (no vowels, so
// generated suffixes never spell words); a 5-character segment of only these is generated.
bool generated_alphabet(std::string_view s) {
  return !s.empty() && s.find_first_not_of("bcdfghjklmnpqrstvwxz2456789") == std::string::npos;
}

bool all_digits(std::string_view s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
}

std::string_view label(const FlowEndpoint& e, std::string_view key) {
  for (const auto& [k, v] : e.labels) {
    if (k == key) return v;
  }
  return {};
}

// The pod name less its controller's suffix, or "" when it has no recognisable suffix.
std::string strip_pod_suffix(std::string_view pod) {
  const size_t last = pod.rfind('-');
  if (last == std::string_view::npos || last == 0) return {};
  const std::string_view tail = pod.substr(last + 1);
  const std::string_view head = pod.substr(0, last);
  if (all_digits(tail)) {
    return std::string(head); // StatefulSet ordinal
  }
  if (tail.size() != 5 || !all_lower_alnum(tail)) return {};
  const size_t prev = head.rfind('-');
  if (prev != std::string_view::npos && prev != 0) {
    const std::string_view hash = head.substr(prev + 1);
    // ReplicaSet pod-template-hash: up to 10 generated characters; hand-written examples
    // ("frontend-7d9f-abcde") use hex, so any lower alphanumeric run with a digit counts.
    if (hash.size() >= 4 && hash.size() <= 10 && all_lower_alnum(hash) &&
        (generated_alphabet(hash) || has_digit(hash))) {
      return std::string(head.substr(0, prev));
    }
  }
  if (generated_alphabet(tail) || has_digit(tail)) {
    return std::string(head); // DaemonSet, Job or bare ReplicaSet pod
  }
  return {};
}

} // namespace

std::string derive_workload(const FlowEndpoint& e) {
  if (!e.reported_workload.empty()) return e.reported_workload;
  if (!e.pod.empty()) {
    if (auto stripped = strip_pod_suffix(e.pod); !stripped.empty()) return stripped;
  }
  if (auto v = label(e, "app.kubernetes.io/name"); !v.empty()) return std::string(v);
  if (auto v = label(e, "app"); !v.empty()) return std::string(v);
  if (!e.pod.empty()) return e.pod;
  if (!e.reserved.empty() && e.reserved != "world") return e.reserved;
  if (!e.ip.empty()) return e.ip;
  if (!e.reserved.empty()) return e.reserved;
  return "unknown";
}

std::string drop_reason_name(uint64_t code) {
  // flow.proto DropReason, 130..207 (deprecated names kept: old agents still send them).
  static constexpr std::array<const char*, 78> k_names = {
      "INVALID_SOURCE_MAC",
      "INVALID_DESTINATION_MAC",
      "INVALID_SOURCE_IP",
      "POLICY_DENIED",
      "INVALID_PACKET_DROPPED",
      "CT_TRUNCATED_OR_INVALID_HEADER",
      "CT_MISSING_TCP_ACK_FLAG",
      "CT_UNKNOWN_L4_PROTOCOL",
      "CT_CANNOT_CREATE_ENTRY_FROM_PACKET",
      "UNSUPPORTED_L3_PROTOCOL",
      "MISSED_TAIL_CALL",
      "ERROR_WRITING_TO_PACKET",
      "UNKNOWN_L4_PROTOCOL",
      "UNKNOWN_ICMPV4_CODE",
      "UNKNOWN_ICMPV4_TYPE",
      "UNKNOWN_ICMPV6_CODE",
      "UNKNOWN_ICMPV6_TYPE",
      "ERROR_RETRIEVING_TUNNEL_KEY",
      "ERROR_RETRIEVING_TUNNEL_OPTIONS",
      "INVALID_GENEVE_OPTION",
      "UNKNOWN_L3_TARGET_ADDRESS",
      "STALE_OR_UNROUTABLE_IP",
      "NO_MATCHING_LOCAL_CONTAINER_FOUND",
      "ERROR_WHILE_CORRECTING_L3_CHECKSUM",
      "ERROR_WHILE_CORRECTING_L4_CHECKSUM",
      "CT_MAP_INSERTION_FAILED",
      "INVALID_IPV6_EXTENSION_HEADER",
      "IP_FRAGMENTATION_NOT_SUPPORTED",
      "SERVICE_BACKEND_NOT_FOUND",
      nullptr, // 159 is unassigned
      "NO_TUNNEL_OR_ENCAPSULATION_ENDPOINT",
      "FAILED_TO_INSERT_INTO_PROXYMAP",
      "REACHED_EDT_RATE_LIMITING_DROP_HORIZON",
      "UNKNOWN_CONNECTION_TRACKING_STATE",
      "LOCAL_HOST_IS_UNREACHABLE",
      "NO_CONFIGURATION_AVAILABLE_TO_PERFORM_POLICY_DECISION",
      "UNSUPPORTED_L2_PROTOCOL",
      "NO_MAPPING_FOR_NAT_MASQUERADE",
      "UNSUPPORTED_PROTOCOL_FOR_NAT_MASQUERADE",
      "FIB_LOOKUP_FAILED",
      "ENCAPSULATION_TRAFFIC_IS_PROHIBITED",
      "INVALID_IDENTITY",
      "UNKNOWN_SENDER",
      "NAT_NOT_NEEDED",
      "IS_A_CLUSTERIP",
      "FIRST_LOGICAL_DATAGRAM_FRAGMENT_NOT_FOUND",
      "FORBIDDEN_ICMPV6_MESSAGE",
      "DENIED_BY_LB_SRC_RANGE_CHECK",
      "SOCKET_LOOKUP_FAILED",
      "SOCKET_ASSIGN_FAILED",
      "PROXY_REDIRECTION_NOT_SUPPORTED_FOR_PROTOCOL",
      "POLICY_DENY",
      "VLAN_FILTERED",
      "INVALID_VNI",
      "INVALID_TC_BUFFER",
      "NO_SID",
      "MISSING_SRV6_STATE",
      "NAT46",
      "NAT64",
      "AUTH_REQUIRED",
      "CT_NO_MAP_FOUND",
      "SNAT_NO_MAP_FOUND",
      "INVALID_CLUSTER_ID",
      "UNSUPPORTED_PROTOCOL_FOR_DSR_ENCAP",
      "NO_EGRESS_GATEWAY",
      "UNENCRYPTED_TRAFFIC",
      "TTL_EXCEEDED",
      "NO_NODE_ID",
      "DROP_RATE_LIMITED",
      "IGMP_HANDLED",
      "IGMP_SUBSCRIBED",
      "MULTICAST_HANDLED",
      "DROP_HOST_NOT_READY",
      "DROP_EP_NOT_READY",
      "DROP_NO_EGRESS_IP",
      "DROP_PUNT_PROXY",
      nullptr, // 206 is unassigned
      "DROP_FRAG_NOT_FOUND_WORLD",
  };
  if (code >= 130 && code - 130 < k_names.size() && k_names[code - 130] != nullptr) {
    return k_names[code - 130];
  }
  return std::to_string(code);
}

} // namespace netpol::droplog
