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

} // namespace
} // namespace netpol::analyze
