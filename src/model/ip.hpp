// IP addresses and prefixes (IPv4 and IPv6): ipBlock and Cilium CIDR rules, pod IPs, the
// cluster's pod CIDRs. One type for every reader; two spellings of the text, because the API
// server's validation and the connectivity engine have always read addresses differently.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace netpol::model {

enum class IpSyntax {
  // Go's net.ParseIP/ParseCIDR as the API server's legacy (non-strict) validation uses them:
  // IPv4 octets may have leading zeros, read as decimal; IPv6 without a zone ("%eth0").
  api_server,
  // inet_pton's forms: no leading zeros in IPv4; an IPv6 zone is accepted and dropped.
  canonical,
};

class IpAddress {
public:
  // Parses "10.0.1.2" or "fd00::1"; nullopt for anything else.
  static std::optional<IpAddress> parse(std::string_view text,
                                        IpSyntax syntax = IpSyntax::canonical);

  bool is_v6() const { return m_v6; }
  int bits() const { return m_v6 ? 128 : 32; }
  // Network byte order; IPv4 uses the first 4.
  const std::array<std::uint8_t, 16>& bytes() const { return m_bytes; }
  // Bit `i` counting from the most significant bit of the address.
  bool bit(int i) const { return (m_bytes[static_cast<size_t>(i / 8)] >> (7 - i % 8)) & 1; }
  std::string to_string() const; // "10.0.1.2", "fd00::1"

  friend bool operator==(const IpAddress&, const IpAddress&) = default;

private:
  friend struct Cidr; // network() clears host bits in place

  std::array<std::uint8_t, 16> m_bytes{};
  bool m_v6 = false;
};

struct Cidr {
  IpAddress address; // as written: host bits may be set
  int prefix = 0;

  // Parses "10.0.0.0/8" or "fd00::/64": an address in `syntax` and a prefix of at most three
  // digits within the family's bits. Host bits may be set ("10.0.2.2/24" is the /24 around
  // it), as the API server accepts. A bare address without "/" is no CIDR.
  static std::optional<Cidr> parse(std::string_view text, IpSyntax syntax);

  bool is_v6() const { return address.is_v6(); }
  int bits() const { return address.bits(); }
  Cidr network() const;       // host bits cleared
  bool has_host_bits() const; // address != network().address
  // Same family and within the first `prefix` bits.
  bool contains(const IpAddress& other) const;
  // Same family and every address of `inner` is in this block.
  bool contains(const Cidr& inner) const;
  std::string to_string() const; // "10.0.0.0/8", "fd00::/64" (the address as written)
};

// cidr minus its except blocks (NetworkPolicy ipBlock, Cilium CIDRSet).
struct IpBlock {
  Cidr cidr;
  std::vector<Cidr> except;

  bool contains(const IpAddress& address) const;
};

} // namespace netpol::model
