#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "analyze/engine.hpp"
#include "analyze/policy.hpp"
#include "droplog/collector.hpp"
#include "droplog/suggest.hpp"
#include "unit/droplog/flow_lines.hpp"
#include "util/yaml.hpp"

namespace netpol::test {
namespace {

using ::testing::HasSubstr;

droplog::DropRows rows_of(const std::vector<FlowSpec>& flows) {
  droplog::DropCollector c(droplog::DropFilter{});
  for (const auto& f : flows)
    c.add_line(flow_line(f));
  return c.rows();
}

// The suggested YAML parsed back, each document checked against the NetworkPolicy shape
// (the engine's parser rejects what the API server would reject).
std::vector<analyze::Policy> parse_back(const std::string& yaml) {
  auto docs = parse_yaml_documents(yaml, "suggested-policy.yaml");
  EXPECT_TRUE(docs) << (docs ? "" : docs.error().message);
  std::vector<analyze::Policy> policies;
  if (!docs) return policies;
  for (const auto& doc : *docs) {
    if (doc.value.is_null()) continue;
    EXPECT_EQ(doc.value["apiVersion"], "networking.k8s.io/v1");
    EXPECT_EQ(doc.value["kind"], "NetworkPolicy");
    EXPECT_TRUE(doc.value["metadata"]["name"].is_string());
    EXPECT_LE(doc.value["metadata"]["name"].get<std::string>().size(), 63u);
    for (const char* dir : {"ingress", "egress"}) {
      if (!doc.value["spec"].contains(dir)) continue;
      for (const auto& rule : doc.value["spec"][dir])
        for (const auto& port : rule["ports"]) {
          EXPECT_TRUE(port["port"].is_number_integer()) << port.dump();
          EXPECT_TRUE(port["protocol"].is_string()) << port.dump();
        }
    }
    auto parsed = analyze::parse_policy(doc.value, "default");
    EXPECT_TRUE(parsed) << (parsed ? "" : parsed.error().pointer + ": " + parsed.error().message);
    if (parsed) {
      for (auto& p : *parsed) {
        EXPECT_TRUE(p.warnings.empty());
        policies.push_back(std::move(p));
      }
    }
  }
  return policies;
}

analyze::Pod pod(std::string ns, std::string name, analyze::Labels labels, const char* ip) {
  analyze::Pod p;
  p.namespace_name = std::move(ns);
  p.name = std::move(name);
  p.labels = std::move(labels);
  p.ips = {*analyze::IpAddress::parse(ip)};
  return p;
}

analyze::PortProtocol tcp(int port) {
  return {port, analyze::Protocol::tcp};
}

class SuggestAllowsExactlyTheObservedFlows : public ::testing::Test {
protected:
  void SetUp() override {
    for (auto p : {pod("shop", "frontend-7d9f8b6c5d-x2x4z", {{"app", "frontend"}}, "10.0.1.5"),
                   pod("shop", "db-0", {{"app", "db"}}, "10.0.2.7"),
                   pod("shop", "cart-0", {{"app", "cart"}}, "10.0.1.9"),
                   pod("ci", "runner-0", {{"app", "frontend"}}, "10.0.4.4")}) {
      ASSERT_TRUE(m_cluster.add_pod(p));
    }
  }
  size_t at(const char* id) { return *m_cluster.find_pod(id); }
  analyze::Cluster m_cluster;
};

TEST_F(SuggestAllowsExactlyTheObservedFlows, IngressFromPodsAndAddresses) {
  FlowSpec frontend_db; // shop/frontend -> shop/db:5432 INGRESS
  FlowSpec cart_db;
  cart_db.source = PeerSpec{"shop", "cart-0", {"k8s:app=cart"}, "10.0.1.9"};
  cart_db.port = 6432;
  FlowSpec world_db;
  world_db.source = PeerSpec{"", "", {"reserved:world"}, "203.0.113.9"};
  const auto suggestion = droplog::suggest_policies(rows_of({frontend_db, cart_db, world_db}));
  ASSERT_EQ(suggestion.policies.size(), 1u) << droplog::suggestion_to_yaml(suggestion);
  EXPECT_TRUE(suggestion.notes.empty());
  const auto policy = droplog::policy_to_json(suggestion, 0);
  EXPECT_EQ(policy["metadata"]["namespace"], "shop");
  EXPECT_EQ(policy["metadata"]["name"], "allow-observed-db-ingress");
  EXPECT_EQ(policy["spec"]["podSelector"]["matchLabels"], nlohmann::json({{"app", "db"}}));

  const auto policies = parse_back(droplog::suggestion_to_yaml(suggestion));
  ASSERT_EQ(policies.size(), 1u);
  analyze::Engine engine(m_cluster, policies);
  using analyze::Endpoint;
  const auto frontend = Endpoint::of_pod(at("shop/frontend-7d9f8b6c5d-x2x4z"));
  const auto cart = Endpoint::of_pod(at("shop/cart-0"));
  const auto db = Endpoint::of_pod(at("shop/db-0"));
  const auto world = Endpoint::outside(*analyze::IpAddress::parse("203.0.113.9"));
  // observed
  EXPECT_TRUE(engine.allowed(frontend, db, tcp(5432)));
  EXPECT_TRUE(engine.allowed(cart, db, tcp(6432)));
  EXPECT_TRUE(engine.allowed(world, db, tcp(5432)));
  // not observed: other ports, other peers, a same-labelled pod in another namespace
  EXPECT_FALSE(engine.allowed(frontend, db, tcp(6432)));
  EXPECT_FALSE(engine.allowed(cart, db, tcp(5432)));
  EXPECT_FALSE(engine.allowed(frontend, db, {5432, analyze::Protocol::udp}));
  EXPECT_FALSE(engine.allowed(Endpoint::of_pod(at("ci/runner-0")), db, tcp(5432)));
  EXPECT_FALSE(
      engine.allowed(Endpoint::outside(*analyze::IpAddress::parse("203.0.113.10")), db, tcp(5432)));
  // other pods are untouched
  EXPECT_TRUE(engine.allowed(db, cart, tcp(80)));
}

TEST_F(SuggestAllowsExactlyTheObservedFlows, EgressGoesOnTheSource) {
  FlowSpec out;
  out.direction = "EGRESS";
  out.destination = PeerSpec{"", "", {"reserved:world"}, "2001:db8::1"};
  out.port = 443;
  FlowSpec dns;
  dns.direction = "EGRESS";
  dns.destination = PeerSpec{"shop", "cart-0", {"k8s:app=cart"}, "10.0.1.9"};
  dns.protocol = "UDP";
  dns.port = 53;
  const auto suggestion = droplog::suggest_policies(rows_of({out, dns}));
  ASSERT_EQ(suggestion.policies.size(), 1u);
  const auto policy = droplog::policy_to_json(suggestion, 0);
  EXPECT_EQ(policy["metadata"]["name"], "allow-observed-frontend-egress");
  EXPECT_EQ(policy["spec"]["policyTypes"], nlohmann::json::array({"Egress"}));
  const auto yaml = droplog::suggestion_to_yaml(suggestion);
  EXPECT_THAT(yaml, HasSubstr("cidr: 2001:db8::1/128"));
  const auto policies = parse_back(yaml);
  analyze::Engine engine(m_cluster, policies);
  const auto frontend = analyze::Endpoint::of_pod(at("shop/frontend-7d9f8b6c5d-x2x4z"));
  const auto cart = analyze::Endpoint::of_pod(at("shop/cart-0"));
  EXPECT_TRUE(engine.allowed(frontend, cart, {53, analyze::Protocol::udp}));
  EXPECT_FALSE(engine.allowed(frontend, cart, tcp(53)));
  EXPECT_TRUE(engine.allowed(
      frontend, analyze::Endpoint::outside(*analyze::IpAddress::parse("2001:db8::1")), tcp(443)));
  EXPECT_FALSE(engine.allowed(
      frontend, analyze::Endpoint::outside(*analyze::IpAddress::parse("2001:db8::2")), tcp(443)));
}

TEST(Suggest, WhatNoNetworkPolicyCanExpressBecomesANote) {
  FlowSpec icmp;
  icmp.protocol = "ICMPv4";
  FlowSpec unlabelled;
  unlabelled.destination.labels.clear();
  FlowSpec to_host;
  to_host.destination = PeerSpec{"", "", {"reserved:host"}, "172.18.0.2"};
  const auto suggestion = droplog::suggest_policies(rows_of({icmp, unlabelled, to_host}));
  EXPECT_TRUE(suggestion.policies.empty());
  ASSERT_EQ(suggestion.notes.size(), 3u);
  const auto yaml = droplog::suggestion_to_yaml(suggestion);
  EXPECT_THAT(yaml, HasSubstr("cannot allow ICMPv4"));
  EXPECT_THAT(yaml, HasSubstr("no labels for pod shop/db"));
  EXPECT_THAT(yaml, HasSubstr("not a pod"));
  EXPECT_THAT(yaml, HasSubstr("# No flow to allow."));
  EXPECT_TRUE(parse_back(yaml).empty());
}

// A flow may carry what no object may have (a label value with a space): the policy built
// from it would be refused by the API server, so it becomes a note naming why, and the rest
// is still suggested.
TEST(Suggest, WhatTheApiServerWouldRefuseBecomesANote) {
  FlowSpec bad_label;
  bad_label.destination = PeerSpec{"shop", "db-0", {"k8s:app=my db"}, "10.0.2.7"};
  FlowSpec bad_peer;
  bad_peer.source = PeerSpec{"shop", "x-0", {"k8s:app=a:b"}, "10.0.1.9"};
  bad_peer.destination = PeerSpec{"shop", "cache-0", {"k8s:app=cache"}, "10.0.2.8"};
  FlowSpec fine;
  fine.destination = PeerSpec{"shop", "api-0", {"k8s:app=api"}, "10.0.2.9"};
  const auto suggestion = droplog::suggest_policies(rows_of({bad_label, bad_peer, fine}));
  ASSERT_EQ(suggestion.policies.size(), 1u);
  EXPECT_EQ(suggestion.policies[0].labels,
            (std::vector<std::pair<std::string, std::string>>{{"app", "api"}}));
  const auto yaml = droplog::suggestion_to_yaml(suggestion);
  EXPECT_THAT(yaml, HasSubstr("not suggested, the API server would refuse it"));
  EXPECT_THAT(yaml, HasSubstr("my db"));
  EXPECT_THAT(yaml, HasSubstr("a:b"));
  EXPECT_EQ(parse_back(yaml).size(), 1u);
}

TEST(Suggest, NamespaceFilterAndOneRulePerPeerSet) {
  FlowSpec a; // frontend -> db:5432
  FlowSpec b = a;
  b.port = 5433; // same peer, another port: shares the rule
  FlowSpec other;
  other.source.ns = "ci";
  other.destination = PeerSpec{"ci", "cache-0", {"k8s:app=cache"}, "10.0.4.5"};
  const auto all = droplog::suggest_policies(rows_of({a, b, other}));
  EXPECT_EQ(all.policies.size(), 2u);
  const auto shop = droplog::suggest_policies(rows_of({a, b, other}), {"shop"});
  ASSERT_EQ(shop.policies.size(), 1u);
  const auto ingress = droplog::policy_to_json(shop, 0)["spec"]["ingress"];
  ASSERT_EQ(ingress.size(), 1u);
  EXPECT_EQ(ingress[0]["ports"].size(), 2u);
  EXPECT_EQ(ingress[0]["from"].size(), 1u);
}

// The YAML is written without building the policy objects; it must read exactly as the
// objects rendered by to_yaml would, whatever the names, labels and addresses.
TEST(Suggest, YamlIsThePolicyObjectsAsYaml) {
  std::vector<FlowSpec> flows;
  FlowSpec a; // shop/frontend -> shop/db:5432
  flows.push_back(a);
  a.port = 5433;
  flows.push_back(a);
  FlowSpec odd; // labels and names that YAML must quote
  odd.source = PeerSpec{"true", "x-0", {"k8s:app=yes", "k8s:tier=", "k8s:z=1.5"}, "10.0.0.7"};
  odd.destination = PeerSpec{"shop", "db-0", {"k8s:app=db", "k8s:n=0x1F"}, "10.0.2.7"};
  flows.push_back(odd);
  odd.direction = "EGRESS"; // a policy in namespace "true" for labels that need quotes
  flows.push_back(odd);
  FlowSpec v6;
  v6.direction = "EGRESS";
  v6.destination = PeerSpec{"", "", {"reserved:world"}, "::1"};
  v6.port = 443;
  flows.push_back(v6);
  v6.destination.ip = "203.0.113.9";
  v6.protocol = "UDP";
  flows.push_back(v6);
  FlowSpec icmp;
  icmp.protocol = "ICMPv4";
  flows.push_back(icmp);
  const auto suggestion = droplog::suggest_policies(rows_of(flows));
  ASSERT_EQ(suggestion.policies.size(), 3u);
  std::string expected =
      "# NetworkPolicies that allow the dropped or audited flows of the drop log, and no more.\n"
      "# Review before applying: every flow listed was blocked, not necessarily wanted.\n";
  for (const auto& note : suggestion.notes)
    expected += "# not allowed: " + note + "\n";
  for (size_t i = 0; i < suggestion.policies.size(); ++i)
    expected += "---\n" + to_yaml(nlohmann::json(droplog::policy_to_json(suggestion, i)));
  EXPECT_EQ(droplog::suggestion_to_yaml(suggestion), expected);
}

} // namespace
} // namespace netpol::test
