// `netpol install-cilium` end to end: the built binary, the real helm 3.17.2 and the real
// kube-apiserver, installing charts/cilium-test. No controllers run in the test cluster, so
// the test plays them: it writes the DaemonSet and Deployment status once helm has created
// them (or never, or with a crash-looping agent pod).
//
// Every test installs into its own namespace (--cilium-namespace): namespaces cannot be
// deleted in the test cluster, and other tests may seed Cilium-looking objects, which is also
// why --force is given (refusals are covered by the unit tests).
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

#include "kube/client.hpp"
#include "kube/kubeconfig.hpp"
#include "support/paths.hpp"
#include "support/real_charts.hpp"
#include "support/test_cluster.hpp"
#include "support/tls.hpp"
#include "util/process.hpp"

namespace netpol {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

std::string read_file(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::map<std::string, std::string> cluster_env() {
  std::map<std::string, std::string> out;
  const char* dir = std::getenv("NETPOL_TEST_CLUSTER_DIR");
  if (dir == nullptr) return out;
  std::istringstream in(read_file(fs::path(dir) / "cluster.env"));
  for (std::string line; std::getline(in, line);) {
    const auto eq = line.find('=');
    if (eq != std::string::npos) out[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return out;
}

// The helm the project's scripts provide (cached after the first run).
std::optional<std::string> test_helm() {
  static const std::optional<std::string> k_helm = []() -> std::optional<std::string> {
    auto r = run_process(
        {"/bin/bash", (test::source_dir() / "scripts/test-cluster/get-helm.sh").string()});
    if (!r || r->exit_code != 0) return std::nullopt;
    std::string out = r->out;
    while (!out.empty() && out.back() == '\n')
      out.pop_back();
    const auto nl = out.rfind('\n');
    return nl == std::string::npos ? out : out.substr(nl + 1);
  }();
  return k_helm;
}

class CiliumInstall : public ::testing::Test {
protected:
  void SetUp() override {
    auto env = cluster_env();
    if (env.count("NETPOL_TEST_KUBECONFIG") == 0) NETPOL_SKIP_OR_FAIL("no test cluster");
    m_kubeconfig = env["NETPOL_TEST_KUBECONFIG"];
    auto helm = test_helm();
    NETPOL_REQUIRE_TOOL(helm ? std::string()
                             : "helm could not be obtained (scripts/test-cluster/get-helm.sh)");
    m_helm = *helm;

    kube::LoadOptions load;
    load.paths = {m_kubeconfig};
    load.explicit_paths = true;
    auto config = kube::load_client_config(load);
    ASSERT_TRUE(config) << config.error().message;
    auto api = kube::connect(*config);
    ASSERT_TRUE(api) << api.error().message;
    m_api = std::move(*api);

    static std::atomic<int> counter{0};
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    m_ns = fmt::format("cilium-e2e-{}-{}-{}", ::getpid(), counter++,
                       std::string(info->name()).substr(0, 20));
    std::transform(m_ns.begin(), m_ns.end(), m_ns.begin(), ::tolower);
    m_out = fs::path(::testing::TempDir()) / ("netpol-" + m_ns);
    fs::remove_all(m_out);
  }

  void TearDown() override { stop_controllers(); }

  // Runs `netpol install-cilium` with the test chart into this test's namespace.
  ProcessResult install(std::vector<std::string> extra = {},
                        std::map<std::string, std::string> env = {}) {
    std::vector<std::string> argv = {test::netpol_binary().string(),
                                     "--kubeconfig",
                                     m_kubeconfig,
                                     "--output-dir",
                                     m_out.string(),
                                     "install-cilium",
                                     "--cilium-namespace",
                                     m_ns,
                                     "--force",
                                     "--test-cluster"};
    if (std::find(extra.begin(), extra.end(), "--chart") == extra.end()) {
      argv.insert(argv.end(), {"--chart", (test::source_dir() / "charts/cilium-test").string()});
    }
    argv.insert(argv.end(), extra.begin(), extra.end());
    ProcessOptions options;
    options.env = std::move(env);
    if (options.env.count("NETPOL_HELM") == 0) options.env["NETPOL_HELM"] = m_helm;
    options.env["NO_COLOR"] = "1";
    options.timeout = std::chrono::minutes(3);
    auto r = run_process(argv, options);
    EXPECT_TRUE(r) << r.error().message;
    return r ? *r : ProcessResult{};
  }

  // Plays the DaemonSet and Deployment controllers: once helm has created them, marks each
  // rollout complete after `delay` (never when `never_ready`).
  void start_controllers(std::chrono::milliseconds delay, bool never_ready = false) {
    m_stop = false;
    m_controller = std::thread([this, delay, never_ready] {
      std::map<std::string, std::chrono::steady_clock::time_point> seen;
      while (!m_stop) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        if (never_ready) continue;
        play(kube::resources::daemon_sets, "cilium", delay, seen);
        play(kube::resources::deployments, "cilium-operator", delay, seen);
        play(kube::resources::deployments, "hubble-relay", delay, seen);
      }
    });
  }
  void stop_controllers() {
    m_stop = true;
    if (m_controller.joinable()) m_controller.join();
  }

  void play(const kube::ResourceInfo& resource, const std::string& name,
            std::chrono::milliseconds delay,
            std::map<std::string, std::chrono::steady_clock::time_point>& seen) {
    auto object = m_api->get(resource, m_ns, name);
    if (!object) return;
    const int64_t generation = (*object)["metadata"].value("generation", 1);
    json status = object->value("status", json::object());
    if (status.value("observedGeneration", int64_t{0}) >= generation) return;
    const auto key = resource.resource + "/" + name + "/" + std::to_string(generation);
    const auto now = std::chrono::steady_clock::now();
    if (!seen.count(key)) seen[key] = now;
    if (now - seen[key] < delay) return;
    if (resource.kind == "DaemonSet") {
      (*object)["status"] = {{"observedGeneration", generation},
                             {"currentNumberScheduled", 2},
                             {"desiredNumberScheduled", 2},
                             {"numberMisscheduled", 0},
                             {"numberReady", 2},
                             {"numberAvailable", 2},
                             {"updatedNumberScheduled", 2}};
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
    m_api->replace_status(*object); // a conflict is retried on the next round
  }

  // A kubeconfig for a user of this test's own (a client certificate signed by the test
  // cluster's client CA) who may do anything but delete — except pods in `ns`. Cluster-wide
  // actions then cannot touch what other tests made, whatever runs beside this test.
  std::string kubeconfig_deleting_pods_only_in(const std::string& ns) {
    auto env = cluster_env();
    const test::TestCertificate ca{read_file(env["NETPOL_TEST_CLIENT_CA"]),
                                   read_file(env["NETPOL_TEST_CLIENT_CA_KEY"])};
    const std::string user = "restarter-" + m_ns;
    const auto cert = test::make_certificate(user, {}, {}, &ca);
    fs::create_directories(m_out);
    std::ofstream(m_out / "user.crt") << cert.cert_pem;
    std::ofstream(m_out / "user.key") << cert.key_pem;
    const auto* cluster = test::TestCluster::find();
    EXPECT_NE(cluster, nullptr);
    if (cluster == nullptr) return {};
    const auto kubeconfig =
        cluster->write_kubeconfig((m_out / "user.kubeconfig").string(),
                                  "client-certificate: " + (m_out / "user.crt").string() +
                                      "\nclient-key: " + (m_out / "user.key").string());
    const json subject = {
        {"kind", "User"}, {"name", user}, {"apiGroup", "rbac.authorization.k8s.io"}};
    const json rbac[] = {
        {{"apiVersion", "rbac.authorization.k8s.io/v1"},
         {"kind", "ClusterRole"},
         {"metadata", {{"name", user}}},
         {"rules",
          {{{"apiGroups", {"*"}},
            {"resources", {"*"}},
            {"verbs", {"get", "list", "watch", "create", "update", "patch"}}},
           {{"nonResourceURLs", {"*"}}, {"verbs", {"get"}}}}}},
        {{"apiVersion", "rbac.authorization.k8s.io/v1"},
         {"kind", "ClusterRoleBinding"},
         {"metadata", {{"name", user}}},
         {"roleRef",
          {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "ClusterRole"}, {"name", user}}},
         {"subjects", {subject}}},
        {{"apiVersion", "rbac.authorization.k8s.io/v1"},
         {"kind", "Role"},
         {"metadata", {{"name", "delete-pods"}, {"namespace", ns}}},
         {"rules", {{{"apiGroups", {""}}, {"resources", {"pods"}}, {"verbs", {"delete"}}}}}},
        {{"apiVersion", "rbac.authorization.k8s.io/v1"},
         {"kind", "RoleBinding"},
         {"metadata", {{"name", "delete-pods"}, {"namespace", ns}}},
         {"roleRef",
          {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "Role"}, {"name", "delete-pods"}}},
         {"subjects", {subject}}}};
    for (const auto& object : rbac) {
      auto created = m_api->create(object);
      EXPECT_TRUE(created) << created.error().message;
    }
    // The server's RBAC cache takes the new rules in shortly: wait until it answers with them.
    kube::LoadOptions load;
    load.paths = {kubeconfig};
    load.explicit_paths = true;
    auto config = kube::load_client_config(load);
    EXPECT_TRUE(config) << config.error().message;
    if (!config) return {};
    auto api = kube::connect(*config);
    EXPECT_TRUE(api) << api.error().message;
    if (!api) return {};
    for (int i = 0; i < 200; ++i) {
      auto here = (*api)->can_i({"delete", "", "pods", ns, ""});
      auto list = (*api)->can_i({"list", "", "pods", "", ""});
      auto elsewhere = (*api)->can_i({"delete", "", "pods", m_ns, ""});
      if (here && *here && list && *list && elsewhere && !*elsewhere) return kubeconfig;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ADD_FAILURE() << "the rules for " << user << " never took effect";
    return {};
  }

  std::optional<json> config_map() {
    auto cm = m_api->get(kube::resources::config_maps, m_ns, "cilium-config");
    if (!cm) return std::nullopt;
    return *cm;
  }

  std::string m_kubeconfig;
  std::string m_helm;
  std::string m_ns;
  fs::path m_out;
  std::unique_ptr<kube::KubeApi> m_api;
  std::thread m_controller;
  std::atomic<bool> m_stop{false};
};

TEST_F(CiliumInstall, InstallsWaitsVerifiesAndReports) {
  start_controllers(std::chrono::milliseconds(2500));
  auto r = install();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("Cilium installed as release " + m_ns + "/cilium"));
  EXPECT_THAT(r.out, HasSubstr("policy audit mode: on (default)"));
  // The wait saw the rollout in progress before it completed.
  EXPECT_THAT(r.err, HasSubstr("rolling out"));

  auto cm = config_map();
  ASSERT_TRUE(cm);
  EXPECT_EQ((*cm)["data"]["policy-audit-mode"], "true");
  EXPECT_EQ((*cm)["data"]["hubble-export-file-path"], "stdout");
  EXPECT_EQ((*cm)["data"]["hubble-export-allowlist"], R"({"verdict":["DROPPED","AUDIT"]})");
  EXPECT_TRUE(m_api->get(kube::resources::deployments, m_ns, "hubble-relay"));

  const auto values = read_file(m_out / "cilium-values.yaml");
  EXPECT_THAT(values, HasSubstr("policyAuditMode: true"));
  EXPECT_THAT(values, HasSubstr("filePath: stdout"));
  const auto junit = read_file(m_out / "junit-install-cilium.xml");
  EXPECT_THAT(junit, HasSubstr(R"(tests="5")"));
  EXPECT_THAT(junit, HasSubstr(R"(failures="0")"));
  EXPECT_THAT(junit, HasSubstr("Cilium is ready"));
}

TEST_F(CiliumInstall, DryRunChangesNothing) {
  auto r = install({"--dry-run"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("# dry run: nothing was changed"));
  EXPECT_THAT(r.out, HasSubstr(m_helm + " upgrade --install cilium"));
  EXPECT_THAT(r.out, HasSubstr("policyAuditMode: true"));
  EXPECT_FALSE(config_map());
  auto ds = m_api->get(kube::resources::daemon_sets, m_ns, "cilium");
  ASSERT_FALSE(ds);
  EXPECT_EQ(ds.error().http_status, 404);
  auto status =
      run_process({m_helm, "status", "cilium", "--namespace", m_ns, "--kubeconfig", m_kubeconfig});
  ASSERT_TRUE(status);
  EXPECT_THAT(status->err, HasSubstr("release: not found"));
  EXPECT_THAT(read_file(m_out / "junit-install-cilium.xml"), HasSubstr("dry run"));
}

// `netpol remove --cilium` is the way back: helm uninstalls the release netpol installed.
TEST_F(CiliumInstall, RemoveCiliumUninstallsTheRelease) {
  start_controllers(std::chrono::milliseconds(0));
  auto installed = install();
  ASSERT_EQ(installed.exit_code, 0) << installed.err;
  ASSERT_TRUE(config_map());
  auto remove = [&](std::vector<std::string> extra) {
    std::vector<std::string> argv = {test::netpol_binary().string(),
                                     "--kubeconfig",
                                     m_kubeconfig,
                                     "--output-dir",
                                     m_out.string(),
                                     "remove",
                                     "--cilium",
                                     "--cilium-namespace",
                                     m_ns};
    argv.insert(argv.end(), extra.begin(), extra.end());
    ProcessOptions options;
    options.env = {{"NETPOL_HELM", m_helm}, {"NO_COLOR", "1"}};
    auto r = run_process(argv, options);
    EXPECT_TRUE(r) << r.error().message;
    return r ? *r : ProcessResult{};
  };
  auto dry = remove({"--dry-run"});
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_THAT(dry.out, HasSubstr("would uninstall the Cilium release " + m_ns + "/cilium"));
  EXPECT_TRUE(config_map());

  auto r = remove({});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("uninstalled the Cilium release " + m_ns + "/cilium"));
  EXPECT_THAT(r.err, HasSubstr("removing Cilium"));
  EXPECT_THAT(read_file(m_out / "metrics.txt"), HasSubstr("netpol_cilium_uninstalls 1\n"));
  EXPECT_FALSE(config_map());
  auto status =
      run_process({m_helm, "status", "cilium", "--namespace", m_ns, "--kubeconfig", m_kubeconfig});
  ASSERT_TRUE(status);
  EXPECT_THAT(status->err, HasSubstr("release: not found"));

  auto again = remove({});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_THAT(again.out, HasSubstr("no Cilium release " + m_ns + "/cilium to uninstall"));
}

TEST_F(CiliumInstall, DryRunJsonShowsTheValuesFileMergedLast) {
  fs::create_directories(m_out);
  const auto values = m_out / "extra-values.yaml";
  std::ofstream(values) << "policyAuditMode: false\nhubble:\n  ui:\n    enabled: true\n";
  auto r = install({"--dry-run", "--format", "json"}, {{"CILIUM_VALUES_FILE", values.string()}});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto out = json::parse(r.out);
  EXPECT_EQ(out["dry_run"], true);
  EXPECT_EQ(out["release"], m_ns + "/cilium");
  EXPECT_EQ(out["audit_mode"], false);
  EXPECT_EQ(out["audit_mode_source"], "values file");
  EXPECT_EQ(out["values"]["hubble"]["ui"]["enabled"], true);
  EXPECT_EQ(out["values"]["hubble"]["export"]["static"]["filePath"], "stdout");
  EXPECT_EQ(out["helm_command"][1], "upgrade");
  EXPECT_FALSE(config_map());
}

// CILIUM_EXPORT_FORWARDED reaches the values helm would be given: the FORWARDED filter beside
// the drop filter, aggregated on this 1.19 chart.
TEST_F(CiliumInstall, DryRunWithExportForwardedExportsAllowedFlowsAggregated) {
  fs::create_directories(m_out);
  auto r = install({"--dry-run", "--format", "json"}, {{"CILIUM_EXPORT_FORWARDED", "true"}});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto exported = json::parse(r.out)["values"]["hubble"]["export"];
  EXPECT_EQ(exported["static"]["allowList"],
            json::array({R"({"verdict":["DROPPED","AUDIT"]})", R"({"verdict":["FORWARDED"]})"}));
  EXPECT_EQ(exported["aggregationInterval"], "10s");
  EXPECT_THAT(exported["static"]["fieldAggregate"], ::testing::Contains("source.pod_name"));
  EXPECT_FALSE(config_map());
  // And the flag wins over the variable.
  auto off = install({"--dry-run", "--format", "json", "--export-forwarded=false"},
                     {{"CILIUM_EXPORT_FORWARDED", "true"}});
  ASSERT_EQ(off.exit_code, 0) << off.err;
  EXPECT_EQ(json::parse(off.out)["values"]["hubble"]["export"]["static"]["allowList"],
            json::array({R"({"verdict":["DROPPED","AUDIT"]})"}));
}

TEST_F(CiliumInstall, UpgradeKeepsTheAuditModeOfTheRunningInstall) {
  start_controllers(std::chrono::milliseconds(0));
  auto first = install({"--no-audit-mode"});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  ASSERT_EQ((*config_map())["data"]["policy-audit-mode"], "false");

  // Nothing changes: helm is not even run, and the agents keep running.
  auto second = install();
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_THAT(second.out, HasSubstr("Cilium unchanged"));
  EXPECT_THAT(second.out, HasSubstr("policy audit mode: off (kept from the release)"));
  EXPECT_THAT(second.out, HasSubstr("changes:           none"));
  EXPECT_EQ((*config_map())["data"]["policy-audit-mode"], "false");
  EXPECT_EQ(read_file(m_out / "cilium-values.diff"), "");
  EXPECT_THAT(read_file(m_out / "junit-install-cilium.xml"), HasSubstr("nothing to change"));

  auto third = install({}, {{"CILIUM_AUDIT_MODE", "true"}});
  ASSERT_EQ(third.exit_code, 0) << third.err;
  EXPECT_THAT(third.out, HasSubstr("Cilium upgraded"));
  EXPECT_EQ((*config_map())["data"]["policy-audit-mode"], "true");
  EXPECT_THAT(read_file(m_out / "cilium-values.diff"),
              HasSubstr("-policyAuditMode: false\n+policyAuditMode: true\n"));
}

TEST_F(CiliumInstall, NeverReadyTimesOutWithExit4) {
  start_controllers(std::chrono::milliseconds(0), /*never_ready=*/true);
  auto r = install({"--timeout", "3s"});
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_THAT(r.err, HasSubstr("netpol: error: Cilium not ready after 3s"));
  EXPECT_THAT(r.err, HasSubstr("DaemonSet/" + m_ns + "/cilium: rollout not observed yet"));
  EXPECT_THAT(r.err, HasSubstr("Deployment/" + m_ns + "/cilium-operator"));
  const auto junit = read_file(m_out / "junit-install-cilium.xml");
  EXPECT_THAT(junit, HasSubstr(R"(failures="1")"));
  EXPECT_THAT(junit, HasSubstr("an earlier step failed"));
}

TEST_F(CiliumInstall, CrashLoopingAgentFailsFast) {
  // An agent pod as the DaemonSet controller and kubelet would leave it.
  ASSERT_TRUE(
      m_api->create({{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", m_ns}}}}));
  auto pod = m_api->create(json::parse(fmt::format(R"({{
    "apiVersion": "v1", "kind": "Pod",
    "metadata": {{"name": "cilium-x7k2p", "namespace": "{}", "labels": {{"k8s-app": "cilium"}}}},
    "spec": {{"hostNetwork": true, "nodeName": "node-1",
              "containers": [{{"name": "cilium-agent", "image": "quay.io/cilium/cilium:v1.19.5"}}]}}
  }})",
                                                   m_ns)));
  ASSERT_TRUE(pod) << pod.error().message;
  (*pod)["status"] = json::parse(R"({"phase": "Running", "containerStatuses": [{
      "name": "cilium-agent", "ready": false, "restartCount": 4, "image": "x", "imageID": "",
      "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 1m20s"}},
      "lastState": {"terminated": {"exitCode": 1, "reason": "Error",
                                   "message": "level=fatal msg=\"BPF filesystem not mounted\""}}}]})");
  auto updated = m_api->replace_status(*pod);
  ASSERT_TRUE(updated) << updated.error().message;

  const auto started = std::chrono::steady_clock::now();
  auto r = install({"--timeout", "2m"});
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_THAT(r.err,
              HasSubstr("pod " + m_ns + "/cilium-x7k2p container cilium-agent is crash-looping"));
  EXPECT_THAT(r.err, HasSubstr("BPF filesystem not mounted"));
  // Failed at once, not after the two minutes.
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(60));
}

TEST_F(CiliumInstall, MissingHelmIsAConfigError) {
  auto r = install({}, {{"NETPOL_HELM", "/nonexistent/helm"}});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr("netpol: error: helm not found: /nonexistent/helm is not an "
                               "executable file"));
  EXPECT_THAT(read_file(m_out / "junit-install-cilium.xml"), HasSubstr("helm not found"));
}

TEST_F(CiliumInstall, MissingChartIsAConfigError) {
  auto r = install({"--chart", "/nonexistent/charts/cilium"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr("netpol: error: chart /nonexistent/charts/cilium not found"));
}

TEST_F(CiliumInstall, UnreachableChartRegistryShowsHelmsError) {
  auto r = install({"--chart", "oci://127.0.0.1:1/charts/cilium", "--cilium-version", "1.19.5"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr("netpol: error: helm upgrade --install " + m_ns + "/cilium"));
  EXPECT_THAT(r.err, HasSubstr("connection refused"));
}

TEST_F(CiliumInstall, UnmanagedPodsAreListedAndRestartedOnRequest) {
  ASSERT_TRUE(m_api->create(
      {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", m_ns + "-app"}}}}));
  const std::string app_ns = m_ns + "-app";
  auto make_pod = [&](const std::string& name, bool owned) {
    json p = json::parse(fmt::format(R"({{
      "apiVersion": "v1", "kind": "Pod",
      "metadata": {{"name": "{}", "namespace": "{}"}},
      "spec": {{"nodeName": "node-1", "containers": [{{"name": "app", "image": "nginx"}}]}}
    }})",
                                     name, app_ns));
    if (owned) {
      p["metadata"]["ownerReferences"] =
          json::array({{{"apiVersion", "apps/v1"},
                        {"kind", "ReplicaSet"},
                        {"name", "web-7d9f8"},
                        {"uid", "0d0b7f0e-0000-4000-8000-000000000001"},
                        {"controller", true}}});
    }
    auto created = m_api->create(p);
    ASSERT_TRUE(created) << created.error().message;
  };
  make_pod("web-7d9f8-abcde", true);
  make_pod("bare", false);
  make_pod("managed", true);
  start_controllers(std::chrono::milliseconds(0));
  // The first install lists all three; the CiliumEndpoint CRD comes with the chart.
  auto first = install();
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_THAT(first.out, HasSubstr("kubectl -n " + app_ns + " delete pod web-7d9f8-abcde"));
  EXPECT_THAT(first.out, HasSubstr("kubectl -n " + app_ns + " delete pod bare   # bare pod"));
  EXPECT_THAT(first.out, HasSubstr(app_ns + " delete pod managed"));

  // --restart-unmanaged acts cluster-wide, and pods of other tests (beside this one, or left
  // by earlier ones) may be unmanaged too: the restart runs as a user who may delete pods in
  // this test's namespace only, so no other test's pod is ever deleted.
  const auto restarter = kubeconfig_deleting_pods_only_in(app_ns);
  ASSERT_FALSE(restarter.empty());
  m_kubeconfig = restarter;

  // Cilium now manages `managed` (as if its agent had written the endpoint).
  auto cep = m_api->create({{"apiVersion", "cilium.io/v2"},
                            {"kind", "CiliumEndpoint"},
                            {"metadata", {{"name", "managed"}, {"namespace", app_ns}}}});
  ASSERT_TRUE(cep) << cep.error().message;
  auto second = install({"--restart-unmanaged"});
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_THAT(second.out, HasSubstr(app_ns + "/web-7d9f8-abcde: deleted; ReplicaSet/web-7d9f8 "
                                             "recreates it"));
  EXPECT_THAT(second.out, HasSubstr(app_ns + "/bare: not deleted"));
  EXPECT_THAT(second.out, Not(HasSubstr(app_ns + "/managed")));
  // Deleted: gone, or (with no kubelet to confirm) marked for deletion.
  auto restarted = m_api->get(kube::resources::pods, app_ns, "web-7d9f8-abcde");
  EXPECT_TRUE(!restarted || restarted->contains(json::json_pointer("/metadata/deletionTimestamp")));
  EXPECT_FALSE(m_api->get(kube::resources::pods, app_ns, "bare")
                   ->contains(json::json_pointer("/metadata/deletionTimestamp")));
  EXPECT_TRUE(m_api->get(kube::resources::pods, app_ns, "managed"));
  std::istringstream lines(second.out);
  for (std::string line; std::getline(lines, line);) {
    if (line.find(": deleted; ") != std::string::npos) {
      EXPECT_THAT(line, HasSubstr(app_ns + "/")) << "only this test's pods are deleted";
    }
  }
}

} // namespace
} // namespace netpol
