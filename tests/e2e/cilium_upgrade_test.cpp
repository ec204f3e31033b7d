// An upgrade of a Cilium an operator set up, with the real chart 1.20.0, the real helm (3 and
// 4) and the real kube-apiserver: the operator installed release `cilium` with native
// routing, cluster-pool IPAM, a native-routing CIDR, the bandwidth manager and a key netpol
// knows nothing about; `netpol install-cilium` must keep every one of them, add only the
// Hubble export, show that as a values diff, and restart the agents only when cilium-config
// changes.
//
// The 1.20 test server takes the real chart with the adjustments TEST-CLUSTER.md lists, none
// of which changes what netpol reads: the chart's kubeVersion relaxed in a copy, helm given
// --disable-openapi-validation (a wrapper script: the chart's Services set
// internalTrafficPolicy, unknown to 1.20), Hubble Relay off (its gRPC probes), and the
// secretsNamespace namespaces not created; and with helm 4 the operator's install is
// client-side (server-side apply of this chart fails on 1.20). No controllers run, so the test
// plays them (as the other install tests do) and creates the CRDs the Cilium operator would
// register.
#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <unistd.h>

#include <fmt/format.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cilium/values.hpp"
#include "support/paths.hpp"
#include "support/real_charts.hpp"
#include "support/temp_dir.hpp"
#include "support/test_cluster.hpp"
#include "util/process.hpp"
#include "util/yaml.hpp"

namespace netpol::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

std::string slurp(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// What the operator gave the release, less the test server's adjustments.
json operator_values() {
  return json::parse(R"({
    "routingMode": "native",
    "ipv4NativeRoutingCIDR": "10.244.0.0/16",
    "autoDirectNodeRoutes": true,
    "ipam": {"mode": "cluster-pool",
             "operator": {"clusterPoolIPv4PodCIDRList": ["10.244.0.0/16"],
                          "clusterPoolIPv4MaskSize": 26}},
    "bandwidthManager": {"enabled": true},
    "cluster": {"name": "prod-eu-1"}
  })");
}

json test_server_adjustments() {
  return json::parse(R"({
    "hubble": {"relay": {"enabled": false}},
    "tls": {"secretsNamespace": {"create": false, "name": "kube-system"}},
    "envoyConfig": {"secretsNamespace": {"create": false, "name": "kube-system"}},
    "ingressController": {"secretsNamespace": {"create": false, "name": "kube-system"}},
    "gatewayAPI": {"secretsNamespace": {"create": false, "name": "kube-system"}}
  })");
}

// Every leaf of `before` is in `after` with the same value.
void expect_kept(const json& before, const json& after, const std::string& path = "") {
  if (before.is_object()) {
    for (auto it = before.begin(); it != before.end(); ++it) {
      ASSERT_TRUE(after.is_object() && after.contains(it.key())) << path << "/" << it.key();
      expect_kept(it.value(), after[it.key()], path + "/" + it.key());
    }
    return;
  }
  EXPECT_EQ(before, after) << path;
}

// The chart's cluster-scoped objects (ClusterRole cilium, ...) have fixed names, so one
// release of it exists at a time: helm 3 and helm 4 run one after the other in one test, each
// uninstalling its release at the end.
class CiliumUpgrade : public ::testing::Test {
protected:
  void SetUp() override {
    m_cluster = TestCluster::find();
    if (m_cluster == nullptr) NETPOL_SKIP_OR_FAIL("NETPOL_TEST_CLUSTER_DIR is not set");
    const auto charts = pinned_charts();
    ASSERT_FALSE(charts.empty());
    m_chart = charts.back(); // 1.20.0, the image's chart
    NETPOL_REQUIRE_TOOL(check_chart(m_chart));
    m_api = m_cluster->admin();
    ASSERT_TRUE(m_api);

    // The chart, unpacked, with its kubeVersion relaxed for the 1.20 server.
    auto untar =
        run_process({"/bin/tar", "-xzf", m_chart.path.string(), "-C", m_dir.path().string()});
    ASSERT_TRUE(untar && untar->exit_code == 0) << (untar ? untar->err : untar.error().message);
    m_chart_dir = m_dir.path() / "cilium";
    std::string chart_yaml = slurp(m_chart_dir / "Chart.yaml");
    const auto at = chart_yaml.find("kubeVersion: '>= 1.21.0-0'");
    ASSERT_NE(at, std::string::npos);
    chart_yaml.replace(at, std::string("kubeVersion: '>= 1.21.0-0'").size(),
                       "kubeVersion: '>= 1.20.0-0'");
    std::ofstream(m_chart_dir / "Chart.yaml") << chart_yaml;
    create_cilium_crds();
  }

  // helm `major` and a fresh namespace for one run of the scenario.
  void use_helm(int major) {
    std::string why;
    auto helm = real_helm(major, &why);
    NETPOL_REQUIRE_TOOL(helm ? std::string() : why);
    m_major = major;
    m_helm = *helm;
    m_ns = m_cluster->create_namespace(fmt::format("cilium-upgrade-helm{}", major));
    m_wrapper = m_dir.write(
        fmt::format("helm{}", major),
        fmt::format("#!/bin/sh\n"
                    "# The 1.20 test server does not know Service.internalTrafficPolicy.\n"
                    "case \"$1\" in install|upgrade) exec '{}' \"$@\" "
                    "--disable-openapi-validation ;; esac\n"
                    "exec '{}' \"$@\"\n",
                    m_helm, m_helm),
        fs::perms::owner_all);
    start_controllers();
  }

  void finish() {
    stop_controllers();
    auto removed = helm({"uninstall", "cilium"});
    EXPECT_EQ(removed.exit_code, 0) << removed.err;
  }

  void TearDown() override { stop_controllers(); }
  void stop_controllers() {
    m_stop = true;
    if (m_controller.joinable()) m_controller.join();
  }

  // What the Cilium operator registers at start (no operator runs here).
  void create_cilium_crds() {
    for (const char* file : {"ciliumnetworkpolicies.yaml", "ciliumclusterwidenetworkpolicies.yaml",
                             "ciliumendpoints.yaml"}) {
      auto docs = load_yaml_file((source_dir() / "charts/cilium-test/crds" / file).string());
      ASSERT_TRUE(docs) << docs.error().message;
      for (const auto& d : *docs) {
        if (!d.value.is_object()) continue;
        auto made = m_api->create(d.value);
        ASSERT_TRUE(made || kube::is_conflict(made.error())) << made.error().message;
      }
    }
  }

  // Plays the DaemonSet and Deployment controllers: each new generation rolls out at once.
  void start_controllers() {
    m_stop = false;
    m_controller = std::thread([this] {
      while (!m_stop) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        for (const char* ds : {"cilium", "cilium-envoy"})
          play(kube::resources::daemon_sets, ds);
        play(kube::resources::deployments, "cilium-operator");
      }
    });
  }
  void play(const kube::ResourceInfo& resource, const std::string& name) {
    auto object = m_api->get(resource, m_ns, name);
    if (!object) return;
    const int64_t generation = (*object)["metadata"].value("generation", 1);
    if (object->value("status", json::object()).value("observedGeneration", int64_t{0}) >=
        generation) {
      return;
    }
    if (resource.kind == "DaemonSet") {
      (*object)["status"] = {{"observedGeneration", generation},
                             {"currentNumberScheduled", 1},
                             {"desiredNumberScheduled", 1},
                             {"numberMisscheduled", 0},
                             {"numberReady", 1},
                             {"numberAvailable", 1},
                             {"updatedNumberScheduled", 1}};
    } else {
      const int64_t replicas = (*object)["spec"].value("replicas", 1);
      (*object)["status"] = {{"observedGeneration", generation},
                             {"replicas", replicas},
                             {"readyReplicas", replicas},
                             {"availableReplicas", replicas},
                             {"updatedReplicas", replicas}};
    }
    (*object)["apiVersion"] = "apps/v1";
    (*object)["kind"] = resource.kind;
    m_api->replace_status(*object);
  }

  ProcessResult helm(std::vector<std::string> args) {
    args.insert(args.begin(), m_wrapper);
    args.insert(args.end(), {"--namespace", m_ns, "--kubeconfig", m_cluster->kubeconfig});
    auto r = run_process(args);
    EXPECT_TRUE(r) << r.error().message;
    return r ? *r : ProcessResult{};
  }

  // `netpol [globals] install-cilium ... [args]` into this test's namespace. --force: other
  // tests seed providers into the shared cluster (refusals are unit-tested).
  ProcessResult netpol(std::vector<std::string> globals, std::vector<std::string> args = {},
                       std::map<std::string, std::string> env = {}) {
    std::vector<std::string> argv = {netpol_binary().string(), "--kubeconfig",
                                     m_cluster->kubeconfig, "--output-dir",
                                     (m_dir.path() / "out").string()};
    argv.insert(argv.end(), globals.begin(), globals.end());
    argv.insert(argv.end(), {"install-cilium", "--cilium-namespace", m_ns, "--chart",
                             m_chart_dir.string(), "--timeout", "60s", "--force"});
    argv.insert(argv.end(), args.begin(), args.end());
    ProcessOptions options;
    options.env = std::move(env);
    if (!options.env.count("NETPOL_HELM")) options.env["NETPOL_HELM"] = m_wrapper;
    options.env["NO_COLOR"] = "1";
    options.timeout = std::chrono::minutes(3);
    auto r = run_process(argv, options);
    EXPECT_TRUE(r) << r.error().message;
    return r ? *r : ProcessResult{};
  }

  json release_values() {
    auto r = helm({"get", "values", "cilium", "--output", "json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.exit_code == 0 ? json::parse(r.out) : json();
  }
  int release_revision() {
    auto r = helm({"get", "metadata", "cilium", "--output", "json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.exit_code == 0 ? json::parse(r.out).value("revision", 0) : 0;
  }
  int64_t agent_generation() {
    auto ds = m_api->get(kube::resources::daemon_sets, m_ns, "cilium");
    EXPECT_TRUE(ds) << ds.error().message;
    return ds ? (*ds)["metadata"].value("generation", int64_t{0}) : 0;
  }
  json config() {
    auto cm = m_api->get(kube::resources::config_maps, m_ns, "cilium-config");
    EXPECT_TRUE(cm) << cm.error().message;
    return cm ? (*cm)["data"] : json::object();
  }

  const TestCluster* m_cluster = nullptr;
  RealChart m_chart;
  int m_major = 3;
  std::string m_helm;
  std::unique_ptr<kube::KubeApi> m_api;
  std::string m_ns;
  TempDir m_dir;
  fs::path m_chart_dir;
  std::string m_wrapper;
  std::thread m_controller;
  std::atomic<bool> m_stop{false};
  void keeps_the_operators_values(int major);
};

TEST_F(CiliumUpgrade, KeepsTheOperatorsValuesAndRollsAgentsOnlyForAChange) {
  for (int major : {3, 4}) {
    SCOPED_TRACE(fmt::format("helm {}", major));
    const auto started = std::chrono::steady_clock::now();
    keeps_the_operators_values(major);
    RecordProperty(fmt::format("helm{}.seconds", major),
                   static_cast<int>(std::chrono::duration_cast<std::chrono::seconds>(
                                        std::chrono::steady_clock::now() - started)
                                        .count()));
    if (HasFatalFailure() || IsSkipped()) return;
  }
}

void CiliumUpgrade::keeps_the_operators_values(int major) {
  use_helm(major);
  if (HasFatalFailure() || IsSkipped()) return;
  struct Finish {
    CiliumUpgrade* self;
    ~Finish() { self->finish(); }
  } finish_at_exit{this};
  // The operator's own install, as they would run it.
  const json given = cilium::merge_values(operator_values(), test_server_adjustments());
  const auto values_file = m_dir.write("operator-values.yaml", to_yaml(given));
  std::vector<std::string> install = {"install", "cilium", m_chart_dir.string(), "--values",
                                      values_file};
  // helm 4 installs server-side by default, which the 1.20 server refuses for this chart
  // (fields it does not know, "field not declared in schema"); netpol's upgrade asks for
  // client-side apply on helm 4 anyway.
  if (m_major >= 4) install.push_back("--server-side=false");
  auto installed = helm(install);
  ASSERT_EQ(installed.exit_code, 0) << installed.err;
  ASSERT_EQ(config().value("routing-mode", ""), "native");
  const auto generation_before = agent_generation();

  // --dry-run shows the change and changes nothing.
  auto dry = netpol({"--format", "json"}, {"--dry-run"});
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  const json plan = json::parse(dry.out);
  EXPECT_EQ(plan["upgrade"], true);
  EXPECT_EQ(plan["helm_major"], m_major);
  if (m_major >= 4) {
    EXPECT_THAT(plan["helm_command"].dump(), HasSubstr("--server-side=false"));
  }
  EXPECT_EQ(plan["previous_values"], given);
  // hubble.enabled is the chart's default (true): not written, so not a change.
  EXPECT_EQ(plan["changes"], json::parse(R"([
    "+ hubble.export.static.allowList: [\"{\\\"verdict\\\":[\\\"DROPPED\\\",\\\"AUDIT\\\"]}\"]",
    "+ hubble.export.static.enabled: true",
    "+ hubble.export.static.filePath: \"stdout\"",
    "+ rollOutCiliumPods: true"])"));
  const std::string diff = plan["values_diff"];
  EXPECT_THAT(diff, HasSubstr("+      filePath: stdout\n"));
  EXPECT_THAT(diff, Not(HasSubstr("-routingMode")));
  EXPECT_THAT(diff, Not(HasSubstr("-ipam")));
  EXPECT_EQ(plan["agents_restart"], true);
  EXPECT_EQ(release_revision(), 1);
  EXPECT_EQ(agent_generation(), generation_before);

  // The upgrade.
  auto upgraded = netpol({});
  ASSERT_EQ(upgraded.exit_code, 0) << upgraded.err;
  EXPECT_THAT(upgraded.out, HasSubstr("Cilium upgraded as release " + m_ns + "/cilium"));
  EXPECT_THAT(upgraded.out, HasSubstr("kept from the release: native, IPAM cluster-pool"));
  // The job log showed the diff before helm ran.
  const auto diff_at = upgraded.err.find("+      filePath: stdout");
  const auto helm_at = upgraded.err.find("Upgrading Cilium with Helm");
  EXPECT_NE(diff_at, std::string::npos) << upgraded.err;
  EXPECT_LT(diff_at, helm_at);
  EXPECT_EQ(slurp(m_dir.path() / "out/cilium-values.diff"), diff);

  const json after = release_values();
  expect_kept(given, after);
  EXPECT_EQ(after["hubble"]["export"]["static"]["filePath"], "stdout");
  EXPECT_FALSE(after["hubble"].contains("enabled"));
  const json data = config();
  EXPECT_EQ(data.value("enable-hubble", ""), "true"); // the chart's default
  EXPECT_EQ(data.value("routing-mode", ""), "native");
  EXPECT_EQ(data.value("ipam", ""), "cluster-pool");
  EXPECT_EQ(data.value("ipv4-native-routing-cidr", ""), "10.244.0.0/16");
  EXPECT_EQ(data.value("cluster-pool-ipv4-cidr", ""), "10.244.0.0/16");
  EXPECT_EQ(data.value("cluster-pool-ipv4-mask-size", ""), "26");
  EXPECT_EQ(data.value("enable-bandwidth-manager", ""), "true");
  EXPECT_EQ(data.value("auto-direct-node-routes", ""), "true");
  EXPECT_EQ(data.value("cluster-name", ""), "prod-eu-1");
  EXPECT_EQ(data.value("hubble-export-file-path", ""), "stdout");
  EXPECT_EQ(data.value("hubble-export-allowlist", ""), R"({"verdict":["DROPPED","AUDIT"]})");
  EXPECT_FALSE(data.contains("policy-audit-mode")); // the operator set none; still none
  EXPECT_EQ(release_revision(), 2);
  const auto generation_upgraded = agent_generation();
  EXPECT_GT(generation_upgraded, generation_before); // cilium-config changed: agents roll

  // Again: the release exports drops to stdout and leaves hubble.enabled to the chart's
  // default; nothing to change, helm is not run, the agents keep running.
  auto again = netpol({});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_THAT(again.out, HasSubstr("Cilium unchanged"));
  EXPECT_THAT(again.out, HasSubstr("changes:           none"));
  EXPECT_EQ(release_revision(), 2);
  EXPECT_EQ(agent_generation(), generation_upgraded);
  EXPECT_EQ(slurp(m_dir.path() / "out/cilium-values.diff"), "");

  // Audit mode asked for: that key changes, nothing else, and the agents roll for it.
  auto audit = netpol({}, {}, {{"CILIUM_AUDIT_MODE", "true"}});
  ASSERT_EQ(audit.exit_code, 0) << audit.err;
  EXPECT_EQ(config().value("policy-audit-mode", ""), "true");
  EXPECT_EQ(config().value("routing-mode", ""), "native");
  expect_kept(given, release_values());
  EXPECT_GT(agent_generation(), generation_upgraded);
  const auto audit_diff = slurp(m_dir.path() / "out/cilium-values.diff");
  std::vector<std::string> changed;
  std::istringstream lines(audit_diff);
  for (std::string line; std::getline(lines, line);) {
    if ((line[0] == '+' || line[0] == '-') && line.rfind("+++", 0) != 0 &&
        line.rfind("---", 0) != 0) {
      changed.push_back(line);
    }
  }
  EXPECT_EQ(changed, std::vector<std::string>{"+policyAuditMode: true"}) << audit_diff;

  // A failing upgrade is rolled back: helm without the test server's adjustment fails on
  // the Services' internalTrafficPolicy, and netpol returns the release to what it was.
  const int good = release_revision();
  auto failing = netpol({}, {}, {{"CILIUM_AUDIT_MODE", "false"}, {"NETPOL_HELM", m_helm}});
  EXPECT_EQ(failing.exit_code, 1) << failing.err;
  EXPECT_THAT(failing.err, HasSubstr("netpol: error: helm upgrade --install " + m_ns + "/cilium"));
  EXPECT_THAT(failing.err,
              HasSubstr(fmt::format("netpol rolled the release back to revision {}.", good)));
  auto metadata = helm({"get", "metadata", "cilium", "--output", "json"});
  ASSERT_EQ(metadata.exit_code, 0) << metadata.err;
  EXPECT_EQ(json::parse(metadata.out).value("status", ""), "deployed");
  EXPECT_EQ(config().value("policy-audit-mode", ""), "true");
  expect_kept(given, release_values());
}

} // namespace
} // namespace netpol::test
