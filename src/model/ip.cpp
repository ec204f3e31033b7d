#include "model/ip.hpp"

#include <arpa/inet.h>

#include <algorithm>

#include <boost/asio/ip/address.hpp>

namespace netpol::model {
namespace {

// 1 to 3 decimal digits, nothing else; their value in `out`.
bool parse_small_decimal(std::string_view s, int& out) {
  if (s.empty() || s.size() > 3) return false;
  out = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    out = out * 10 + (c - '0');
  }
  return true;
}

// Go's parseIPv4 as the API server's legacy parsing uses it: exactly four octets of up to
// three decimal digits each (leading zeros are decimal), each at most 255.
bool parse_go_ipv4(std::string_view s, std::array<std::uint8_t, 16>& out) {
  for (size_t i = 0; i < 4; ++i) {
    const size_t dot = s.find('.');
    const bool last = i == 3;
    if (last != (dot == std::string_view::npos)) return false;
    int octet = 0;
    if (!parse_small_decimal(s.substr(0, dot), octet) || octet > 255) return false;
    out[i] = static_cast<std::uint8_t>(octet);
    if (!last) s.remove_prefix(dot + 1);
  }
  return true;
}

} // namespace

std::optional<IpAddress> IpAddress::parse(std::string_view text, IpSyntax syntax) {
  IpAddress out;
  if (syntax == IpSyntax::api_server) {
    if (text.find(':') == std::string_view::npos) {
      if (!parse_go_ipv4(text, out.m_bytes)) return std::nullopt;
      return out;
    }
    in6_addr address{};
    if (inet_pton(AF_INET6, std::string(text).c_str(), &address) != 1) return std::nullopt;
    std::copy(std::begin(address.s6_addr), std::end(address.s6_addr), out.m_bytes.begin());
    out.m_v6 = true;
    return out;
  }
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address(std::string(text), ec);
  if (ec) {
    return std::nullopt;
  }
  if (address.is_v4()) {
    const auto bytes = address.to_v4().to_bytes();
    std::copy(bytes.begin(), bytes.end(), out.m_bytes.begin());
  } else {
    const auto bytes = address.to_v6().to_bytes();
    std::copy(bytes.begin(), bytes.end(), out.m_bytes.begin());
    out.m_v6 = true;
  }
  return out;
}

std::string IpAddress::to_string() const {
  char buffer[INET6_ADDRSTRLEN] = {0};
  inet_ntop(m_v6 ? AF_INET6 : AF_INET, m_bytes.data(), buffer, sizeof buffer);
  return buffer;
}

std::optional<Cidr> Cidr::parse(std::string_view text, IpSyntax syntax) {
  const size_t slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  auto address = IpAddress::parse(text.substr(0, slash), syntax);
  int prefix = 0;
  if (!address || !parse_small_decimal(text.substr(slash + 1), prefix) ||
      prefix > address->bits()) {
    return std::nullopt;
  }
  return Cidr{*address, prefix};
}

Cidr Cidr::network() const {
  Cidr n = *this;
  auto& bytes = n.address.m_bytes;
  for (int bit = prefix; bit < bits(); ++bit) {
    bytes[static_cast<size_t>(bit / 8)] &= static_cast<std::uint8_t>(~(0x80u >> (bit % 8)));
  }
  return n;
}

bool Cidr::has_host_bits() const {
  return network().address != address;
}

bool Cidr::contains(const IpAddress& other) const {
  if (other.is_v6() != address.is_v6()) {
    return false;
  }
  for (int i = 0; i < prefix; ++i) {
    if (other.bit(i) != address.bit(i)) return false;
  }
  return true;
}

bool Cidr::contains(const Cidr& inner) const {
  return inner.prefix >= prefix && contains(inner.address);
}

std::string Cidr::to_string() const {
  return address.to_string() + "/" + std::to_string(prefix);
}

bool IpBlock::contains(const IpAddress& other) const {
  return cidr.contains(other) && std::none_of(except.begin(), except.end(),
                                              [&](const Cidr& e) { return e.contains(other); });
}

} // namespace netpol::model
