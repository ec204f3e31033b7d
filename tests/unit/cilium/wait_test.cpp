#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cilium/unmanaged.hpp"
#include "cilium/wait.hpp"
#include "unit/cilium/fake_kube.hpp"

namespace netpol::cilium {
namespace {

using nlohmann::json;
using test::FakeKube;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
namespace res = kube::resources;

json daemon_set(int generation, int observed, int desired, int ready, int updated) {
  return {
      {"metadata", {{"name", "cilium"}, {"namespace", "kube-system"}, {"generation", generation}}},
      {"status",
       {{"observedGeneration", observed},
        {"desiredNumberScheduled", desired},
        {"numberReady", ready},
        {"updatedNumberScheduled", updated}}}};
}

json deployment(const std::string& name, int replicas, int ready, int generation = 1,
                int observed = 1) {
  return {{"metadata", {{"name", name}, {"namespace", "kube-system"}, {"generation", generation}}},
          {"spec", {{"replicas", replicas}}},
          {"status",
           {{"observedGeneration", observed},
            {"replicas", replicas},
            {"readyReplicas", ready},
            {"updatedReplicas", replicas}}}};
}

json crd(const std::string& name) {
  return {
      {"metadata", {{"name", name}}},
      {"status", {{"conditions", json::array({{{"type", "Established"}, {"status", "True"}}})}}}};
}

// A cluster where Cilium is fully up.
void healthy(FakeKube& kube) {
  kube.put(res::daemon_sets, daemon_set(2, 2, 3, 3, 3));
  kube.put(res::deployments, deployment("cilium-operator", 1, 1));
  kube.put(res::deployments, deployment("hubble-relay", 1, 1));
  for (const auto& name : required_crds())
    kube.put(res::custom_resource_definitions, crd(name));
}

TEST(CiliumReadiness, ReadyWhenEverythingRolledOut) {
  FakeKube kube;
  healthy(kube);
  auto r = check_readiness(kube, "kube-system");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->ready);
  EXPECT_EQ(r->summary,
            "cilium 3/3 ready, cilium-operator 1/1 ready, hubble-relay 1/1 ready, CRDs 3/3");
}

TEST(CiliumReadiness, EachUnfinishedPartIsNamed) {
  FakeKube kube;
  healthy(kube);
  kube.put(res::daemon_sets, daemon_set(3, 2, 3, 3, 3));
  kube.put(res::deployments, deployment("cilium-operator", 1, 0));
  kube.put(res::deployments, deployment("hubble-relay", 1, 1, 2, 1));
  auto r = check_readiness(kube, "kube-system");
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->ready);
  EXPECT_THAT(r->not_ready,
              ElementsAre("DaemonSet/kube-system/cilium: rollout not observed yet (generation 3, "
                          "observed 2)",
                          "Deployment/kube-system/cilium-operator: 0/1 replicas ready",
                          "Deployment/kube-system/hubble-relay: rollout not observed yet "
                          "(generation 2, observed 1)"));
}

TEST(CiliumReadiness, PodsNotReadyOrNotUpdated) {
  FakeKube kube;
  healthy(kube);
  kube.put(res::daemon_sets, daemon_set(1, 1, 3, 2, 3));
  auto r = check_readiness(kube, "kube-system");
  ASSERT_TRUE(r);
  EXPECT_THAT(r->not_ready, ElementsAre("DaemonSet/kube-system/cilium: 2/3 pods ready"));
  kube.put(res::daemon_sets, daemon_set(1, 1, 3, 3, 1));
  r = check_readiness(kube, "kube-system");
  EXPECT_THAT(r->not_ready, ElementsAre("DaemonSet/kube-system/cilium: 1/3 pods updated"));
  kube.put(res::daemon_sets, daemon_set(1, 1, 0, 0, 0));
  r = check_readiness(kube, "kube-system");
  EXPECT_THAT(r->not_ready, ElementsAre("DaemonSet/kube-system/cilium: no pods scheduled"));
}

TEST(CiliumReadiness, MissingObjectsAndCrds) {
  FakeKube kube;
  auto r = check_readiness(kube, "kube-system");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_FALSE(r->ready);
  EXPECT_THAT(r->not_ready, Contains("DaemonSet/kube-system/cilium: not found"));
  EXPECT_THAT(r->not_ready, Contains("Deployment/kube-system/cilium-operator: not found"));
  EXPECT_THAT(r->not_ready, Contains(HasSubstr("ciliumendpoints.cilium.io: not registered yet")));
  // Hubble Relay is optional: its absence is not a reason to wait.
  EXPECT_THAT(r->not_ready, Not(Contains(HasSubstr("hubble-relay"))));
}

TEST(CiliumReadiness, CrashLoopFailsAtOnceNamingPodAndContainer) {
  FakeKube kube;
  healthy(kube);
  kube.put(res::pods, json::parse(R"({
    "metadata": {"name": "cilium-x7k2p", "namespace": "kube-system", "labels": {"k8s-app": "cilium"}},
    "status": {"containerStatuses": [{
      "name": "cilium-agent", "restartCount": 5,
      "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 2m40s"}},
      "lastState": {"terminated": {"reason": "Error", "exitCode": 1,
                                   "message": "level=fatal msg=\"bpf fs not mounted\"\nmore"}}}]}
  })"));
  auto r = check_readiness(kube, "kube-system");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::check_failed);
  EXPECT_EQ(r.error().message,
            "pod kube-system/cilium-x7k2p container cilium-agent is crash-looping "
            "(CrashLoopBackOff, 5 restarts, last exit: Error (code 1): level=fatal msg=\"bpf fs "
            "not mounted\")");
  EXPECT_THAT(r.error().details,
              ElementsAre("See why: kubectl -n kube-system logs cilium-x7k2p -c cilium-agent "
                          "--previous"));
}

TEST(CiliumReadiness, ImagePullIsReportedAsNotReady) {
  FakeKube kube;
  healthy(kube);
  kube.put(res::daemon_sets, daemon_set(1, 1, 1, 0, 1));
  kube.put(res::pods, json::parse(R"({
    "metadata": {"name": "cilium-operator-1", "namespace": "kube-system",
                 "labels": {"io.cilium/app": "operator"}},
    "status": {"initContainerStatuses": [{"name": "init",
      "state": {"waiting": {"reason": "ImagePullBackOff", "message": "pull denied"}}}]}
  })"));
  auto r = check_readiness(kube, "kube-system");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_THAT(r->not_ready, Contains("pod kube-system/cilium-operator-1 container init: "
                                     "ImagePullBackOff: pull denied"));
}

TEST(CiliumReadiness, ForbiddenIsAnError) {
  FakeKube kube;
  Error forbidden(ErrorCode::api, "get DaemonSet/kube-system/cilium: forbidden");
  forbidden.http_status = 403;
  kube.fail_on(res::daemon_sets, forbidden);
  auto r = check_readiness(kube, "kube-system");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().http_status, 403);
}

// A clock that moves only when the waiter sleeps.
struct FakeClock {
  std::chrono::steady_clock::time_point t{};
  std::vector<Duration> sleeps;
  WaitOptions options(Duration timeout) {
    WaitOptions o;
    o.timeout = timeout;
    o.poll_interval = std::chrono::seconds(2);
    o.progress_interval = std::chrono::seconds(4);
    o.now = [this] { return t; };
    o.sleep = [this](Duration d) {
      sleeps.push_back(d);
      t += d;
    };
    return o;
  }
};

TEST(CiliumWait, PollsUntilReadyWithProgressAtTheInterval) {
  FakeKube kube;
  healthy(kube);
  kube.put(res::daemon_sets, daemon_set(1, 1, 3, 0, 3));
  FakeClock clock;
  int ds_gets = 0;
  kube.before_request = [&] {
    // Ready from the fourth poll on (each poll reads the DaemonSet first).
    if (clock.sleeps.size() == 3 && ds_gets++ == 0) {
      kube.put(res::daemon_sets, daemon_set(1, 1, 3, 3, 3));
    }
  };
  std::vector<std::string> progress;
  auto r = wait_ready(kube, clock.options(std::chrono::minutes(5)),
                      [&](std::string_view line) { progress.emplace_back(line); });
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->ready);
  EXPECT_EQ(clock.sleeps.size(), 3u);
  // Polls at 0 s, 2 s, 4 s were not ready: progress at 0 s and 4 s.
  EXPECT_THAT(progress, ElementsAre(HasSubstr("cilium 0/3 ready"), HasSubstr("cilium 0/3 ready")));
}

TEST(CiliumWait, TimeoutIsACheckFailureListingWhatIsNotReady) {
  FakeKube kube;
  healthy(kube);
  kube.put(res::daemon_sets, daemon_set(1, 1, 3, 1, 3));
  kube.put(res::deployments, deployment("cilium-operator", 1, 0));
  FakeClock clock;
  auto r = wait_ready(kube, clock.options(std::chrono::seconds(7)), nullptr);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::check_failed);
  EXPECT_EQ(exit_code(r.error().code), 4);
  EXPECT_EQ(r.error().message,
            "Cilium not ready after 7s: DaemonSet/kube-system/cilium: 1/3 pods ready");
  EXPECT_THAT(r.error().details,
              ElementsAre("DaemonSet/kube-system/cilium: 1/3 pods ready",
                          "Deployment/kube-system/cilium-operator: 0/1 replicas ready"));
  // The last pause is cut to the deadline: 2 + 2 + 2 + 1 s.
  EXPECT_THAT(clock.sleeps, ElementsAre(std::chrono::seconds(2), std::chrono::seconds(2),
                                        std::chrono::seconds(2), std::chrono::seconds(1)));
}

TEST(CiliumWait, UnreachableServerIsRetried) {
  FakeKube kube;
  healthy(kube);
  FakeClock clock;
  kube.fail_on(res::daemon_sets, Error(ErrorCode::unreachable, "connect: refused"));
  kube.before_request = [&] {
    if (clock.sleeps.size() == 1) kube.fail_on(res::daemon_sets, Error(ErrorCode::internal, "x"));
  };
  // The injected internal error after one retry proves the first failure was retried.
  auto r = wait_ready(kube, clock.options(std::chrono::minutes(1)), nullptr);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::internal);
  EXPECT_EQ(clock.sleeps.size(), 1u);
}

json config_map(json data) {
  return {{"metadata", {{"name", "cilium-config"}, {"namespace", "kube-system"}}},
          {"data", std::move(data)}};
}

const json k_values = json::parse(R"({
  "policyAuditMode": true,
  "hubble": {"enabled": true, "export": {"static": {"enabled": true, "filePath": "stdout",
             "allowList": ["{\"verdict\":[\"DROPPED\",\"AUDIT\"]}"]}}}
})");

TEST(CiliumVerify, ConfigMatchesTheValues) {
  FakeKube kube;
  kube.put(res::config_maps,
           config_map({{"policy-audit-mode", "true"},
                       {"enable-hubble", "true"},
                       {"hubble-export-file-path", "stdout"},
                       {"hubble-export-allowlist", R"({"verdict":["DROPPED","AUDIT"]})"}}));
  auto r = verify_config(kube, "kube-system", k_values);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_THAT(*r, ElementsAre("policy-audit-mode: true", "enable-hubble: true",
                              "hubble-export-file-path: stdout",
                              R"(hubble-export-allowlist: {"verdict":["DROPPED","AUDIT"]})"));
}

TEST(CiliumVerify, EveryMismatchIsListed) {
  FakeKube kube;
  kube.put(res::config_maps,
           config_map({{"enable-hubble", "true"},
                       {"hubble-export-file-path", "/var/run/cilium/hubble/events.log"}}));
  auto r = verify_config(kube, "kube-system", k_values);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::check_failed);
  EXPECT_EQ(r.error().message, "verify ConfigMap/kube-system/cilium-config: policy-audit-mode is "
                               "unset, expected \"true\" (and 2 more)");
  EXPECT_THAT(r.error().details,
              ElementsAre("policy-audit-mode is unset, expected \"true\"",
                          "hubble-export-file-path is \"/var/run/cilium/hubble/events.log\", "
                          "expected \"stdout\"",
                          HasSubstr("hubble-export-allowlist is \"\"")));
}

TEST(CiliumVerify, HubbleLeftAtTheChartsDefaultIsStillVerified) {
  // An upgrade leaves hubble.enabled unwritten when the release relies on the chart's
  // default: the export is checked all the same.
  json values = k_values;
  values["hubble"].erase("enabled");
  FakeKube kube;
  kube.put(res::config_maps, config_map({{"policy-audit-mode", "true"},
                                         {"enable-hubble", "false"},
                                         {"hubble-export-file-path", "stdout"}}));
  auto r = verify_config(kube, "kube-system", values);
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().details, ElementsAre("enable-hubble is \"false\", expected \"true\"",
                                             HasSubstr("hubble-export-allowlist is \"\"")));
}

TEST(CiliumVerify, AbsentAuditModeMeansEnforcing) {
  FakeKube kube;
  kube.put(res::config_maps, config_map(json::object()));
  auto r = verify_config(kube, "kube-system", {{"policyAuditMode", false}});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_THAT(*r, ElementsAre("policy-audit-mode: false (default)"));
}

TEST(CiliumVerify, MissingConfigMap) {
  FakeKube kube;
  auto r = verify_config(kube, "kube-system", k_values);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "verify ConfigMap/kube-system/cilium-config: not found");
}

json pod(const std::string& ns, const std::string& name, json spec, std::string phase = "Running",
         std::string owner = "") {
  json p = {{"metadata", {{"name", name}, {"namespace", ns}}},
            {"spec", std::move(spec)},
            {"status", {{"phase", phase}}}};
  if (!owner.empty()) {
    p["metadata"]["ownerReferences"] = json::array(
        {{{"kind", "ReplicaSet"}, {"name", owner}, {"controller", true}, {"uid", "u"}}});
  }
  return p;
}

TEST(CiliumUnmanaged, RunningPodsWithoutEndpoint) {
  FakeKube kube;
  const json on_node = {{"nodeName", "n1"}};
  kube.put(res::pods, pod("shop", "web-1", on_node, "Running", "web-7d9f"));
  kube.put(res::pods, pod("shop", "db-0", on_node)); // bare pod
  kube.put(res::pods, pod("shop", "managed", on_node, "Running", "web-7d9f"));
  kube.put(res::pods, pod("shop", "pending", json::object(), "Pending", "web-7d9f"));
  kube.put(res::pods, pod("shop", "done", on_node, "Succeeded"));
  kube.put(res::pods,
           pod("kube-system", "cilium-abc", {{"nodeName", "n1"}, {"hostNetwork", true}}));
  kube.put(res::cilium_endpoints, {{"metadata", {{"name", "managed"}, {"namespace", "shop"}}}});

  auto r = unmanaged_pods(kube);
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].name, "db-0");
  EXPECT_EQ((*r)[0].owner, "");
  EXPECT_EQ((*r)[1].name, "web-1");
  EXPECT_EQ((*r)[1].owner, "ReplicaSet/web-7d9f");
  EXPECT_THAT(restart_commands(*r),
              ElementsAre("kubectl -n shop delete pod db-0   # bare pod: recreate it yourself",
                          "kubectl -n shop delete pod web-1"));

  auto outcomes = restart_pods(kube, *r);
  ASSERT_EQ(outcomes.size(), 2u);
  EXPECT_FALSE(outcomes[0].restarted);
  EXPECT_THAT(outcomes[0].message, HasSubstr("no controller"));
  EXPECT_TRUE(outcomes[1].restarted);
  EXPECT_THAT(kube.removed, ElementsAre(FakeKube::Key{"pods", "shop", "web-1"}));
}

} // namespace
} // namespace netpol::cilium
