// The evidence-backed change preview against the real kube-apiserver (SPEC §11): a plan whose
// change newly denies one connection seen in traffic and others never seen says which is
// which in every view, and --fail-on-breaking stops apply before anything is written.
#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/run_cli.hpp"
#include "support/test_cluster.hpp"

namespace netpol::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using ::testing::HasSubstr;

std::string read_file(const fs::path& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

json pod(const std::string& ns, const std::string& name, json labels) {
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata", {{"name", name}, {"namespace", ns}, {"labels", labels}}},
          {"spec", {{"containers", {{{"name", "main"}, {"image", "registry.invalid/app"}}}}}}};
}

// One Hubble exporter line: `from_pod` opened a connection to `to_pod`:port (FORWARDED).
std::string exporter_line(const std::string& ns, const std::string& from_pod,
                          const std::string& from_app, const std::string& to_pod,
                          const std::string& to_app, int port, const std::string& time) {
  json flow = {
      {"time", time},
      {"verdict", "FORWARDED"},
      {"IP", {{"source", "10.244.0.9"}, {"destination", "10.244.0.2"}, {"ipVersion", "IPv4"}}},
      {"l4", {{"TCP", {{"source_port", 40112}, {"destination_port", port}}}}},
      {"source",
       {{"namespace", ns},
        {"pod_name", from_pod},
        {"labels", {"k8s:app=" + from_app, "k8s:io.kubernetes.pod.namespace=" + ns}}}},
      {"destination",
       {{"namespace", ns},
        {"pod_name", to_pod},
        {"labels", {"k8s:app=" + to_app, "k8s:io.kubernetes.pod.namespace=" + ns}}}},
      {"Type", "L3_L4"},
      {"traffic_direction", "INGRESS"}};
  return json{{"flow", flow}, {"node_name", "node-1"}, {"time", time}}.dump() + "\n";
}

TEST(ChangePreview, TheObservedConnectionTheChangeDeniesComesFirstAndFailOnBreakingStopsApply) {
  NETPOL_REQUIRE_TEST_CLUSTER(cluster);
  auto api = cluster->admin();
  const auto ns = cluster->create_namespace("preview");
  create_running_pod(
      *api, pod(ns, "api-6d4cf56db6-x2k9p", {{"app", "api"}, {"pod-template-hash", "6d4cf56db6"}}),
      "10.244.0.9");
  create_running_pod(
      *api, pod(ns, "db-0", {{"app", "db"}, {"statefulset.kubernetes.io/pod-name", "db-0"}}),
      "10.244.0.2");
  create_running_pod(
      *api, pod(ns, "web-5f7b9c8d4-abcde", {{"app", "web"}, {"pod-template-hash", "5f7b9c8d4"}}),
      "10.244.0.3");

  const fs::path dir = fs::temp_directory_path() / ("netpol-e2e-" + ns);
  fs::create_directories(dir / "policies");
  // The change: db accepts only web, on 5432.
  std::ofstream(dir / "policies" / "db.yaml")
      << "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: db}\n"
         "spec:\n  podSelector: {matchLabels: {app: db}}\n  policyTypes: [Ingress]\n"
         "  ingress:\n  - from: [{podSelector: {matchLabels: {app: web}}}]\n"
         "    ports: [{port: 5432}]\n";
  // Seen: api -> db:5432 three times, from a pod of api's earlier ReplicaSet; web -> db:5432,
  // which stays allowed.
  std::ofstream(dir / "flows.jsonl")
      << exporter_line(ns, "api-7c9d8b7f6-old11", "api", "db-0", "db", 5432, "2026-12-01T09:00:00Z")
      << exporter_line(ns, "api-7c9d8b7f6-old11", "api", "db-0", "db", 5432, "2026-12-01T10:00:00Z")
      << exporter_line(ns, "api-6d4cf56db6-x2k9p", "api", "db-0", "db", 5432,
                       "2026-12-02T08:30:00Z")
      << exporter_line(ns, "web-5f7b9c8d4-abcde", "web", "db-0", "db", 5432,
                       "2026-12-01T09:30:00Z");

  const MapEnvironment env{{"CI_PROJECT_ID", "7"}, {"CI_ENVIRONMENT_SLUG", "review"}};
  const auto args = [&](const std::string& verb, std::vector<std::string> extra) {
    std::vector<std::string> all = {"--kubeconfig",
                                    cluster->kubeconfig,
                                    "-n",
                                    ns,
                                    "--output-dir",
                                    (dir / verb).string(),
                                    verb,
                                    "--policies",
                                    (dir / "policies").string()};
    all.insert(all.end(), extra.begin(), extra.end());
    return all;
  };

  auto plan = run_cli(args("plan", {"--flows", (dir / "flows.jsonl").string()}), env);
  ASSERT_EQ(plan.exit_code, 0) << plan.err << plan.out;
  const std::string will_break = "will break: " + ns + "/api -> " + ns +
                                 "/db TCP/5432 (seen 3 times between 2026-12-01T09:00:00Z and "
                                 "2026-12-02T08:30:00Z; isolated by NetworkPolicy/" +
                                 ns + "/db)";
  EXPECT_THAT(plan.out, HasSubstr(will_break));
  EXPECT_THAT(plan.out, HasSubstr("; 1 seen in traffic will break (connectivity.txt)"));

  const auto connectivity = read_file(dir / "plan" / "connectivity.txt");
  const auto seen = connectivity.find(" will break (newly denied, seen in traffic):\n  " + ns +
                                      "/api -> " + ns + "/db (1 pod pair): seen 3 times");
  // Other tests' pods and policies share the cluster: in the TCP/5432 section, the unobserved
  // ones follow the observed one, in name order, ours among them.
  const auto unseen_header = connectivity.find(" newly denied, never seen in traffic:\n", seen);
  const auto unseen =
      connectivity.find("  " + ns + "/db -> " + ns + "/db (1 pod pair)\n", unseen_header);
  ASSERT_NE(seen, std::string::npos) << connectivity;
  ASSERT_NE(unseen_header, std::string::npos) << connectivity;
  ASSERT_NE(unseen, std::string::npos) << connectivity;
  EXPECT_LT(seen, unseen_header);

  const auto plan_json = json::parse(read_file(dir / "plan" / "plan.json"));
  const auto& change = plan_json["connectivity"];
  EXPECT_EQ(change["verified"], true);
  ASSERT_EQ(change["will_break"].size(), 1u) << change.dump();
  EXPECT_EQ(change["will_break"][0]["from"], ns + "/api");
  EXPECT_EQ(change["will_break"][0]["to"], ns + "/db");
  EXPECT_EQ(change["will_break"][0]["port"], 5432);
  EXPECT_EQ(change["will_break"][0]["observed"], 3);
  EXPECT_EQ(change["will_break"][0]["isolated_by"], json::array({"NetworkPolicy/" + ns + "/db"}));

  // Code Quality: the connection sits on the podSelector line of the policy that cuts it.
  const auto quality = json::parse(read_file(dir / "plan" / "gl-code-quality-report.json"));
  const json* breaks = nullptr;
  for (const auto& issue : quality)
    if (issue["check_name"] == "netpol/will-break") breaks = &issue;
  ASSERT_NE(breaks, nullptr) << quality.dump(2);
  EXPECT_THAT((*breaks)["location"]["path"].get<std::string>(), ::testing::EndsWith("db.yaml"));
  EXPECT_EQ((*breaks)["location"]["lines"]["begin"], 5);
  EXPECT_EQ((*breaks)["severity"], "major");
  EXPECT_THAT((*breaks)["description"].get<std::string>(),
              HasSubstr("will break " + ns + "/api -> " + ns + "/db TCP/5432, seen 3 times"));

  const auto junit = read_file(dir / "plan" / "junit-plan.xml");
  EXPECT_THAT(junit, HasSubstr("classname=\"netpol.analyze.breaking\" name=\"" + ns +
                               "/api -&gt; " + ns + "/db TCP/5432\""));
  EXPECT_THAT(junit, HasSubstr("never seen: " + ns + "/db -&gt; " + ns + "/db (1 pod pair)"));

  const auto diff = json::parse(read_file(dir / "plan" / "connectivity.json"));
  bool observed_pair = false;
  for (const auto& port : diff) {
    for (const auto& pair : port["newly_denied"]) {
      ASSERT_TRUE(pair.contains("observed")) << pair;
      if (port["port"] == 5432 && pair["from"] == ns + "/api-6d4cf56db6-x2k9p") {
        EXPECT_EQ(pair["observed"], 3);
        observed_pair = true;
      }
    }
    EXPECT_EQ(port["evidence"]["flows_read"], 4);
  }
  EXPECT_TRUE(observed_pair) << diff.dump();

  // Without evidence the same plan says it is unverified.
  auto unverified = run_cli(args("plan", {}), env);
  ASSERT_EQ(unverified.exit_code, 0) << unverified.err;
  EXPECT_THAT(unverified.out, HasSubstr("unverified: no flow evidence given (--flows)"));

  // --fail-on-breaking: exit 4 before the first write; the reports say why.
  auto refused = run_cli(args("apply", {"--mode", "enforce", "--flows",
                                        (dir / "flows.jsonl").string(), "--fail-on-breaking"}),
                         env);
  EXPECT_EQ(refused.exit_code, 4) << refused.err << refused.out;
  EXPECT_THAT(refused.err, HasSubstr("the change newly denies 1 connection seen in traffic: " + ns +
                                     "/api -> " + ns + "/db TCP/5432"));
  EXPECT_THAT(refused.err, HasSubstr("nothing was applied (NETWORK_POLICY_FAIL_ON_BREAKING)"));
  auto policies = api->list(kube::resources::network_policies, ns);
  ASSERT_TRUE(policies.has_value());
  EXPECT_TRUE(policies->empty()) << "nothing may be applied";
  EXPECT_THAT(read_file(dir / "apply" / "junit-apply.xml"), HasSubstr("will break: seen 3 times"));

  // A bad evidence file is a usage error before the cluster is touched.
  auto bad = run_cli(args("plan", {"--flows", (dir / "missing.jsonl").string()}), env);
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
  EXPECT_THAT(bad.err, HasSubstr("missing.jsonl"));
  fs::remove_all(dir);
}

} // namespace
} // namespace netpol::test
