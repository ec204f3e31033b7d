// --live input: what is listed from the API, and how planned policies overlay the live ones.
#include <mutex>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "analyze/engine.hpp"
#include "analyze/live.hpp"

namespace netpol::analyze {
namespace {

using nlohmann::json;

// Lists a fixed set of objects; serves cilium.io only when asked to. Records list requests
// (list_live sends them concurrently, so the record is guarded).
class ListingApi final : public kube::KubeApi {
public:
  ListingApi(std::vector<json> objects, bool cilium)
      : m_objects(std::move(objects)), m_cilium(cilium) {}

  std::vector<std::string> requests;
  std::optional<Error> fail_lists;
  std::mutex m_mutex;

  std::string server() const override { return "https://fake.invalid"; }
  Result<json> version() override { return json::object(); }
  Result<std::optional<kube::ResourceInfo>> resolve(const std::string& api_version,
                                                    const std::string& kind) override {
    if (!m_cilium || api_version != "cilium.io/v2") return std::optional<kube::ResourceInfo>();
    if (kind == "CiliumNetworkPolicy")
      return std::optional(kube::resources::cilium_network_policies);
    return std::optional(kube::ResourceInfo{"cilium.io", "v2", "ciliumclusterwidenetworkpolicies",
                                            "CiliumClusterwideNetworkPolicy", false});
  }
  Result<std::vector<std::string>> api_groups() override { return std::vector<std::string>{}; }
  Result<json> get(const kube::ResourceInfo&, const std::string&, const std::string&) override {
    return fail(ErrorCode::internal, "unexpected get");
  }
  Result<std::vector<json>> list(const kube::ResourceInfo& resource, const std::string& ns,
                                 const kube::ListOptions&) override {
    {
      std::lock_guard lock(m_mutex);
      requests.push_back(resource.resource + (ns.empty() ? "" : " in " + ns));
    }
    if (fail_lists) return tl::unexpected(*fail_lists);
    std::vector<json> out;
    for (const auto& o : m_objects) {
      if (o["kind"] == resource.kind) out.push_back(o);
    }
    return out;
  }
  Result<json> apply(const json&, const kube::ApplyOptions&) override {
    return fail(ErrorCode::internal, "unexpected apply");
  }
  std::vector<Result<json>> apply_all(const std::vector<json>&,
                                      const kube::ApplyOptions&) override {
    return {};
  }
  Result<void> remove(const kube::ResourceInfo&, const std::string&, const std::string&,
                      const kube::DeleteOptions&) override {
    return fail(ErrorCode::internal, "unexpected remove");
  }
  Result<json> create(const json&) override { return fail(ErrorCode::internal, "unexpected"); }
  Result<json> replace_status(const json&) override {
    return fail(ErrorCode::internal, "unexpected");
  }
  Result<void> stream_logs(const std::string&, const std::string&, const kube::LogOptions&,
                           const std::function<bool(std::string_view)>&) override {
    return fail(ErrorCode::internal, "unexpected");
  }
  Result<bool> can_i(const kube::AccessCheck&) override { return true; }
  uint64_t request_count() const override { return requests.size(); }

private:
  std::vector<json> m_objects;
  bool m_cilium;
};

std::vector<json> objects() {
  return {
      json::parse(R"({"kind":"Namespace","metadata":{"name":"shop","labels":{"team":"a"}}})"),
      json::parse(
          R"({"kind":"Pod","metadata":{"name":"web","namespace":"shop","labels":{"app":"web"}}})"),
      json::parse(
          R"({"kind":"Pod","metadata":{"name":"db","namespace":"shop","labels":{"app":"db"}}})"),
      json::parse(R"({"kind":"NetworkPolicy","metadata":{"name":"deny","namespace":"shop"},
                      "spec":{"podSelector":{}}})"),
      json::parse(R"({"kind":"CiliumNetworkPolicy","metadata":{"name":"web","namespace":"shop"},
                      "spec":{"endpointSelector":{"matchLabels":{"app":"web"}},
                              "ingress":[{"fromEndpoints":[{}]}]}})"),
  };
}

TEST(AnalyzeLive, ListsEverythingAcrossNamespacesAndCiliumOnlyWhenServed) {
  ListingApi without(objects(), false);
  auto live = list_live(without);
  ASSERT_TRUE(live.has_value()) << live.error().message;
  EXPECT_THAT(without.requests,
              ::testing::UnorderedElementsAre("namespaces", "pods", "networkpolicies"));
  EXPECT_EQ(live->policies.size(), 1u);

  ListingApi with(objects(), true);
  live = list_live(with);
  ASSERT_TRUE(live.has_value());
  EXPECT_THAT(with.requests, ::testing::UnorderedElementsAre(
                                 "namespaces", "pods", "networkpolicies", "ciliumnetworkpolicies",
                                 "ciliumclusterwidenetworkpolicies"));
  EXPECT_EQ(live->policies.size(), 2u);
  auto cluster = cluster_from(*live);
  ASSERT_TRUE(cluster.has_value());
  EXPECT_EQ(cluster->pods().size(), 2u);
  EXPECT_EQ(cluster->find_namespace("shop")->labels.at("team"), "a");
}

TEST(AnalyzeLive, ListFailureIsTheError) {
  ListingApi api(objects(), false);
  Error forbidden(ErrorCode::api, "list pods: forbidden");
  forbidden.http_status = 403;
  api.fail_lists = forbidden;
  auto live = list_live(api);
  ASSERT_FALSE(live.has_value());
  EXPECT_EQ(live.error().http_status, 403);
}

TEST(AnalyzeLive, PlannedPoliciesReplaceLiveOnesOfTheSameNameAndKeepTheRest) {
  ListingApi api(objects(), true);
  const auto live = list_live(api).value();
  const auto cluster = cluster_from(live).value();
  const auto in_force = policies_from(live.policies).value();
  // The planned "deny" replaces the live one (same kind, namespace, name) with an allow-all;
  // the live CiliumNetworkPolicy stays.
  const auto planned =
      policies_from({json::parse(
                        R"({"kind":"NetworkPolicy","metadata":{"name":"deny","namespace":"shop"},
          "spec":{"podSelector":{},"ingress":[{}]}})")})
          .value();
  const auto after = overlay(in_force, planned);
  ASSERT_EQ(after.policies.size(), 2u);
  const size_t web = cluster.find_pod("shop/web").value();
  const size_t db = cluster.find_pod("shop/db").value();
  const PortProtocol port{80, Protocol::tcp};
  EXPECT_FALSE(Engine(cluster, in_force.policies).matrix(port).allowed(web, db));
  EXPECT_TRUE(Engine(cluster, after.policies).matrix(port).allowed(web, db));
  EXPECT_TRUE(Engine(cluster, after.policies).matrix(port).allowed(db, web)) << "CNP kept";
}

// A pod as the API server lists it: a status with a phase, and an IP once it runs.
json listed_pod(const std::string& name, const std::string& app, const std::string& ip,
                bool host_network = false) {
  json pod = {{"kind", "Pod"},
              {"metadata", {{"name", name}, {"namespace", "shop"}, {"labels", {{"app", app}}}}},
              {"spec", {{"containers", {{{"name", "main"}}}}}},
              {"status", {{"phase", ip.empty() ? "Pending" : "Running"}}}};
  if (host_network) pod["spec"]["hostNetwork"] = true;
  if (!ip.empty()) pod["status"]["podIP"] = ip;
  return pod;
}

TEST(AnalyzeLive, HostNetworkPodsAreTheNodeNotPodsOfTheMatrix) {
  // The agent pods are selected by app=agent; one of them runs in the node's network.
  LiveObjects live;
  live.namespaces = {json::parse(R"({"kind":"Namespace","metadata":{"name":"shop"}})")};
  live.pods = {listed_pod("agent-host", "agent", "172.18.0.2", true),
               listed_pod("agent", "agent", "10.0.0.5"), listed_pod("web", "web", "10.0.0.6")};
  const auto cluster = cluster_from(live).value();
  ASSERT_EQ(cluster.pods().size(), 2u);
  EXPECT_FALSE(cluster.find_pod("shop/agent-host").has_value());
  EXPECT_EQ(cluster.host_network_pods(), 1u);
  EXPECT_EQ(host_network_note(cluster), "1 hostNetwork pod is the node: not analysed as pods");

  // A policy isolating app=agent, letting only app=agent pods in: the hostNetwork pod is not
  // isolated by it (it is in no matrix), and its traffic, the node's, is not one of an
  // app=agent pod: only an ipBlock holding the node's IP would let it in.
  const auto policies = policies_from({json::parse(
                                          R"({"kind":"NetworkPolicy",
      "metadata":{"name":"agents","namespace":"shop"},
      "spec":{"podSelector":{"matchLabels":{"app":"agent"}},
              "ingress":[{"from":[{"podSelector":{"matchLabels":{"app":"agent"}}}]}]}})")})
                            .value();
  const Engine engine(cluster, policies.policies);
  const PortProtocol port{80, Protocol::tcp};
  const size_t agent = cluster.find_pod("shop/agent").value();
  const size_t web = cluster.find_pod("shop/web").value();
  EXPECT_TRUE(engine.matrix(port).allowed(agent, agent));
  EXPECT_FALSE(engine.matrix(port).allowed(web, agent));
  const auto node = Endpoint::outside(IpAddress::parse("172.18.0.2").value());
  EXPECT_FALSE(engine.allowed(node, Endpoint::of_pod(agent), port));
  EXPECT_TRUE(engine.allowed(node, Endpoint::of_pod(web), port));

  live.pods.push_back(listed_pod("exporter", "exporter", "172.18.0.2", true));
  EXPECT_EQ(host_network_note(cluster_from(live).value()),
            "2 hostNetwork pods are the node: not analysed as pods");
  live.pods = {listed_pod("web", "web", "10.0.0.6")};
  EXPECT_EQ(host_network_note(cluster_from(live).value()), "");
}

TEST(AnalyzeLive, APendingPodWithoutAnIpTakesNoTrafficAndIsLeftOut) {
  LiveObjects live;
  live.pods = {listed_pod("web", "web", "10.0.0.6"), listed_pod("starting", "web", "")};
  const auto cluster = cluster_from(live).value();
  ASSERT_EQ(cluster.pods().size(), 1u);
  EXPECT_EQ(cluster.pods()[0].id(), "shop/web");
  EXPECT_EQ(cluster.host_network_pods(), 0u);
}

TEST(AnalyzeLive, APodWrittenByHandWithoutAStatusStays) {
  // A planned pod in a --pods-from file has no status: it is analysed (without an IP).
  Cluster cluster;
  auto added = cluster.add_object(
      json::parse(R"({"kind":"Pod","metadata":{"name":"planned","namespace":"shop"}})"), "default");
  ASSERT_TRUE(added.has_value());
  ASSERT_EQ(cluster.pods().size(), 1u);
  EXPECT_EQ(cluster.pods()[0].id(), "shop/planned");
  EXPECT_TRUE(cluster.pods()[0].ips.empty());
  // A hand-written hostNetwork pod is the node all the same.
  added = cluster.add_object(json::parse(R"({"kind":"Pod","metadata":{"name":"agent"},
                                             "spec":{"hostNetwork":true}})"),
                             "default");
  ASSERT_TRUE(added.has_value());
  EXPECT_EQ(cluster.pods().size(), 1u);
  EXPECT_EQ(cluster.host_network_pods(), 1u);
  // hostNetwork of the wrong type is an error naming the field type, not an exception.
  EXPECT_FALSE(cluster
                   .add_object(json::parse(R"({"kind":"Pod","metadata":{"name":"odd"},
                                               "spec":{"hostNetwork":"yes"}})"),
                               "default")
                   .has_value());
}

} // namespace
} // namespace netpol::analyze
