#include "analyze/ip.hpp"

#include <boost/asio/ip/address.hpp>

namespace netpol::analyze {

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address(std::string(text), ec);
  if (ec) {
    return std::nullopt;
  }
  IpAddress out;
  if (address.is_v4()) {
    const auto bytes = address.to_v4().to_bytes();
    std::copy(bytes.begin(), bytes.end(), out.m_bytes.begin());
  } else {
    const auto v6 = address.to_v6();
    const auto bytes = v6.to_bytes();
    std::copy(bytes.begin(), bytes.end(), out.m_bytes.begin());
    out.m_v6 = true;
  }
  return out;
}

std::string IpAddress::to_string() const {
  if (m_v6) {
    boost::asio::ip::address_v6::bytes_type bytes;
    std::copy(m_bytes.begin(), m_bytes.end(), bytes.begin());
    return boost::asio::ip::address_v6(bytes).to_string();
  }
  boost::asio::ip::address_v4::bytes_type bytes;
  std::copy(m_bytes.begin(), m_bytes.begin() + 4, bytes.begin());
  return boost::asio::ip::address_v4(bytes).to_string();
}

std::optional<Cidr> Cidr::parse(std::string_view text) {
  const auto slash = text.find('/');
  if (slash == std::string_view::npos) {
    return std::nullopt;
  }
  auto base = IpAddress::parse(text.substr(0, slash));
  const auto digits = text.substr(slash + 1);
  if (!base || digits.empty() || digits.size() > 3) {
    return std::nullopt;
  }
  int prefix = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    prefix = prefix * 10 + (c - '0');
  }
  if (prefix > (base->is_v6() ? 128 : 32)) {
    return std::nullopt;
  }
  return Cidr{*base, prefix};
}

bool Cidr::contains(const IpAddress& address) const {
  if (address.is_v6() != base.is_v6()) {
    return false;
  }
  for (int i = 0; i < prefix; ++i) {
    if (address.bit(i) != base.bit(i)) return false;
  }
  return true;
}

bool Cidr::covers(const Cidr& inner) const {
  return inner.prefix >= prefix && contains(inner.base);
}

bool IpBlock::contains(const IpAddress& address) const {
  if (!cidr.contains(address)) {
    return false;
  }
  for (const auto& e : except) {
    if (e.contains(address)) return false;
  }
  return true;
}

} // namespace netpol::analyze
