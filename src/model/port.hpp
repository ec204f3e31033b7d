// Protocols and container ports: what a policy's port names and what a pod exposes.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace netpol::model {

enum class Protocol { tcp, udp, sctp };

const char* to_string(Protocol protocol); // "TCP", "UDP", "SCTP"
// Accepts the Kubernetes spellings TCP, UDP, SCTP (and lower case, for the command line).
std::optional<Protocol> parse_protocol(std::string_view text);

// A port a container declares (spec.containers[].ports[]).
struct ContainerPort {
  std::string name; // "" when unnamed
  int port = 0;
  Protocol protocol = Protocol::tcp;
};

} // namespace netpol::model
