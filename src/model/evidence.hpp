// Observed traffic as evidence for a change preview (SPEC §11): the connections flow logs
// show, keyed by workload, with how often and when they were seen. droplog/ reads it from
// flow files (Hubble exporter lines, `hubble observe -o jsonpb`, drop-summary.json,
// flows-summary.json); analyze/ joins it with the pod pairs a change denies or allows.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/port.hpp"

namespace netpol::model {

// One side of an observed connection.
struct ObservedEndpoint {
  std::string namespace_name; // "" outside the cluster
  // The workload as the drop log derives it (SPEC §8.1): the owner for pods, else "world",
  // "host", ... or the IP.
  std::string workload;
  std::string pod; // an example pod of the workload, "" for non-pods

  friend bool operator==(const ObservedEndpoint&, const ObservedEndpoint&) = default;
};

// Every flow seen from one source workload to one destination workload on one port and
// protocol, whatever its verdict (a FORWARDED, DROPPED or AUDIT flow is a connection attempt
// all the same).
struct ObservedConnection {
  ObservedEndpoint source;
  ObservedEndpoint destination;
  int port = 0;
  Protocol protocol = Protocol::tcp;
  std::uint64_t count = 0; // flows
  std::string first_seen;  // RFC 3339; "" when the flows carried no time
  std::string last_seen;
};

// What a set of flow files says, aggregated: one connection per (source namespace/workload,
// destination namespace/workload, port, protocol), so its size follows the distinct
// connections, not the log's.
struct FlowEvidence {
  std::vector<ObservedConnection> connections;
  std::string since;              // the earliest first_seen, "" when unknown
  std::string until;              // the latest last_seen, "" when unknown
  std::uint64_t flows_read = 0;   // flows counted into `connections`
  std::vector<std::string> files; // as given
  // Not in `connections`: flows without a TCP/UDP/SCTP port (ICMP), and lines that claimed a
  // flow but were not one (counted, never fatal).
  std::uint64_t flows_without_port = 0;
  std::uint64_t lines_malformed = 0;
};

} // namespace netpol::model
