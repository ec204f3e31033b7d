// IP addresses and CIDR blocks (IPv4 and IPv6) for ipBlock peers and Cilium CIDR rules.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace netpol::analyze {

class IpAddress {
public:
  // Parses "10.0.1.2" or "fd00::1"; nullopt for anything else.
  static std::optional<IpAddress> parse(std::string_view text);

  bool is_v6() const { return m_v6; }
  std::string to_string() const;
  // Bit `i` counting from the most significant bit of the address.
  bool bit(int i) const { return (m_bytes[static_cast<size_t>(i / 8)] >> (7 - i % 8)) & 1; }

  friend bool operator==(const IpAddress&, const IpAddress&) = default;

private:
  std::array<std::uint8_t, 16> m_bytes{}; // IPv4 uses the first 4
  bool m_v6 = false;
};

struct Cidr {
  IpAddress base;
  int prefix = 0;

  // Parses "10.0.0.0/8" or "fd00::/64". Host bits may be set ("10.0.2.2/24" is the /24
  // around it), as older API servers accept. A bare address without "/" is rejected.
  static std::optional<Cidr> parse(std::string_view text);

  bool contains(const IpAddress& address) const;
  // True when every address of `inner` is in this block.
  bool covers(const Cidr& inner) const;
};

// cidr minus its except blocks (NetworkPolicy ipBlock, Cilium CIDRSet).
struct IpBlock {
  Cidr cidr;
  std::vector<Cidr> except;

  bool contains(const IpAddress& address) const;
};

} // namespace netpol::analyze
