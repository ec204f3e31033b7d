// KubeApi against the real kube-apiserver: discovery, CRUD, server-side apply semantics,
// pagination, access reviews and pod logs through the API server's kubelet proxy.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "kube/client.hpp"
#include "support/test_cluster.hpp"
#include "support/test_kubelet.hpp"

namespace netpol::kube {
namespace {

using nlohmann::json;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;

json policy(const std::string& ns, const std::string& name, int port) {
  // Fully specified (protocol, policyTypes), so the server's defaulting changes nothing and
  // a repeated apply is a true no-op.
  return {{"apiVersion", "networking.k8s.io/v1"},
          {"kind", "NetworkPolicy"},
          {"metadata", {{"name", name}, {"namespace", ns}}},
          {"spec",
           {{"podSelector", {{"matchLabels", {{"app", "web"}}}}},
            {"policyTypes", {"Ingress"}},
            {"ingress", {{{"ports", {{{"protocol", "TCP"}, {"port", port}}}}}}}}}};
}

json config_map(const std::string& ns, const std::string& name,
                const json& labels = json::object()) {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", {{"name", name}, {"namespace", ns}, {"labels", labels}}},
          {"data", {{"k", name}}}};
}

TEST(KubeClient, VersionAndDiscovery) {
  NETPOL_REQUIRE_TEST_CLUSTER(cluster);
  auto api = cluster->admin();
  auto version = api->version();
  ASSERT_TRUE(version) << version.error().message;
  EXPECT_EQ((*version)["gitVersion"], "v1.20.2");

  auto np = api->resolve("networking.k8s.io/v1", "NetworkPolicy");
  ASSERT_TRUE(np) << np.error().message;
  ASSERT_TRUE(*np);
  EXPECT_EQ((*np)->resource, "networkpolicies");
  EXPECT_TRUE((*np)->namespaced);
  auto ns = api->resolve("v1", "Namespace");
  ASSERT_TRUE(ns && *ns);
  EXPECT_FALSE((*ns)->namespaced);
  EXPECT_EQ((*ns)->resource, "namespaces");

  const auto before = api->request_count();
  auto again = api->resolve("networking.k8s.io/v1", "NetworkPolicy");
  ASSERT_TRUE(again && *again);
  EXPECT_EQ(api->request_count(), before) << "discovery is cached";

  // Not served: answers, not errors. (A group other tests may add, such as cilium.io, is
  // not used here: the cluster is shared by every e2e test.)
  auto missing_group = api->resolve("netpol-absent.example.com/v1", "Thing");
  ASSERT_TRUE(missing_group) << missing_group.error().message;
  EXPECT_FALSE(*missing_group);
  auto unknown_kind = api->resolve("apps/v1", "NoSuchKind");
  ASSERT_TRUE(unknown_kind);
  EXPECT_FALSE(*unknown_kind);
  auto unknown_version = api->resolve("apps/v9", "Deployment");
  ASSERT_TRUE(unknown_version);
  EXPECT_FALSE(*unknown_version);

  auto groups = api->api_groups();
  ASSERT_TRUE(groups);
  EXPECT_THAT(*groups, Contains("apps"));
  EXPECT_THAT(*groups, Contains("networking.k8s.io"));
  EXPECT_THAT(*groups, Not(Contains("netpol-absent.example.com")));
}

TEST(KubeClient, ServerSideApplyCreatesUpdatesAndSkipsNoOps) {
  NETPOL_REQUIRE_TEST_CLUSTER(cluster);
  auto api = cluster->admin();
  const auto ns = cluster->create_namespace("ssa");
  auto created = api->apply(policy(ns, "web", 80), {});
  ASSERT_TRUE(created) << created.error().message;
  const auto rv1 = (*created)["metadata"]["resourceVersion"].get<std::string>();
  EXPECT_EQ((*created)["metadata"]["managedFields"][0]["manager"], "netpol");

  auto same = api->apply(policy(ns, "web", 80), {});
  ASSERT_TRUE(same);
  EXPECT_EQ((*same)["metadata"]["resourceVersion"], rv1) << "identical apply writes nothing";

  auto updated = api->apply(policy(ns, "web", 8080), {});
  ASSERT_TRUE(updated);
  EXPECT_NE((*updated)["metadata"]["resourceVersion"], rv1);
  auto stored = api->get(resources::network_policies, ns, "web");
  ASSERT_TRUE(stored);
  EXPECT_EQ((*stored)["spec"]["ingress"][0]["ports"][0]["port"], 8080);
}

// The real server offers HTTP/2: a batch of applies goes out as streams of one connection, in
// one round trip, and later requests reuse that connection.
TEST(KubeClient, ABatchIsOneRoundTripOnOneConnection) {
  NETPOL_REQUIRE_TEST_CLUSTER(cluster);
  auto api = cluster->admin();
  const auto ns = cluster->create_namespace("h2");
  std::vector<nlohmann::json> objects;
  for (int i = 0; i < 100; ++i)
    objects.push_back(policy(ns, "p" + std::to_string(i), 80 + i));
  auto results = api->apply_all(objects, {});
  for (const auto& r : results)
    ASSERT_TRUE(r) << r.error().message;
  auto traffic = api->traffic();
  EXPECT_EQ(traffic.requests, 100U);
  EXPECT_EQ(traffic.round_trips, 1U);
  EXPECT_EQ(traffic.connections, 1U) << "one multiplexed HTTP/2 connection";
  ASSERT_TRUE(api->list(resources::network_policies, ns));
  traffic = api->traffic();
  EXPECT_EQ(traffic.round_trips, 2U);
  EXPECT_EQ(traffic.connections, 1U);
}

TEST(KubeClient, ApplyConflictBetweenFieldManagers) {
  NETPOL_REQUIRE_TEST_CLUSTER(cluster);
  auto api = cluster->admin();
  const auto ns = cluster->create_namespace("conflict");
  ASSERT_TRUE(api->apply(policy(ns, "web", 80), {"team-a"}));
  auto conflict = api->apply(policy(ns, "web", 443), {"team-b"});
  ASSERT_FALSE(conflict);
  EXPECT_TRUE(is_conflict(conflict.error()));
  EXPECT_EQ(conflict.error().code, ErrorCode::api);
  EXPECT_EQ(conflict.error().reason, "Conflict");
  EXPECT_THAT(conflict.error().message,
              AllOf(HasSubstr("apply NetworkPolicy/" + ns + "/web: Apply failed with"),
                    HasSubstr("team-a")));
  EXPECT_EQ(conflict.error().message.find('\n'), std::string::npos);
  ASSERT_FALSE(conflict.error().details.empty());
  EXPECT_THAT(conflict.error().details[0], HasSubstr(".spec.ingress"));

  auto forced = api->apply(policy(ns, "web", 443), {"team-b", true});
  ASSERT_TRUE(forced) << forced.error().message;
  EXPECT_EQ((*forced)["spec"]["ingress"][0]["ports"][0]["port"], 443);
}

TEST(KubeClient, DryRunStoresNothing) {
  NETPOL_REQUIRE_TEST_CLUSTER(cluster);
  auto api = cluster->admin();
  const auto ns = cluster->create_namespace("dryrun");
  auto answer = api->apply(policy(ns, "ghost", 80), {"netpol", false, true});
  ASSERT_TRUE(answer) << answer.error().message;
  EXPECT_EQ((*answer)["metadata"]["name"], "ghost");
  auto stored = api->get(resources::network_policies, ns, "ghost");
  ASSERT_FALSE(stored);
  EXPECT_TRUE(is_not_found(stored.error()));
  EXPECT_EQ(stored.error().message, "get NetworkPolicy/" + ns +
                                        "/ghost: networkpolicies.networking.k8s.io \"ghost\" "
                                        "not found");

  ASSERT_TRUE(api->apply(policy(ns, "real", 80), {}));
  ASSERT_TRUE(api->remove(resources::network_policies, ns, "real", {"Background", true}));
  EXPECT_TRUE(api->get(resources::network_policies, ns, "real")) << "dry-run delete keeps it";
}

TEST(KubeClient, InvalidObjectReportsCauses) {
  NETPOL_REQUIRE_TEST_CLUSTER(cluster);
  auto api = cluster->admin();
  const auto ns = cluster->create_namespace("invalid");
  auto bad = policy(ns, "bad", 80);
  bad["spec"]["podSelector"]["matchLabels"]["app"] = "not a valid label value";
  auto r = api->apply(bad, {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().http_status, 422);
  EXPECT_EQ(r.error().reason, "Invalid");
  ASSERT_FALSE(r.error().details.empty());
  EXPECT_THAT(r.error().details[0], HasSubstr("spec.podSelector.matchLabels"));
}

TEST(KubeClient, ListFollowsPagesAndSelectors) {
  NETPOL_REQUIRE_TEST_CLUSTER(cluster);
  auto api = cluster->admin();
  const auto ns = cluster->create_namespace("pages");
  std::vector<json> objects;
  for (int i = 0; i < 7; ++i) {
    objects.push_back(
        config_map(ns, "cm-" + std::to_string(i), {{"parity", i % 2 == 0 ? "even" : "odd"}}));
  }
  for (const auto& r : api->apply_all(objects, {}))
    ASSERT_TRUE(r) << r.error().message;

  const auto before = api->request_count();
  auto all = api->list(resources::config_maps, ns, {"parity", "", 2});
  ASSERT_TRUE(all) << all.error().message;
  ASSERT_EQ(all->size(), 7U);
  EXPECT_EQ(api->request_count() - before, 4U) << "7 items in pages of 2";
  EXPECT_EQ((*all)[0]["kind"], "ConfigMap");
  EXPECT_EQ((*all)[0]["apiVersion"], "v1");

  auto odd = api->list(resources::config_maps, ns, {"parity=odd", "", 2});
  ASSERT_TRUE(odd);
  EXPECT_EQ(odd->size(), 3U);
  auto named = api->list(resources::config_maps, ns, {"", "metadata.name=cm-4"});
  ASSERT_TRUE(named);
  ASSERT_EQ(named->size(), 1U);
  EXPECT_EQ((*named)[0]["data"]["k"], "cm-4");

  auto bad_selector = api->list(resources::config_maps, ns, {"", "data.k=x"});
  ASSERT_FALSE(bad_selector);
  EXPECT_EQ(bad_selector.error().http_status, 400);
}

TEST(KubeClient, CreateDeleteAndStatusErrors) {
  NETPOL_REQUIRE_TEST_CLUSTER(cluster);
  auto api = cluster->admin();
  const auto ns = cluster->create_namespace("crud");
  ASSERT_TRUE(api->create(config_map(ns, "one")));
  auto again = api->create(config_map(ns, "one"));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().reason, "AlreadyExists");
  EXPECT_EQ(again.error().message,
            "create ConfigMap/" + ns + "/one: configmaps \"one\" already exists");

  ASSERT_TRUE(api->remove(resources::config_maps, ns, "one"));
  auto gone = api->get(resources::config_maps, ns, "one");
  ASSERT_FALSE(gone);
  EXPECT_TRUE(is_not_found(gone.error()));
  auto twice = api->remove(resources::config_maps, ns, "one");
  ASSERT_FALSE(twice);
  EXPECT_TRUE(is_not_found(twice.error()));
}

TEST(KubeClient, AccessReviewsAndForbidden) {
  NETPOL_REQUIRE_TEST_CLUSTER(cluster);
  auto admin = cluster->admin();
  auto nobody = cluster->connect(cluster->nobody_token);
  const auto ns = cluster->create_namespace("ssar");
  const AccessCheck patch{"patch", "networking.k8s.io", "networkpolicies", ns, ""};
  auto allowed = admin->can_i(patch);
  ASSERT_TRUE(allowed) << allowed.error().message;
  EXPECT_TRUE(*allowed);
  auto denied = nobody->can_i(patch);
  ASSERT_TRUE(denied) << denied.error().message;
  EXPECT_FALSE(*denied);
  auto logs = nobody->can_i({"get", "", "pods", ns, "log"});
  ASSERT_TRUE(logs);
  EXPECT_FALSE(*logs);

  auto forbidden = nobody->list(resources::network_policies, ns);
  ASSERT_FALSE(forbidden);
  EXPECT_TRUE(is_forbidden(forbidden.error()));
  EXPECT_THAT(forbidden.error().message,
              AllOf(HasSubstr("list NetworkPolicy in namespace " + ns), HasSubstr("\"nobody\"")));
}

TEST(KubeClient, PodLogsThroughTheApiServer) {
  NETPOL_REQUIRE_TEST_CLUSTER(cluster);
  auto api = cluster->admin();
  const auto ns = cluster->create_namespace("logs");
  test::TestKubelet kubelet;
  const auto node = ns + "-node";
  kubelet.register_node(*api, node);
  test::TestKubelet::create_pod(*api, ns, "agent", node, {"cilium-agent", "sidecar"});
  std::string text;
  for (int i = 0; i < 100; ++i)
    text += "flow " + std::to_string(i) + "\n";
  kubelet.set_log(ns, "agent", "cilium-agent", text);

  LogOptions o;
  o.container = "cilium-agent";
  o.since_time = "2026-11-26T10:00:00Z";
  o.timestamps = true;
  std::string got;
  auto r = api->stream_logs(ns, "agent", o, [&](std::string_view d) {
    got += d;
    return true;
  });
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(got, text);
  ASSERT_FALSE(kubelet.requests().empty());
  auto q = kubelet.requests().back();
  EXPECT_EQ(q["path"], "/containerLogs/" + ns + "/agent/cilium-agent");
  EXPECT_EQ(q["sinceTime"], "2026-11-26T10:00:00Z");
  EXPECT_EQ(q["timestamps"], "true");

  LogOptions limited;
  limited.container = "cilium-agent";
  limited.since_seconds = 300;
  limited.limit_bytes = 14;
  got.clear();
  ASSERT_TRUE(api->stream_logs(ns, "agent", limited, [&](std::string_view d) {
    got += d;
    return true;
  }));
  EXPECT_EQ(got, "flow 0\nflow 1\n");
  q = kubelet.requests().back();
  EXPECT_EQ(q["sinceSeconds"], "300");
  EXPECT_EQ(q["limitBytes"], "14");

  // previous=true reaches the kubelet; without a previous container its 400 comes back as one.
  LogOptions previous;
  previous.container = "cilium-agent";
  previous.previous = true;
  auto none = api->stream_logs(ns, "agent", previous, [](std::string_view) { return true; });
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().http_status, 400);
  EXPECT_THAT(none.error().message, AllOf(HasSubstr("read previous log of Pod/" + ns + "/agent"),
                                          HasSubstr("previous terminated container")));
  EXPECT_EQ(kubelet.requests().back()["previous"], "true");
  kubelet.set_previous_log(ns, "agent", "cilium-agent", "before the restart\n");
  got.clear();
  ASSERT_TRUE(api->stream_logs(ns, "agent", previous, [&](std::string_view d) {
    got += d;
    return true;
  }));
  EXPECT_EQ(got, "before the restart\n");

  // The API server itself refuses a log request without a container on a two-container pod.
  auto no_container = api->stream_logs(ns, "agent", {}, [](std::string_view) { return true; });
  ASSERT_FALSE(no_container);
  EXPECT_EQ(no_container.error().http_status, 400);
  EXPECT_THAT(no_container.error().message,
              AllOf(HasSubstr("read log of Pod/" + ns + "/agent"), HasSubstr("cilium-agent")));
}

} // namespace
} // namespace netpol::kube
