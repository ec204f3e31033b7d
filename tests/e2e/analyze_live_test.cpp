// `netpol analyze --live` against the real kube-apiserver: pods, namespaces and policies in
// force are listed from the cluster; planned policies overlay them; --diff compares.
#include <filesystem>
#include <fstream>
#include <set>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/run_cli.hpp"
#include "support/test_cluster.hpp"

namespace netpol::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

json pod(const std::string& ns, const std::string& name) {
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata", {{"name", name}, {"namespace", ns}, {"labels", {{"app", name}}}}},
          {"spec",
           {{"containers",
             {{{"name", "main"},
               {"image", "registry.invalid/app"},
               {"ports", {{{"containerPort", 8080}, {"name", "http"}}}}}}}}}};
}

std::set<std::pair<std::string, std::string>> pairs_in(const json& list, const std::string& ns) {
  std::set<std::pair<std::string, std::string>> out;
  for (const auto& p : list) {
    const std::string from = p["from"], to = p["to"];
    if (from.rfind(ns + "/", 0) == 0 && to.rfind(ns + "/", 0) == 0) out.emplace(from, to);
  }
  return out;
}

TEST(AnalyzeLive, ReadsTheClusterAndDiffsPlannedPoliciesAgainstThePoliciesInForce) {
  NETPOL_REQUIRE_TEST_CLUSTER(cluster);
  auto api = cluster->admin();
  const auto ns = cluster->create_namespace("analyze");
  create_running_pod(*api, pod(ns, "web"), "10.96.7.1");
  create_running_pod(*api, pod(ns, "db"), "10.96.7.2");
  if (HasFatalFailure()) return;
  // In force: db accepts nothing.
  auto in_force = json::parse(R"({"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy",
      "metadata":{"name":"db"},
      "spec":{"podSelector":{"matchLabels":{"app":"db"}},"policyTypes":["Ingress"]}})");
  in_force["metadata"]["namespace"] = ns;
  ASSERT_TRUE(api->create(in_force).has_value());

  const fs::path dir = fs::temp_directory_path() / ("netpol-e2e-analyze-" + ns);
  fs::create_directories(dir);
  // Planned: the same policy, now letting web in on the named port.
  std::ofstream(dir / "planned.yaml") << "apiVersion: networking.k8s.io/v1\n"
                                         "kind: NetworkPolicy\n"
                                         "metadata: {name: db}\n"
                                         "spec:\n"
                                         "  podSelector: {matchLabels: {app: db}}\n"
                                         "  ingress:\n"
                                         "  - from: [{podSelector: {matchLabels: {app: web}}}]\n"
                                         "    ports: [{port: http}]\n";
  const std::vector<std::string> common = {"--kubeconfig", cluster->kubeconfig,
                                           "-n",           ns,
                                           "--output-dir", (dir / "out").string(),
                                           "--format",     "json",
                                           "analyze",      "--live",
                                           "--port",       "8080"};

  auto live = run_cli(common);
  ASSERT_EQ(live.exit_code, 0) << live.err;
  const auto now = json::parse(live.out);
  EXPECT_THAT(now["pods"], ::testing::Contains(ns + "/web"));
  const auto allowed_now = pairs_in(now["allowed"], ns);
  EXPECT_FALSE(allowed_now.count({ns + "/web", ns + "/db"}));
  EXPECT_TRUE(allowed_now.count({ns + "/db", ns + "/web"}));

  auto args = common;
  args.insert(args.end(), {"--policies", (dir / "planned.yaml").string(), "--diff"});
  auto diff = run_cli(args);
  ASSERT_EQ(diff.exit_code, 0) << diff.err;
  const auto changes = json::parse(diff.out);
  EXPECT_EQ(pairs_in(changes["newly_allowed"], ns),
            (std::set<std::pair<std::string, std::string>>{{ns + "/web", ns + "/db"}}));
  EXPECT_TRUE(pairs_in(changes["newly_denied"], ns).empty());
  fs::remove_all(dir);
}

TEST(AnalyzeLive, AUserWithoutRightsGetsTheApiError) {
  NETPOL_REQUIRE_TEST_CLUSTER(cluster);
  const fs::path dir = fs::temp_directory_path() / "netpol-e2e-analyze-nobody";
  fs::create_directories(dir);
  const auto kc =
      cluster->write_kubeconfig((dir / "kc").string(), "token: " + cluster->nobody_token);
  auto r = run_cli({"--kubeconfig", kc, "--output-dir", (dir / "out").string(), "analyze", "--live",
                    "--port", "80"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, ::testing::HasSubstr("forbidden"));
  EXPECT_THAT(r.err, ::testing::Not(::testing::HasSubstr(cluster->nobody_token)));
  fs::remove_all(dir);
}

} // namespace
} // namespace netpol::test
