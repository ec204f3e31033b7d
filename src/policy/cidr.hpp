// IP prefixes as the API server parses them (Go's net.ParseCIDR, "sloppy": IPv4 octets
// may have leading zeros), for ipBlock validation and lint.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>

namespace netpol::policy {

struct Cidr {
  bool v6 = false;
  std::array<uint8_t, 16> address{}; // IPv4 uses the first 4 bytes
  int prefix = 0;

  int bits() const { return v6 ? 128 : 32; }
  Cidr network() const;                   // host bits cleared
  bool has_host_bits() const;             // address != network()
  bool contains(const Cidr& other) const; // same family and other ⊆ this
  std::string to_string() const;          // "10.0.0.0/8", "fd00::/64"
};

// Parses "a.b.c.d/n" or "v6/n". nullopt when not a CIDR.
std::optional<Cidr> parse_cidr(const std::string& text);

} // namespace netpol::policy
