// The one IP and prefix type that validation, lint and analyze share, in both readings.
#include <gtest/gtest.h>

#include "model/ip.hpp"

namespace netpol::model {
namespace {

Cidr cidr(const char* text, IpSyntax syntax = IpSyntax::canonical) {
  return Cidr::parse(text, syntax).value();
}
IpAddress ip(const char* text, IpSyntax syntax = IpSyntax::canonical) {
  return IpAddress::parse(text, syntax).value();
}

TEST(IpAddress, ApiServerSyntaxIsGosLegacyParsing) {
  const auto go = IpSyntax::api_server;
  EXPECT_EQ(ip("10.0.1.2", go).to_string(), "10.0.1.2");
  EXPECT_EQ(ip("010.000.001.002", go), ip("10.0.1.2")) << "leading zeros are decimal";
  EXPECT_EQ(ip("fd00:0::1", go).to_string(), "fd00::1");
  EXPECT_TRUE(ip("::ffff:10.0.0.1", go).is_v6());
  for (const char* bad : {"", "10.0.0", "10.0.0.256", "10.0.0.0001", "10.0.0.1.", "10..0.1",
                          "a.b.c.d", " 10.0.0.1", "fe80::1%eth0", "fd00::1::2", "10.0.0.1/8"}) {
    EXPECT_FALSE(IpAddress::parse(bad, go)) << bad;
  }
}

TEST(IpAddress, CanonicalSyntaxRefusesLeadingZerosAndDropsAZone) {
  EXPECT_EQ(ip("10.0.1.2").to_string(), "10.0.1.2");
  EXPECT_FALSE(IpAddress::parse("010.0.1.2"));
  EXPECT_EQ(ip("fe80::1%eth0"), ip("fe80::1"));
  EXPECT_EQ(ip("2001:db8::1").to_string(), "2001:db8::1");
  for (const char* bad : {"", "10.0.0", "10.0.0.256", "a.b.c.d", "fd00::1::2", "10.0.0.1/8"}) {
    EXPECT_FALSE(IpAddress::parse(bad)) << bad;
  }
}

TEST(Cidr, ParsesPrefixesOfEitherFamily) {
  for (auto syntax : {IpSyntax::api_server, IpSyntax::canonical}) {
    EXPECT_EQ(cidr("10.0.0.0/8", syntax).to_string(), "10.0.0.0/8");
    EXPECT_EQ(cidr("fd00::/64", syntax).to_string(), "fd00::/64");
    EXPECT_EQ(cidr("0.0.0.0/0", syntax).prefix, 0);
    EXPECT_EQ(cidr("10.0.0.0/008", syntax).prefix, 8);
    for (const char* bad : {"10.0.0.0", "10.0.0.0/", "10.0.0.0/33", "fd00::/129", "10.0.0.0/0008",
                            "10.0.0.0/-1", "10.0.0.0/8 ", "/8"}) {
      EXPECT_FALSE(Cidr::parse(bad, syntax)) << bad;
    }
  }
  EXPECT_EQ(cidr("010.0.0.0/8", IpSyntax::api_server).to_string(), "10.0.0.0/8");
  EXPECT_FALSE(Cidr::parse("010.0.0.0/8", IpSyntax::canonical));
}

TEST(Cidr, HostBitsAreKeptAndCanBeCleared) {
  const Cidr c = cidr("10.0.2.2/23");
  EXPECT_TRUE(c.has_host_bits());
  EXPECT_EQ(c.to_string(), "10.0.2.2/23") << "the address as written";
  EXPECT_EQ(c.network().to_string(), "10.0.2.0/23");
  EXPECT_FALSE(c.network().has_host_bits());
  EXPECT_EQ(cidr("fd00::1:2/112").network().to_string(), "fd00::1:0/112");
  EXPECT_TRUE(c.contains(ip("10.0.3.255"))) << "a block with host bits is the block around them";
}

TEST(Cidr, ContainsAddressesAndBlocksOfItsFamily) {
  EXPECT_TRUE(cidr("10.0.0.0/8").contains(ip("10.255.0.1")));
  EXPECT_FALSE(cidr("10.0.0.0/8").contains(ip("11.0.0.1")));
  EXPECT_TRUE(cidr("10.1.128.0/17").contains(ip("10.1.255.255")));
  EXPECT_FALSE(cidr("10.1.128.0/17").contains(ip("10.1.127.255")));
  EXPECT_TRUE(cidr("0.0.0.0/0").contains(ip("203.0.113.9")));
  EXPECT_FALSE(cidr("0.0.0.0/0").contains(ip("2001:db8::1"))) << "families never mix";
  EXPECT_FALSE(cidr("::/0").contains(ip("10.0.0.1")));
  EXPECT_TRUE(cidr("2001:db8::/127").contains(ip("2001:db8::1")));
  EXPECT_FALSE(cidr("2001:db8::/127").contains(ip("2001:db8::2")));
  EXPECT_TRUE(cidr("10.0.0.5/32").contains(ip("10.0.0.5")));

  EXPECT_TRUE(cidr("10.0.0.0/8").contains(cidr("10.244.0.0/16")));
  EXPECT_TRUE(cidr("10.0.0.0/8").contains(cidr("10.0.0.0/8")));
  EXPECT_TRUE(cidr("10.0.0.0/8").contains(cidr("10.9.9.9/16"))) << "host bits of the inner block";
  EXPECT_FALSE(cidr("10.244.0.0/16").contains(cidr("10.0.0.0/8")));
  EXPECT_FALSE(cidr("10.0.0.0/8").contains(cidr("fd00::/8")));
}

TEST(IpBlock, ExceptionsAreCutOut) {
  const IpBlock block{cidr("10.0.0.0/16"), {cidr("10.0.2.0/24"), cidr("10.0.9.9/32")}};
  EXPECT_TRUE(block.contains(ip("10.0.1.1")));
  EXPECT_FALSE(block.contains(ip("10.0.2.200")));
  EXPECT_FALSE(block.contains(ip("10.0.9.9")));
  EXPECT_FALSE(block.contains(ip("10.1.0.1")));
}

} // namespace
} // namespace netpol::model
