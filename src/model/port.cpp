#include "model/port.hpp"

#include <cctype>

namespace netpol::model {

const char* to_string(Protocol protocol) {
  switch (protocol) {
  case Protocol::tcp: return "TCP";
  case Protocol::udp: return "UDP";
  case Protocol::sctp: return "SCTP";
  }
  return "?";
}

std::optional<Protocol> parse_protocol(std::string_view text) {
  std::string upper;
  for (char c : text)
    upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (upper == "TCP") return Protocol::tcp;
  if (upper == "UDP") return Protocol::udp;
  if (upper == "SCTP") return Protocol::sctp;
  return std::nullopt;
}

} // namespace netpol::model
