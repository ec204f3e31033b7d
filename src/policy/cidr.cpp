#include "policy/cidr.hpp"

#include <arpa/inet.h>

#include <fmt/format.h>

namespace netpol::policy {
namespace {

bool all_digits(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

// Go's parseIPv4 as used by the API server's legacy (non-strict) parsing: leading zeros are
// decimal, each octet 0..255, exactly four.
bool parse_ipv4(const std::string& s, std::array<uint8_t, 16>& out) {
  size_t start = 0;
  for (int i = 0; i < 4; ++i) {
    const size_t dot = s.find('.', start);
    const bool last = i == 3;
    if (last != (dot == std::string::npos)) return false;
    const std::string part = s.substr(start, last ? std::string::npos : dot - start);
    if (!all_digits(part) || part.size() > 3) return false;
    const int v = std::stoi(part);
    if (v > 255) return false;
    out[static_cast<size_t>(i)] = static_cast<uint8_t>(v);
    start = dot + 1;
  }
  return true;
}

} // namespace

std::optional<Cidr> parse_cidr(const std::string& text) {
  const size_t slash = text.find('/');
  if (slash == std::string::npos) return std::nullopt;
  const std::string ip = text.substr(0, slash);
  const std::string mask = text.substr(slash + 1);
  if (!all_digits(mask) || mask.size() > 3) return std::nullopt;
  Cidr c;
  if (ip.find(':') != std::string::npos) {
    c.v6 = true;
    in6_addr a{};
    if (inet_pton(AF_INET6, ip.c_str(), &a) != 1) return std::nullopt;
    for (size_t i = 0; i < 16; ++i)
      c.address[i] = a.s6_addr[i];
  } else if (!parse_ipv4(ip, c.address)) {
    return std::nullopt;
  }
  c.prefix = std::stoi(mask);
  if (c.prefix > c.bits()) return std::nullopt;
  return c;
}

Cidr Cidr::network() const {
  Cidr n = *this;
  for (int bit = prefix; bit < bits(); ++bit) {
    n.address[static_cast<size_t>(bit / 8)] &= static_cast<uint8_t>(~(0x80u >> (bit % 8)));
  }
  return n;
}

bool Cidr::has_host_bits() const {
  return network().address != address;
}

bool Cidr::contains(const Cidr& other) const {
  if (other.v6 != v6 || other.prefix < prefix) return false;
  Cidr o = other;
  o.prefix = prefix;
  return o.network().address == network().address;
}

std::string Cidr::to_string() const {
  if (!v6) {
    return fmt::format("{}.{}.{}.{}/{}", address[0], address[1], address[2], address[3], prefix);
  }
  in6_addr a{};
  for (size_t i = 0; i < 16; ++i)
    a.s6_addr[i] = address[i];
  char buf[INET6_ADDRSTRLEN] = {0};
  inet_ntop(AF_INET6, &a, buf, sizeof buf);
  return fmt::format("{}/{}", buf, prefix);
}

} // namespace netpol::policy
