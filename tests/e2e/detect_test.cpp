// `netpol detect` against a real kube-apiserver.
//
// The fixture clusters (tests/data/detect) are seeded into a private API server that this
// test starts for itself, one scenario after another, each cleaned away before the next:
// detection reads cluster-wide state (every Node, every DaemonSet, served API groups), so
// scenarios cannot share a server with each other or with other tests, and starting a
// server per scenario would cost ~10 s each. Namespaces cannot be deleted on a server
// without controllers; they are created once and only emptied.
//
// The command-line cases (limited token, unreachable server, bad kubeconfig) use the shared
// test cluster, whose contents they do not depend on.
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cilium/values.hpp"
#include "detect/detect.hpp"
#include "kube/client.hpp"
#include "support/paths.hpp"
#include "support/private_cluster.hpp"
#include "support/real_charts.hpp"
#include "support/run_cli.hpp"
#include "support/test_cluster.hpp"
#include "support/tls.hpp"
#include "unit/detect/scenario.hpp"

namespace netpol::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using ::testing::HasSubstr;

std::string read_file(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

fs::path make_temp_dir(const std::string& prefix) {
  std::string pattern = (fs::temp_directory_path() / (prefix + "XXXXXX")).string();
  char* made = mkdtemp(pattern.data());
  return made ? fs::path(made) : fs::path();
}

std::unique_ptr<kube::KubeApi> connect_as(const std::map<std::string, std::string>& env,
                                          const std::string& token) {
  kube::ClientConfig config;
  config.server = env.at("NETPOL_TEST_SERVER");
  config.ca_pem = read_file(env.at("NETPOL_TEST_CA"));
  config.credentials.token = token;
  auto api = kube::connect(config);
  return api ? std::move(*api) : nullptr;
}

// A kubeconfig for a server that is not there.
fs::path write_unreachable_kubeconfig(const fs::path& dir, const std::string& server) {
  const auto path = dir / "kubeconfig";
  std::ofstream(path) << "apiVersion: v1\nkind: Config\ncurrent-context: ci\n"
                      << "clusters:\n- name: gone\n  cluster:\n    server: " << server << "\n"
                      << "users:\n- name: ci\n  user:\n    token: t0ken-unused\n"
                      << "contexts:\n- name: ci\n  context:\n    cluster: gone\n    user: ci\n";
  return path;
}

const kube::ResourceInfo& resource_for(const json& object) {
  const std::string kind = object.value("kind", "");
  if (kind == "Node") return kube::resources::nodes;
  if (kind == "DaemonSet") return kube::resources::daemon_sets;
  if (kind == "ConfigMap") return kube::resources::config_maps;
  if (kind == "Namespace") return kube::resources::namespaces;
  return kube::resources::custom_resource_definitions;
}

std::set<std::string> crd_groups(const DetectScenario& s) {
  std::set<std::string> groups;
  for (const auto& o : s.objects) {
    if (o.value("kind", "") == "CustomResourceDefinition") groups.insert(o["spec"]["group"]);
  }
  return groups;
}

// Polls discovery (a fresh client each time: clients cache it) until `pred` holds.
template <class Pred>
bool wait_for_groups(const std::map<std::string, std::string>& env, Pred pred) {
  for (int i = 0; i < 100; ++i) {
    auto api = connect_as(env, env.at("NETPOL_TEST_ADMIN_TOKEN"));
    auto groups = api->api_groups();
    if (groups && pred(std::set<std::string>(groups->begin(), groups->end()))) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

// Objects of kinds a scenario's own CRDs define (ClusterNetworkPolicy, ...): created once
// their CRDs are served, removed before them.
bool is_custom_resource(const json& object) {
  static const std::set<std::string> k_builtin = {"Node", "DaemonSet", "ConfigMap", "Namespace",
                                                  "CustomResourceDefinition"};
  return k_builtin.count(object.value("kind", "")) == 0;
}

// Creates the scenario's custom resources, with a fresh client (clients cache discovery),
// retrying while the new resource is not yet served.
void seed_custom(const std::map<std::string, std::string>& env, const DetectScenario& s) {
  for (const auto& object : s.objects) {
    if (!is_custom_resource(object)) continue;
    Result<json> created = fail(ErrorCode::io, "not tried");
    for (int i = 0; i < 50; ++i) {
      auto admin = connect_as(env, env.at("NETPOL_TEST_ADMIN_TOKEN"));
      created = admin->create(object);
      if (created) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ASSERT_TRUE(created.has_value()) << created.error().message;
  }
}

void clean_custom(const std::map<std::string, std::string>& env, const DetectScenario& s) {
  auto admin = connect_as(env, env.at("NETPOL_TEST_ADMIN_TOKEN"));
  for (const auto& object : s.objects) {
    if (!is_custom_resource(object)) continue;
    auto resource = admin->resolve(object.value("apiVersion", ""), object.value("kind", ""));
    ASSERT_TRUE(resource && *resource) << object.value("kind", "") << " not served";
    const auto& meta = object["metadata"];
    auto removed = admin->remove(**resource, meta.value("namespace", ""), meta.value("name", ""));
    EXPECT_TRUE(removed.has_value()) << removed.error().message;
  }
}

// Creates the scenario's objects (namespaces exist already) and writes their status, as
// the controllers and kubelets of a real cluster would have. Custom resources: seed_custom.
void seed(kube::KubeApi& admin, const DetectScenario& s) {
  for (const auto& object : s.objects) {
    if (object.value("kind", "") == "Namespace" || is_custom_resource(object)) continue;
    json body = object;
    body.erase("status");
    auto created = admin.create(body);
    ASSERT_TRUE(created.has_value()) << created.error().message;
    if (object.contains("status")) {
      json with_status = *created;
      with_status["status"] = object["status"];
      auto updated = admin.replace_status(with_status);
      ASSERT_TRUE(updated.has_value()) << updated.error().message;
    }
  }
}

void clean(kube::KubeApi& admin, const DetectScenario& s) {
  for (const auto& object : s.objects) {
    if (object.value("kind", "") == "Namespace" || is_custom_resource(object)) continue;
    const auto& meta = object["metadata"];
    auto removed =
        admin.remove(resource_for(object), meta.value("namespace", ""), meta.value("name", ""));
    EXPECT_TRUE(removed.has_value()) << removed.error().message;
  }
}

// What a real server cannot imitate: its own version (and k3s's version, which is the
// server's). Everything else must match whole.
json normalised(json provider, const std::string& server_version) {
  provider["kubernetes_version"] = server_version;
  if (provider["provider"]["name"] == "k3s")
    provider["provider"]["version"] = server_version.substr(1);
  json evidence = json::array();
  for (const auto& line : provider["evidence"]) {
    if (line.get<std::string>().rfind("server version ", 0) != 0) evidence.push_back(line);
  }
  provider["evidence"] = evidence;
  return provider;
}

// Grants user "limited" what scenario rbac-kube-system-only allows, and nothing more.
void grant_kube_system_reader(kube::KubeApi& admin) {
  const json role = {
      {"apiVersion", "rbac.authorization.k8s.io/v1"},
      {"kind", "Role"},
      {"metadata", {{"name", "detect-reader"}, {"namespace", "kube-system"}}},
      {"rules",
       {{{"apiGroups", {"apps"}}, {"resources", {"daemonsets"}}, {"verbs", {"list"}}},
        {{"apiGroups", {""}}, {"resources", {"configmaps"}}, {"verbs", {"get"}}}}}};
  const json binding = {
      {"apiVersion", "rbac.authorization.k8s.io/v1"},
      {"kind", "RoleBinding"},
      {"metadata", {{"name", "detect-reader"}, {"namespace", "kube-system"}}},
      {"roleRef",
       {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "Role"}, {"name", "detect-reader"}}},
      {"subjects",
       {{{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "User"}, {"name", "limited"}}}}};
  ASSERT_TRUE(admin.create(role).has_value());
  ASSERT_TRUE(admin.create(binding).has_value());
}

TEST(DetectE2E, EveryFixtureScenarioOnARealApiServer) {
  // Runs only under ctest, which has built the cached kube-apiserver start.sh needs.
  NETPOL_REQUIRE_TEST_CLUSTER(shared);
  (void)shared;
  PrivateCluster cluster;
  ASSERT_TRUE(cluster.started()) << "scripts/test-cluster/start.sh failed";
  const auto& env = cluster.env();
  auto admin = connect_as(env, env.at("NETPOL_TEST_ADMIN_TOKEN"));
  ASSERT_NE(admin, nullptr);
  auto server_version = admin->version();
  ASSERT_TRUE(server_version.has_value());
  grant_kube_system_reader(*admin);

  std::set<std::string> namespaces;
  const auto names = detect_scenario_names();
  for (const auto& name : names) {
    for (const auto& o : load_detect_scenario(name).objects) {
      if (o.value("kind", "") == "Namespace") namespaces.insert(o["metadata"]["name"]);
      if (o["metadata"].contains("namespace")) namespaces.insert(o["metadata"]["namespace"]);
    }
  }
  for (const auto& ns : namespaces) {
    if (ns == "kube-system" || ns == "default") continue;
    auto r = admin->create(
        json{{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", ns}}}});
    ASSERT_TRUE(r.has_value()) << r.error().message;
  }

  for (const auto& name : names) {
    SCOPED_TRACE("scenario " + name);
    const auto s = load_detect_scenario(name);
    seed(*admin, s);
    if (HasFatalFailure()) return;
    const auto groups = crd_groups(s);
    ASSERT_TRUE(wait_for_groups(env, [&](const std::set<std::string>& served) {
      return std::includes(served.begin(), served.end(), groups.begin(), groups.end());
    })) << "CRD groups never served";
    seed_custom(env, s);
    if (HasFatalFailure()) return;

    std::string token = env.at("NETPOL_TEST_ADMIN_TOKEN");
    if (name.rfind("rbac-nobody", 0) == 0) token = env.at("NETPOL_TEST_NOBODY_TOKEN");
    if (name == "rbac-kube-system-only") token = env.at("NETPOL_TEST_LIMITED_TOKEN");
    auto api = connect_as(env, token);
    const auto started = std::chrono::steady_clock::now();
    auto detection = detect::detect(*api, s.hints);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - started)
                        .count();
    if (!s.expected_error.empty()) {
      ASSERT_FALSE(detection.has_value()) << detection->to_json().dump(2);
      EXPECT_THAT(detection.error().message, ::testing::StartsWith(s.expected_error));
      clean(*admin, s);
      continue;
    }
    ASSERT_TRUE(detection.has_value()) << detection.error().message;
    const std::string version = (*server_version)["gitVersion"];
    EXPECT_EQ(normalised(json::parse(detection->to_json().dump()), version),
              normalised(s.expected, version))
        << "actual:\n"
        << detection->to_json().dump(2);
    EXPECT_LE(detection->api_requests, 12u);
    RecordProperty(name + ".requests", static_cast<int>(detection->api_requests));
    RecordProperty(name + ".ms", static_cast<int>(ms));

    clean_custom(env, s);
    clean(*admin, s);
    ASSERT_TRUE(wait_for_groups(env, [&](const std::set<std::string>& served) {
      return std::none_of(groups.begin(), groups.end(),
                          [&](const std::string& g) { return served.count(g) != 0; });
    })) << "CRD groups still served after deletion";
  }
}

// What the real Cilium charts 1.18, 1.19 and 1.20 render from netpol's values, created in a
// real API server as far as it takes them (a 1.20 server: no controllers, and no
// validation of fields it does not know), then detected.
TEST(DetectE2E, RealChartObjectsOnARealApiServer) {
  NETPOL_REQUIRE_TEST_CLUSTER(shared);
  (void)shared;
  std::string why;
  auto helm = real_helm(3, &why);
  NETPOL_REQUIRE_TOOL(helm ? std::string() : why);
  for (const auto& chart : pinned_charts())
    NETPOL_REQUIRE_TOOL(check_chart(chart));
  PrivateCluster cluster;
  ASSERT_TRUE(cluster.started()) << "scripts/test-cluster/start.sh failed";
  const auto& env = cluster.env();
  auto admin = connect_as(env, env.at("NETPOL_TEST_ADMIN_TOKEN"));
  ASSERT_NE(admin, nullptr);

  cilium::Platform platform;
  auto decision = cilium::decide_values(platform, {});
  ASSERT_TRUE(decision) << decision.error().message;
  for (const auto& chart : pinned_charts()) {
    SCOPED_TRACE("chart " + chart.file);
    std::string error;
    auto objects = helm_template(*helm, chart.path, decision->values, "kube-system", &error);
    ASSERT_TRUE(objects) << error;
    std::vector<std::pair<kube::ResourceInfo, json>> created;
    std::vector<std::string> refused;
    for (const auto& object : *objects) {
      auto resource = admin->resolve(object.value("apiVersion", ""), object.value("kind", ""));
      ASSERT_TRUE(resource) << resource.error().message;
      if (!*resource) {
        refused.push_back(object.value("kind", "") + " (not served)");
        continue;
      }
      auto made = admin->create(object);
      if (!made) {
        refused.push_back(object.value("kind", "") + ": " + made.error().message);
        continue;
      }
      created.emplace_back(**resource, *made);
    }
    // The agent, its ConfigMap and the operator are what detection reads; everything else
    // the chart renders may or may not suit a 1.20 server.
    std::set<std::string> kinds;
    for (const auto& [resource, object] : created)
      kinds.insert(object.value("kind", ""));
    EXPECT_TRUE(kinds.count("DaemonSet") && kinds.count("ConfigMap") && kinds.count("Deployment"))
        << "refused: " << ::testing::PrintToString(refused);
    RecordProperty(chart.version + ".created", static_cast<int>(created.size()));
    std::string refused_text;
    for (const auto& r : refused)
      refused_text += (refused_text.empty() ? "" : "; ") + r;
    RecordProperty(chart.version + ".refused", refused_text);

    auto detection = detect::detect(*admin, {});
    ASSERT_TRUE(detection) << detection.error().message;
    EXPECT_EQ(detection->provider.name, detect::ProviderName::cilium);
    EXPECT_EQ(detection->provider.version, chart.version);
    EXPECT_EQ(detection->provider.namespace_name, "kube-system");
    EXPECT_TRUE(detection->provider.audit_mode);
    EXPECT_EQ(detection->provider.drop_log_source, detect::DropLogSource::hubble_export_stdout);

    for (const auto& [resource, object] : created) {
      const auto& meta = object["metadata"];
      auto removed = admin->remove(resource, meta.value("namespace", ""), meta.value("name", ""));
      EXPECT_TRUE(removed) << removed.error().message;
    }
  }
}

// ---- the command line, against the shared test cluster ----

class DetectCli : public ::testing::Test {
protected:
  void SetUp() override { m_tmp = make_temp_dir("netpol-detect-cli-"); }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(m_tmp, ec);
  }
  CliResult detect(const fs::path& kubeconfig, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"--kubeconfig", kubeconfig.string(), "--output-dir",
                                     (m_tmp / "out").string()};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back("detect");
    return run_cli(args, MapEnvironment{{"HOME", m_tmp.string()}});
  }
  fs::path out(const char* file) const { return m_tmp / "out" / file; }

  fs::path m_tmp;
};

TEST_F(DetectCli, TokenWithoutRightsIsAnErrorNotProviderNone) {
  NETPOL_REQUIRE_TEST_CLUSTER(cluster);
  const auto kubeconfig =
      cluster->write_kubeconfig((m_tmp / "kubeconfig").string(), "token: " + cluster->nobody_token);
  auto r = detect(kubeconfig, {"--require-enforcement"});
  // Not exit 4 blaming the provider: the cause is the missing right, in one line.
  ASSERT_EQ(r.exit_code, 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr("netpol: error: detect: cannot tell the network provider without "
                               "listing DaemonSets (list DaemonSet: daemonsets.apps is forbidden: "
                               "User \"nobody\" cannot list resource \"daemonsets\""));
  EXPECT_THAT(r.err, HasSubstr("grant `list daemonsets` cluster-wide or in kube-system"));
  EXPECT_FALSE(json::parse(read_file(out("provider.json"))).contains("provider"));
  EXPECT_EQ(read_file(out("netpol.env")), "");
  EXPECT_THAT(read_file(out("junit-detect.xml")), HasSubstr("cannot tell the network provider"));
  EXPECT_THAT(r.err + r.out, ::testing::Not(HasSubstr(cluster->nobody_token)));
}

TEST_F(DetectCli, CredentialsTheServerDoesNotAcceptAreAnError) {
  NETPOL_REQUIRE_TEST_CLUSTER(cluster);
  // A token the server does not know is a 401; a client certificate from a CA it does not
  // trust makes the request anonymous (403 for system:anonymous). Neither is evidence.
  const auto unknown =
      cluster->write_kubeconfig((m_tmp / "unknown").string(), "token: not-a-token-it-knows");
  auto r = detect(unknown);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr("Unauthorized"));
  EXPECT_FALSE(json::parse(read_file(out("provider.json"))).contains("provider"));

  const auto ca = make_certificate("some other CA");
  const auto leaf = make_certificate("admin", {}, {}, &ca);
  const auto cert = (m_tmp / "client.crt").string(), key = (m_tmp / "client.key").string();
  std::ofstream(cert) << leaf.cert_pem;
  std::ofstream(key) << leaf.key_pem;
  const auto foreign = cluster->write_kubeconfig(
      (m_tmp / "foreign").string(), "client-certificate: " + cert + "\nclient-key: " + key);
  r = detect(foreign);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr("Unauthorized"));
}

TEST_F(DetectCli, AdminWritesEveryReportAndJsonMatchesProviderJson) {
  NETPOL_REQUIRE_TEST_CLUSTER(cluster);
  const auto kubeconfig =
      cluster->write_kubeconfig((m_tmp / "kubeconfig").string(), "token: " + cluster->admin_token);
  auto r = detect(kubeconfig, {"--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out), json::parse(read_file(out("provider.json"))));
  std::vector<std::string> keys;
  std::istringstream env(read_file(out("netpol.env")));
  for (std::string line; std::getline(env, line);) {
    keys.push_back(line.substr(0, line.find('=')));
  }
  EXPECT_THAT(keys, ::testing::ElementsAre("NETPOL_FLAVOR", "NETPOL_PROVIDER",
                                           "NETPOL_PROVIDER_VERSION", "NETPOL_ENFORCES",
                                           "NETPOL_AUDIT_MODE", "NETPOL_DROP_LOG_SOURCE"));
  EXPECT_THAT(read_file(out("junit-detect.xml")), HasSubstr("NetworkPolicy enforced"));
}

TEST_F(DetectCli, UnreachableServerExits1NamingTheServer) {
  // Port 1 on loopback: nothing listens, the connection is refused at once.
  const auto kubeconfig = write_unreachable_kubeconfig(m_tmp, "https://127.0.0.1:1");
  auto r = detect(kubeconfig);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr("\nnetpol: error: cannot connect to https://127.0.0.1:1: "));
  EXPECT_THAT(read_file(out("junit-detect.xml")),
              HasSubstr("cannot connect to https://127.0.0.1:1"));
  // No conclusion without a cluster: provider.json says why, the dotenv report claims nothing.
  const auto provider = nlohmann::json::parse(read_file(out("provider.json")));
  EXPECT_FALSE(provider.contains("provider"));
  EXPECT_THAT(provider["error"].get<std::string>(), HasSubstr("cannot connect to"));
  EXPECT_EQ(read_file(out("netpol.env")), "");
}

TEST_F(DetectCli, BadKubeconfigExits2) {
  const auto path = m_tmp / "broken";
  std::ofstream(path) << "apiVersion: v1\nclusters: [\n";
  auto r = detect(path);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr("broken"));

  auto missing = detect(m_tmp / "does-not-exist");
  EXPECT_EQ(missing.exit_code, 2) << missing.err;
}

} // namespace
} // namespace netpol::test
