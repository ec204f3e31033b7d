// One test per semantic rule of the engine, on small hand-made clusters.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "analyze/engine.hpp"
#include "analyze/input.hpp"
#include "support/paths.hpp"

namespace netpol::analyze {
namespace {

using ::testing::HasSubstr;

nlohmann::json pod(const std::string& ns, const std::string& name, nlohmann::json labels,
                   const std::string& ip = "", nlohmann::json ports = nlohmann::json::array()) {
  nlohmann::json p = {{"kind", "Pod"},
                      {"metadata", {{"name", name}, {"namespace", ns}, {"labels", labels}}},
                      {"spec", {{"containers", {{{"name", "main"}, {"ports", ports}}}}}}};
  if (!ip.empty()) p["status"] = {{"podIP", ip}};
  return p;
}

nlohmann::json ns(const std::string& name, nlohmann::json labels = nlohmann::json::object()) {
  return {{"kind", "Namespace"}, {"metadata", {{"name", name}, {"labels", labels}}}};
}

// A cluster and policies, built from objects and YAML text; queries by pod id.
class World {
public:
  World(std::vector<nlohmann::json> objects, const std::string& policies_yaml,
        EngineOptions options = {}) {
    for (const auto& o : objects) {
      auto ok = add_cluster_object(m_cluster, o, "default", {});
      EXPECT_TRUE(ok.has_value()) << ok.error().message;
    }
    auto docs = parse_yaml_documents(policies_yaml, "policies.yaml");
    EXPECT_TRUE(docs.has_value()) << docs.error().message;
    for (const auto& doc : *docs) {
      auto ok = add_policy_object(m_policies, doc.value, "default",
                                  [&](const std::string& p) { return doc.where(p); });
      EXPECT_TRUE(ok.has_value()) << ok.error().message;
    }
    m_engine.emplace(m_cluster, m_policies.policies, options);
  }

  bool allowed(const std::string& from, const std::string& to, int port = 80,
               Protocol protocol = Protocol::tcp) const {
    const PortProtocol pp{port, protocol};
    const auto a = endpoint(from);
    const auto b = endpoint(to);
    const bool single = m_engine->allowed(a, b, pp);
    if (a.pod && b.pod) {
      // The matrix and the single query must always agree.
      EXPECT_EQ(m_engine->matrix(pp).allowed(*a.pod, *b.pod), single) << from << " -> " << to;
    }
    return single;
  }
  const PolicySet& policies() const { return m_policies; }
  const Cluster& cluster() const { return m_cluster; }

private:
  Endpoint endpoint(const std::string& id) const {
    if (id.rfind("ip:", 0) == 0) return Endpoint::outside(IpAddress::parse(id.substr(3)).value());
    return Endpoint::of_pod(m_cluster.find_pod(id).value());
  }

  Cluster m_cluster;
  PolicySet m_policies;
  std::optional<Engine> m_engine;
};

std::vector<nlohmann::json> two_namespaces() {
  return {ns("x", {{"team", "a"}}),
          ns("y", {{"team", "b"}}),
          pod("x", "a", {{"app", "a"}}, "10.0.1.1"),
          pod("x", "b", {{"app", "b"}}, "10.0.1.2"),
          pod("y", "a", {{"app", "a"}}, "10.0.2.1"),
          pod("y", "b", {{"app", "b"}}, "10.0.2.2")};
}

TEST(AnalyzeEngine, WithoutPoliciesEverythingIsAllowedIncludingSelf) {
  World w(two_namespaces(), "");
  EXPECT_TRUE(w.allowed("x/a", "y/b"));
  EXPECT_TRUE(w.allowed("x/a", "x/a"));
  EXPECT_TRUE(w.allowed("ip:8.8.8.8", "x/a"));
}

TEST(AnalyzeEngine, IngressIsAlwaysAPolicyTypeEgressOnlyWhenEgressRulesExist) {
  World w(two_namespaces(), R"(
kind: NetworkPolicy
metadata: {name: p, namespace: x}
spec:
  podSelector: {matchLabels: {app: a}}
  egress:
  - to: [{podSelector: {matchLabels: {app: b}}}]
)");
  EXPECT_FALSE(w.allowed("x/b", "x/a")) << "ingress isolated with no ingress rule";
  EXPECT_TRUE(w.allowed("x/a", "x/b"));
  EXPECT_FALSE(w.allowed("x/a", "y/b")) << "podSelector peers stay in the policy's namespace";
}

TEST(AnalyzeEngine, EmptyEgressListDoesNotIsolateEgressWithoutPolicyTypes) {
  World w(two_namespaces(), R"(
kind: NetworkPolicy
metadata: {name: p, namespace: x}
spec: {podSelector: {}, egress: []}
)");
  EXPECT_TRUE(w.allowed("x/a", "y/a"));
  EXPECT_FALSE(w.allowed("y/a", "x/a"));
}

TEST(AnalyzeEngine, RulesOfAnUnlistedPolicyTypeAreIgnoredWithAWarning) {
  World w(two_namespaces(), R"(
kind: NetworkPolicy
metadata: {name: p, namespace: x}
spec:
  podSelector: {}
  policyTypes: [Ingress]
  egress: [{to: [{podSelector: {matchLabels: {app: b}}}]}]
)");
  EXPECT_TRUE(w.allowed("x/a", "y/a"));
  ASSERT_EQ(w.policies().warnings.size(), 1u);
  EXPECT_THAT(w.policies().warnings[0], HasSubstr("policies.yaml:7: NetworkPolicy/x/p: egress"));
}

TEST(AnalyzeEngine, PodAndNamespaceSelectorInOnePeerMeanAnd) {
  World w(two_namespaces(), R"(
kind: NetworkPolicy
metadata: {name: p, namespace: x}
spec:
  podSelector: {matchLabels: {app: a}}
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {team: b}}
      podSelector: {matchLabels: {app: b}}
)");
  EXPECT_TRUE(w.allowed("y/b", "x/a"));
  EXPECT_FALSE(w.allowed("y/a", "x/a"));
  EXPECT_FALSE(w.allowed("x/b", "x/a"));
}

TEST(AnalyzeEngine, SeparatePeersMeanOr) {
  World w(two_namespaces(), R"(
kind: NetworkPolicy
metadata: {name: p, namespace: x}
spec:
  podSelector: {matchLabels: {app: a}}
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {team: b}}
    - podSelector: {matchLabels: {app: b}}
)");
  EXPECT_TRUE(w.allowed("y/b", "x/a"));
  EXPECT_TRUE(w.allowed("y/a", "x/a"));
  EXPECT_TRUE(w.allowed("x/b", "x/a"));
  EXPECT_FALSE(w.allowed("ip:1.2.3.4", "x/a"));
}

TEST(AnalyzeEngine, MatchExpressionsOperators) {
  World w(two_namespaces(), R"(
kind: NetworkPolicy
metadata: {name: p, namespace: x}
spec:
  podSelector: {matchExpressions: [{key: app, operator: NotIn, values: [b]}]}
  ingress:
  - from:
    - namespaceSelector: {matchExpressions: [{key: team, operator: Exists}]}
      podSelector: {matchExpressions: [{key: app, operator: In, values: [b, c]}]}
    - namespaceSelector: {matchExpressions: [{key: missing, operator: DoesNotExist}]}
      podSelector: {matchExpressions: [{key: app, operator: In, values: [a]}]}
)");
  EXPECT_TRUE(w.allowed("y/a", "x/b")) << "x/b is not selected (NotIn)";
  EXPECT_TRUE(w.allowed("y/b", "x/a"));
  EXPECT_TRUE(w.allowed("y/a", "x/a"));
}

TEST(AnalyzeEngine, NamespaceNameLabelIsAlwaysPresent) {
  // Namespace y is never declared: pods alone create it, with kubernetes.io/metadata.name.
  World w({pod("x", "a", {{"app", "a"}}), pod("y", "b", {{"app", "b"}})}, R"(
kind: NetworkPolicy
metadata: {name: p, namespace: x}
spec:
  podSelector: {}
  ingress:
  - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: y}}}]
)");
  EXPECT_TRUE(w.allowed("y/b", "x/a"));
}

TEST(AnalyzeEngine, StackedPoliciesAreAUnion) {
  World w(two_namespaces(), R"(
kind: NetworkPolicy
metadata: {name: deny, namespace: x}
spec: {podSelector: {}, policyTypes: [Ingress]}
---
kind: NetworkPolicy
metadata: {name: allow-b, namespace: x}
spec:
  podSelector: {matchLabels: {app: a}}
  ingress: [{from: [{podSelector: {matchLabels: {app: b}}}]}]
)");
  EXPECT_TRUE(w.allowed("x/b", "x/a"));
  EXPECT_FALSE(w.allowed("y/a", "x/a"));
  EXPECT_FALSE(w.allowed("x/a", "x/b"));
}

TEST(AnalyzeEngine, ConnectionNeedsBothEgressAndIngress) {
  World w(two_namespaces(), R"(
kind: NetworkPolicy
metadata: {name: server-allows, namespace: y}
spec:
  podSelector: {matchLabels: {app: b}}
  ingress: [{}]
---
kind: NetworkPolicy
metadata: {name: client-denies, namespace: x}
spec: {podSelector: {matchLabels: {app: a}}, policyTypes: [Egress]}
)");
  EXPECT_FALSE(w.allowed("x/a", "y/b"));
  EXPECT_TRUE(w.allowed("x/b", "y/b"));
}

std::vector<nlohmann::json> with_ports() {
  return {pod("x", "client", {{"app", "client"}}, "10.0.1.1"),
          pod("x", "web", {{"app", "web"}}, "10.0.1.2",
              {{{"containerPort", 8080}, {"name", "http"}},
               {{"containerPort", 53}, {"name", "dns"}, {"protocol", "UDP"}}}),
          pod("x", "other", {{"app", "web"}}, "10.0.1.3",
              {{{"containerPort", 9090}, {"name", "http"}}})};
}

TEST(AnalyzeEngine, NamedPortResolvesAgainstTheDestinationOnIngress) {
  World w(with_ports(), R"(
kind: NetworkPolicy
metadata: {name: p, namespace: x}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress: [{ports: [{port: http}]}]
)");
  EXPECT_TRUE(w.allowed("x/client", "x/web", 8080));
  EXPECT_FALSE(w.allowed("x/client", "x/web", 9090));
  EXPECT_TRUE(w.allowed("x/client", "x/other", 9090));
  EXPECT_FALSE(w.allowed("x/client", "x/other", 8080));
  EXPECT_FALSE(w.allowed("x/client", "x/web", 8080, Protocol::udp)) << "named port is TCP";
}

TEST(AnalyzeEngine, NamedPortResolvesAgainstTheDestinationOnEgress) {
  World w(with_ports(), R"(
kind: NetworkPolicy
metadata: {name: p, namespace: x}
spec:
  podSelector: {matchLabels: {app: client}}
  policyTypes: [Egress]
  egress: [{ports: [{port: dns, protocol: UDP}]}]
)");
  EXPECT_TRUE(w.allowed("x/client", "x/web", 53, Protocol::udp));
  EXPECT_FALSE(w.allowed("x/client", "x/other", 53, Protocol::udp)) << "other has no dns port";
  EXPECT_FALSE(w.allowed("x/client", "ip:8.8.8.8", 53, Protocol::udp))
      << "a named port never covers an address outside the cluster";
}

TEST(AnalyzeEngine, EndPortMakesARange) {
  World w(with_ports(), R"(
kind: NetworkPolicy
metadata: {name: p, namespace: x}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress: [{ports: [{port: 8000, endPort: 8080}]}]
)");
  EXPECT_TRUE(w.allowed("x/client", "x/web", 8000));
  EXPECT_TRUE(w.allowed("x/client", "x/web", 8080));
  EXPECT_FALSE(w.allowed("x/client", "x/web", 8081));
  EXPECT_FALSE(w.allowed("x/client", "x/web", 7999));
}

TEST(AnalyzeEngine, ProtocolsAreDistinctAndTcpIsTheDefault) {
  World w(with_ports(), R"(
kind: NetworkPolicy
metadata: {name: p, namespace: x}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress: [{ports: [{port: 53, protocol: UDP}, {port: 80}, {protocol: SCTP}]}]
)");
  EXPECT_TRUE(w.allowed("x/client", "x/web", 53, Protocol::udp));
  EXPECT_FALSE(w.allowed("x/client", "x/web", 53, Protocol::tcp));
  EXPECT_TRUE(w.allowed("x/client", "x/web", 80, Protocol::tcp));
  EXPECT_FALSE(w.allowed("x/client", "x/web", 80, Protocol::udp));
  EXPECT_TRUE(w.allowed("x/client", "x/web", 1234, Protocol::sctp)) << "port omitted: all ports";
}

const char* k_ip_block_policy = R"(
kind: NetworkPolicy
metadata: {name: p, namespace: x}
spec:
  podSelector: {matchLabels: {app: a}}
  policyTypes: [Egress]
  egress:
  - to: [{ipBlock: {cidr: 10.0.0.0/16, except: [10.0.2.0/24]}}]
)";

TEST(AnalyzeEngine, IpBlockWithExceptMatchesPodIpsAndOutsideAddresses) {
  World w(two_namespaces(), k_ip_block_policy);
  EXPECT_TRUE(w.allowed("x/a", "x/b"));
  EXPECT_FALSE(w.allowed("x/a", "y/b")) << "10.0.2.2 is in except";
  EXPECT_TRUE(w.allowed("x/a", "ip:10.0.7.7"));
  EXPECT_FALSE(w.allowed("x/a", "ip:10.0.2.9"));
  EXPECT_FALSE(w.allowed("x/a", "ip:10.1.0.1"));
}

TEST(AnalyzeEngine, IpBlockMatchingPodsCanBeSwitchedOff) {
  World w(two_namespaces(), k_ip_block_policy, EngineOptions{.ipblock_matches_pods = false});
  EXPECT_FALSE(w.allowed("x/a", "x/b"));
  EXPECT_TRUE(w.allowed("x/a", "ip:10.0.7.7"));
}

TEST(AnalyzeEngine, IpBlockSwitchChangesTheUpstreamCidrCase) {
  // Upstream tcp-34 relies on ipBlocks matching pod IPs; without that, x/a cannot reach y/b.
  const auto dir = netpol::test::testdata("netpol/k8s-e2e-netpol/cases/tcp-34/step1");
  for (bool matches : {true, false}) {
    Cluster cluster;
    for (const char* file : {"namespaces.yaml", "pods.yaml"}) {
      const auto docs = load_yaml_file((dir / file).string()).value();
      for (const auto& doc : docs) {
        ASSERT_TRUE(add_cluster_object(cluster, doc.value, "default", {}).has_value());
      }
    }
    auto policies = load_policies({(dir / "policies.yaml").string()}, "default").value();
    Engine engine(cluster, policies.policies, EngineOptions{.ipblock_matches_pods = matches});
    EXPECT_EQ(engine.matrix({80, Protocol::tcp})
                  .allowed(cluster.find_pod("x/a").value(), cluster.find_pod("y/b").value()),
              matches);
  }
}

TEST(AnalyzeEngine, EmptyFromAllowsOutsideAddressesPodSelectorsDoNot) {
  World w(two_namespaces(), R"(
kind: NetworkPolicy
metadata: {name: all, namespace: x}
spec: {podSelector: {matchLabels: {app: a}}, ingress: [{}]}
---
kind: NetworkPolicy
metadata: {name: pods, namespace: x}
spec:
  podSelector: {matchLabels: {app: b}}
  ingress: [{from: [{namespaceSelector: {}}]}]
)");
  EXPECT_TRUE(w.allowed("ip:203.0.113.1", "x/a"));
  EXPECT_FALSE(w.allowed("ip:203.0.113.1", "x/b"));
  EXPECT_TRUE(w.allowed("y/a", "x/b"));
}

TEST(AnalyzeEngine, InvalidPolicyNamesFileLineAndObject) {
  PolicySet set;
  auto docs = parse_yaml_documents(R"(kind: NetworkPolicy
metadata: {name: p, namespace: x}
spec:
  podSelector:
    matchExpressions:
    - {key: app, operator: Has}
)",
                                   "bad.yaml")
                  .value();
  auto ok = add_policy_object(set, docs[0].value, "default",
                              [&](const std::string& p) { return docs[0].where(p); });
  ASSERT_FALSE(ok.has_value());
  EXPECT_EQ(ok.error().code, ErrorCode::invalid_policy);
  EXPECT_EQ(ok.error().message,
            "bad.yaml:6: NetworkPolicy/x/p: 'Has' is not a valid selector operator");
}

TEST(AnalyzeEngine, PeerWithoutSelectorAndIpBlockWithSelectorAreInvalid) {
  for (const char* peer :
       {"{}", "{ipBlock: {cidr: 10.0.0.0/8}, podSelector: {}}", "{ipBlock: {cidr: 10.0.0.1}}"}) {
    auto docs = parse_yaml_documents(std::string("kind: NetworkPolicy\nmetadata: {name: p}\n"
                                                 "spec: {podSelector: {}, ingress: [{from: [") +
                                         peer + "]}]}\n",
                                     "p.yaml")
                    .value();
    PolicySet set;
    EXPECT_FALSE(add_policy_object(set, docs[0].value, "default", {}).has_value()) << peer;
  }
}

TEST(AnalyzeEngine, FieldsOfTheWrongTypeAreErrorsNotExceptions) {
  PolicySet set;
  auto policy = nlohmann::json::parse(
      R"({"kind":"NetworkPolicy","metadata":{"name":"p","namespace":["x"]},"spec":{}})");
  EXPECT_FALSE(add_policy_object(set, policy, "default", {}).has_value());
  Cluster cluster;
  auto bad_pod = nlohmann::json::parse(R"({"kind":"Pod","metadata":{"name":"a","namespace":5}})");
  auto ok = add_cluster_object(cluster, bad_pod, "default", {});
  ASSERT_FALSE(ok.has_value());
  EXPECT_EQ(ok.error().code, ErrorCode::config);
}

TEST(AnalyzeEngine, PortsOfInterestResolveNamedPortsAndAddOneOtherPort) {
  World w(with_ports(), R"(
kind: NetworkPolicy
metadata: {name: p, namespace: x}
spec:
  podSelector: {}
  ingress: [{ports: [{port: http}, {port: 5432}, {port: 65000, endPort: 65535}]}]
)");
  const auto ports = ports_of_interest(w.cluster(), w.policies().policies);
  std::vector<std::string> got;
  for (const auto& p : ports) {
    got.push_back(std::string(to_string(p.port.protocol)) + "/" + std::to_string(p.port.port) +
                  (p.other ? " other" : ""));
  }
  EXPECT_EQ(got, (std::vector<std::string>{"TCP/5432", "TCP/8080", "TCP/9090", "TCP/65000",
                                           "TCP/64999 other"}));
}

// ---- Cilium ---------------------------------------------------------------------------------

TEST(AnalyzeCilium, FromEndpointsStayInThePolicyNamespaceUnlessItNamesOne) {
  World w(two_namespaces(), R"(
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: p, namespace: x}
spec:
  endpointSelector: {matchLabels: {app: a}}
  ingress:
  - fromEndpoints:
    - matchLabels: {app: b}
    - matchLabels: {k8s:io.kubernetes.pod.namespace: y, any:app: a}
    toPorts:
    - ports: [{port: "80", protocol: TCP}]
)");
  EXPECT_TRUE(w.allowed("x/b", "x/a"));
  EXPECT_FALSE(w.allowed("y/b", "x/a"));
  EXPECT_TRUE(w.allowed("y/a", "x/a"));
  EXPECT_FALSE(w.allowed("y/a", "x/a", 81));
  EXPECT_TRUE(w.allowed("y/a", "y/b")) << "y/b is not selected";
}

TEST(AnalyzeCilium, NamespaceLabelsInASelectorLiftTheNamespaceLimit) {
  World w(two_namespaces(), R"(
kind: CiliumNetworkPolicy
metadata: {name: p, namespace: x}
spec:
  endpointSelector: {}
  ingress:
  - fromEndpoints: [{matchLabels: {k8s:io.cilium.k8s.namespace.labels.team: b}}]
)");
  EXPECT_TRUE(w.allowed("y/a", "x/a"));
  EXPECT_FALSE(w.allowed("x/b", "x/a"));
}

TEST(AnalyzeCilium, EntitiesWorldClusterAll) {
  World w(two_namespaces(), R"(
kind: CiliumNetworkPolicy
metadata: {name: world, namespace: x}
spec:
  endpointSelector: {matchLabels: {app: a}}
  ingress: [{fromEntities: [world]}]
---
kind: CiliumNetworkPolicy
metadata: {name: cluster, namespace: x}
spec:
  endpointSelector: {matchLabels: {app: b}}
  egress: [{toEntities: [cluster]}]
---
kind: CiliumNetworkPolicy
metadata: {name: all, namespace: y}
spec:
  endpointSelector: {matchLabels: {app: a}}
  ingress: [{fromEntities: [all]}]
)");
  EXPECT_TRUE(w.allowed("ip:1.1.1.1", "x/a"));
  EXPECT_FALSE(w.allowed("y/b", "x/a"));
  EXPECT_TRUE(w.allowed("x/b", "y/a"));
  EXPECT_FALSE(w.allowed("x/b", "ip:1.1.1.1"));
  EXPECT_TRUE(w.allowed("ip:1.1.1.1", "y/a"));
  EXPECT_TRUE(w.allowed("x/b", "y/a"));
}

TEST(AnalyzeCilium, EmptyRuleIsolatesWithoutAllowingAndPortOnlyRuleAllowsEveryPeer) {
  World w(two_namespaces(), R"(
kind: CiliumNetworkPolicy
metadata: {name: deny, namespace: x}
spec:
  endpointSelector: {matchLabels: {app: a}}
  ingress: [{}]
---
kind: CiliumNetworkPolicy
metadata: {name: l4, namespace: x}
spec:
  endpointSelector: {matchLabels: {app: b}}
  egress: [{toPorts: [{ports: [{port: "53", protocol: ANY}]}]}]
)");
  EXPECT_FALSE(w.allowed("y/a", "x/a"));
  EXPECT_TRUE(w.allowed("x/b", "y/a", 53, Protocol::udp));
  EXPECT_TRUE(w.allowed("x/b", "ip:8.8.8.8", 53, Protocol::tcp));
  EXPECT_FALSE(w.allowed("x/b", "y/a", 80));
}

TEST(AnalyzeCilium, DenyWinsOverAllow) {
  World w(two_namespaces(), R"(
kind: CiliumClusterwideNetworkPolicy
metadata: {name: p}
spec:
  endpointSelector: {matchLabels: {app: b}}
  ingress: [{fromEntities: [all]}]
  ingressDeny: [{fromEndpoints: [{matchLabels: {io.kubernetes.pod.namespace: y}}]}]
)");
  EXPECT_TRUE(w.allowed("x/a", "x/b"));
  EXPECT_TRUE(w.allowed("x/a", "y/b")) << "cluster-wide policy selects in every namespace";
  EXPECT_FALSE(w.allowed("y/a", "x/b"));
  EXPECT_FALSE(w.allowed("y/a", "y/b"));
}

TEST(AnalyzeCilium, UnmodelledPartsAreWarningsNotSilentAllows) {
  World w(two_namespaces(), R"(
kind: CiliumNetworkPolicy
metadata: {name: p, namespace: x}
spec:
  endpointSelector: {matchLabels: {app: a}}
  egress:
  - toFQDNs: [{matchName: example.com}]
    toPorts: [{ports: [{port: "443"}]}]
  - toEndpoints: [{matchLabels: {app: b}}]
    toPorts:
    - ports: [{port: "80", protocol: TCP}]
      rules: {http: [{method: GET}]}
  - toEntities: [kube-apiserver]
)");
  EXPECT_FALSE(w.allowed("x/a", "ip:93.184.216.34", 443)) << "FQDN rule is not a port-only rule";
  EXPECT_TRUE(w.allowed("x/a", "x/b", 80)) << "L7 rules still allow the connection";
  const auto& warnings = w.policies().warnings;
  ASSERT_EQ(warnings.size(), 3u);
  EXPECT_THAT(warnings[0], HasSubstr("CiliumNetworkPolicy/x/p: toFQDNs is not analysed"));
  EXPECT_THAT(warnings[1], HasSubstr("rules (layer 7) is not analysed"));
  EXPECT_THAT(warnings[2], HasSubstr("entity 'kube-apiserver'"));
}

TEST(AnalyzeCilium, EnableDefaultDenyFalseAddsAllowsWithoutIsolating) {
  World w(two_namespaces(), R"(
kind: CiliumNetworkPolicy
metadata: {name: p, namespace: x}
spec:
  endpointSelector: {}
  enableDefaultDeny: {ingress: false}
  ingress: [{fromEndpoints: [{matchLabels: {app: b}}]}]
)");
  EXPECT_TRUE(w.allowed("y/a", "x/a"));
}

} // namespace
} // namespace netpol::analyze
