// One PolicyKind for policy/ and analyze/: its Kubernetes names, both ways.
#include <gtest/gtest.h>

#include "model/policy_kind.hpp"
#include "model/port.hpp"

namespace netpol::model {
namespace {

TEST(PolicyKind, NamesReadBackAsTheirKind) {
  for (auto kind : {PolicyKind::network_policy, PolicyKind::cilium_network_policy,
                    PolicyKind::cilium_clusterwide_network_policy}) {
    EXPECT_EQ(policy_kind(to_string(kind)), kind);
  }
  EXPECT_STREQ(to_string(PolicyKind::cilium_clusterwide_network_policy),
               "CiliumClusterwideNetworkPolicy");
  EXPECT_FALSE(policy_kind("networkpolicy"));
  EXPECT_FALSE(policy_kind("Pod"));
}

TEST(Protocol, KubernetesSpellingsAndLowerCase) {
  EXPECT_EQ(parse_protocol("SCTP"), Protocol::sctp);
  EXPECT_EQ(parse_protocol("udp"), Protocol::udp);
  EXPECT_STREQ(to_string(Protocol::tcp), "TCP");
  EXPECT_FALSE(parse_protocol("ICMP"));
}

} // namespace
} // namespace netpol::model
