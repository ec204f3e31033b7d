// The least-privilege manifests of examples/rbac/, as shipped, on a real API server with RBAC:
// each is bound (after the `sed` its header shows) to an identity with no other rights, and
// netpol runs as that identity: the commands succeed with nothing degraded. Then one rule is
// taken away, and the command fails or warns naming exactly that right and where to get it.
//
// Identities: RBAC grants add up, so cases that grant cluster-wide rights at the same time
// (ctest runs tests in parallel) cannot share a user: each case gets a user of its own, by a
// client certificate from the test cluster's client CA, in the groups the GitLab agent gives
// an impersonated CI job (gitlab:ci_job, gitlab:project:<id>); the manifests' subject
// gitlab:project:42 becomes that project group. Objects a manifest defines get a suffix of
// their own for the same reason, and are deleted at the end.
//
// Detection reads every Node and DaemonSet, which other tests change, so detect, drops and run
// are checked on an API server of their own (PrivateCluster) seeded with a Cilium in
// kube-system and an agent pod whose log the test kubelet serves; plan, apply and remove need
// only a namespace of the shared cluster.
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <regex>
#include <set>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "detect/detection.hpp"
#include "kube/client.hpp"
#include "kube/kubeconfig.hpp"
#include "support/paths.hpp"
#include "support/private_cluster.hpp"
#include "support/run_cli.hpp"
#include "support/temp_dir.hpp"
#include "support/test_cluster.hpp"
#include "support/test_kubelet.hpp"
#include "unit/detect/scenario.hpp"
#include "util/time.hpp"
#include "util/yaml.hpp"

namespace netpol::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

std::string read_file(const fs::path& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void replace_all(std::string& text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
}

std::string random_digits() {
  static std::mt19937 rng{std::random_device{}()};
  return std::to_string(10'000'000 + rng() % 90'000'000);
}

// Who netpol runs as: a user of its own (gitlab:ci_job:<n>) in groups gitlab:ci_job and
// gitlab:project:<id>, as the GitLab agent impersonates a CI job.
struct Identity {
  std::string user;
  std::string project_group; // the subject the manifests bind, in place of gitlab:project:42
  std::string kubeconfig;
};

Identity make_identity(const TestCluster& cluster, const TempDir& dir, const std::string& name) {
  Identity who;
  who.user = "gitlab:ci_job:" + random_digits();
  who.project_group = "gitlab:project:" + random_digits();
  who.kubeconfig = cluster.write_identity_kubeconfig(dir.file(name + ".kubeconfig"), who.user,
                                                     {"gitlab:ci_job", who.project_group});
  return who;
}

// A manifest with its placeholders replaced as its header says: the subject's project group
// (gitlab:project:42, or gitlab:project:7 for the operator's) and the app's namespace (shop).
std::string manifest(const std::string& file, const Identity& who, const std::string& app_ns) {
  std::string text = read_file(source_dir() / "examples/rbac" / file);
  EXPECT_FALSE(text.empty()) << "examples/rbac/" << file;
  // One pass, whole IDs only: a new ID may itself start with 7 or 42.
  text = std::regex_replace(text, std::regex(R"(gitlab:project:(42|7)\b)"), who.project_group);
  replace_all(text, "namespace: shop", "namespace: " + app_ns);
  return text;
}

// apply-namespace.yaml without its optional ClusterRole, cut where its comment says to.
std::string without_optional_part(const std::string& text) {
  const auto at = text.find("---\n# Optional:");
  EXPECT_NE(at, std::string::npos) << "apply-namespace.yaml has no optional part";
  return text.substr(0, at);
}

// One rule taken away: `verb` on `resource`, in every Role and ClusterRole of the manifest.
struct Without {
  std::string resource;
  std::string verb;
};

// Returns how many rules lost the verb.
int take_away(json& role, const Without& w) {
  json rules = json::array();
  int taken = 0;
  for (const auto& rule : role["rules"]) {
    const auto& resources = rule["resources"];
    if (std::find(resources.begin(), resources.end(), w.resource) == resources.end()) {
      rules.push_back(rule);
      continue;
    }
    json others = rule; // the rule's other resources keep every verb
    others["resources"] = json::array();
    for (const auto& r : resources)
      if (r != w.resource) others["resources"].push_back(r);
    if (!others["resources"].empty()) rules.push_back(others);
    json target = rule;
    target["resources"] = json::array({w.resource});
    target["verbs"] = json::array();
    for (const auto& v : rule["verbs"]) {
      if (v == w.verb) {
        ++taken;
      } else {
        target["verbs"].push_back(v);
      }
    }
    if (!target["verbs"].empty()) rules.push_back(target);
  }
  role["rules"] = rules;
  return taken;
}

// A client as `who`, for the access reviews of the test itself.
std::unique_ptr<kube::KubeApi> connect_as(const Identity& who) {
  kube::LoadOptions load;
  load.paths = {who.kubeconfig};
  auto config = kube::load_client_config(load);
  EXPECT_TRUE(config) << config.error().message;
  if (!config) return nullptr;
  auto api = kube::connect(*config);
  EXPECT_TRUE(api) << api.error().message;
  return api ? std::move(*api) : nullptr;
}

// The objects of a manifest, created by the admin as `kubectl apply` would, and deleted at the
// end (ClusterRoles and the bindings in kube-system outlive a test's namespace). Each object
// the manifest defines is renamed with a suffix of its own, and the bindings follow. Returns
// once `who` has the rights (the server's authorizer sees new roles after a moment).
class Grant {
public:
  Grant(const TestCluster& cluster, const Identity& who, const std::string& text,
        const std::vector<Without>& without = {})
      : m_admin(cluster.admin()) {
    create(text, without); // a failure is fatal for the test (check HasFatalFailure())
    if (!::testing::Test::HasFatalFailure()) wait_until_granted(who);
  }
  ~Grant() {
    for (const auto& object : m_created) {
      auto info = m_admin->resolve(object.value("apiVersion", ""), object.value("kind", ""));
      if (!info || !*info) continue;
      const auto& meta = object["metadata"];
      (void)m_admin->remove(**info, meta.value("namespace", ""), meta.value("name", ""));
    }
  }
  Grant(const Grant&) = delete;
  Grant& operator=(const Grant&) = delete;

private:
  void create(const std::string& text, const std::vector<Without>& without) {
    auto docs = parse_yaml_documents(text, "manifest");
    ASSERT_TRUE(docs) << docs.error().message;
    const std::string suffix = "-" + random_digits();
    std::set<std::string> defined;
    for (const auto& d : *docs) {
      if (d.value.is_object()) defined.insert(d.value.value("/metadata/name"_json_pointer, ""));
    }
    std::vector<int> taken(without.size(), 0);
    for (const auto& d : *docs) {
      json object = d.value;
      if (!object.is_object()) continue; // a document of comments only
      object["metadata"]["name"] = object["metadata"]["name"].get<std::string>() + suffix;
      if (object.contains("roleRef") && defined.count(object["roleRef"]["name"])) {
        object["roleRef"]["name"] = object["roleRef"]["name"].get<std::string>() + suffix;
      }
      if (object.contains("rules")) {
        for (size_t i = 0; i < without.size(); ++i)
          taken[i] += take_away(object, without[i]);
      }
      auto created = m_admin->create(object);
      ASSERT_TRUE(created) << created.error().message;
      m_created.push_back(*created);
    }
    for (size_t i = 0; i < without.size(); ++i) {
      EXPECT_GT(taken[i], 0) << "no rule grants " << without[i].verb << " " << without[i].resource;
    }
  }

  // Asks as `who` for the first right of each role created (or all of cluster-admin's) until
  // the server allows them all: an access review, or for a rule limited to named objects (which
  // a review without a name is refused) a get of the first name, where a 404 is an allowed get.
  void wait_until_granted(const Identity& who) {
    auto api = connect_as(who);
    ASSERT_NE(api, nullptr);
    for (const auto& object : m_created) {
      std::function<Result<bool>()> ask;
      std::string what;
      if (object.contains("roleRef") && object["roleRef"]["name"] == "cluster-admin") {
        ask = [&] { return api->can_i({"*", "*", "*", "", ""}); };
        what = "cluster-admin";
      } else if (object.contains("rules") && !object["rules"].empty()) {
        const auto& rule = object["rules"][0];
        std::string resource = rule["resources"][0], subresource;
        if (auto slash = resource.find('/'); slash != std::string::npos) {
          subresource = resource.substr(slash + 1);
          resource.resize(slash);
        }
        const std::string ns = object["metadata"].value("namespace", "");
        what = rule.dump();
        if (rule.contains("resourceNames")) {
          ASSERT_EQ(rule["verbs"][0], "get") << what;
          ASSERT_EQ(rule["apiGroups"][0], "") << what;
          const kube::ResourceInfo info{"", "v1", resource, "", !ns.empty()};
          const std::string name = rule["resourceNames"][0];
          ask = [&api, info, ns, name]() -> Result<bool> {
            auto got = api->get(info, ns, name);
            if (got || kube::is_not_found(got.error())) return true;
            if (kube::is_forbidden(got.error())) return false;
            return fail(got.error());
          };
        } else {
          const kube::AccessCheck check{rule["verbs"][0], rule["apiGroups"][0], resource, ns,
                                        subresource};
          ask = [&api, check] { return api->can_i(check); };
        }
      } else {
        continue;
      }
      bool allowed = false;
      for (int i = 0; i < 100 && !allowed; ++i) {
        auto answer = ask();
        ASSERT_TRUE(answer) << answer.error().message;
        allowed = *answer;
        if (!allowed) std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      ASSERT_TRUE(allowed) << "never granted: " << what;
    }
  }

  std::unique_ptr<kube::KubeApi> m_admin;
  std::vector<json> m_created;
};

// netpol as `who`, in-process, with its own output folder.
CliResult netpol(const Identity& who, const TempDir& dir, std::vector<std::string> args,
                 MapEnvironment env = {}) {
  std::vector<std::string> all = {"--kubeconfig", who.kubeconfig, "--output-dir", dir.file("out")};
  all.insert(all.end(), args.begin(), args.end());
  env.set("HOME", dir.path().string());
  return run_cli(all, env);
}

// Nothing in the run lacked a right.
void expect_no_missing_right(const CliResult& r) {
  for (const char* word : {"forbidden", "not allowed", "missing permissions", "cannot tell"})
    EXPECT_THAT(r.err, Not(HasSubstr(word))) << r.err;
}

std::string network_policy(const std::string& name) {
  return "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: " + name +
         "}\nspec:\n  podSelector: {matchLabels: {app: " + name +
         "}}\n  ingress:\n  - ports: [{port: 80}]\n";
}

// ---------------------------------------------------------------- detect, drops, run

// A dropped flow into `ns`, as the Hubble exporter writes it to the agent's stdout.
std::string dropped_flow(const std::string& ns, const std::string& time) {
  return R"({"flow":{"time":")" + time +
         R"(","verdict":"DROPPED","IP":{"source":"10.0.1.5","destination":"10.0.2.7"},)"
         R"("l4":{"TCP":{"source_port":40000,"destination_port":5432}},"source":{"namespace":")" +
         ns +
         R"(","labels":["k8s:app=web"],"pod_name":"web-7d9f8b6c5d-x2x4z"},)"
         R"("destination":{"namespace":")" +
         ns +
         R"(","labels":["k8s:app=db"],"pod_name":"db-0"},"traffic_direction":"INGRESS",)"
         R"("drop_reason_desc":"POLICY_DENIED"},"node_name":"agent-node","time":")" +
         time + R"("})";
}

// Polls discovery, with a fresh client each time (clients cache it), until `group` is served.
bool wait_for_group(const TestCluster& cluster, const std::string& group) {
  for (int i = 0; i < 100; ++i) {
    auto groups = cluster.admin()->api_groups();
    if (groups && std::find(groups->begin(), groups->end(), group) != groups->end()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

// Creates `objects` (status written as the controllers would), custom resources once served.
void seed(const TestCluster& cluster, const std::vector<json>& objects) {
  auto admin = cluster.admin();
  for (const auto& object : objects) {
    const std::string kind = object.value("kind", "");
    if (kind == "Namespace" && object["metadata"].value("name", "") == "kube-system") continue;
    json body = object;
    body.erase("status");
    Result<json> created = fail(ErrorCode::io, "not tried");
    static const std::set<std::string> k_builtin = {"Node", "DaemonSet", "ConfigMap", "Namespace",
                                                    "CustomResourceDefinition"};
    if (!k_builtin.count(kind)) { // of a CRD seeded just before
      const std::string api_version = object.value("apiVersion", "");
      ASSERT_TRUE(wait_for_group(cluster, api_version.substr(0, api_version.find('/'))));
      for (int i = 0; i < 50 && !created; ++i) {
        created = cluster.admin()->create(body); // a fresh client sees the new resource
        if (!created) std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    } else {
      created = admin->create(body);
    }
    ASSERT_TRUE(created) << created.error().message;
    if (object.contains("status")) {
      json with_status = *created;
      with_status["status"] = object["status"];
      auto updated = admin->replace_status(with_status);
      ASSERT_TRUE(updated) << updated.error().message;
    }
  }
}

// The Cilium of detection scenario cilium-audit-hubble (1.18 in kube-system, policy audit
// mode, Hubble exporting dropped and audited flows to the agents' stdout, CiliumNetworkPolicy
// CRDs), a ClusterNetworkPolicy, and one agent pod whose log the test kubelet serves.
void seed_cilium(const TestCluster& cluster, TestKubelet& kubelet, const std::string& agent_log) {
  auto objects = load_detect_scenario("cilium-audit-hubble").objects;
  for (const auto& o : load_detect_scenario("calico-v3-clusternetworkpolicy").objects) {
    const std::string name = o["metadata"].value("name", "");
    if (name == "clusternetworkpolicies.policy.networking.k8s.io" ||
        name == "deny-cloud-metadata") {
      objects.push_back(o);
    }
  }
  seed(cluster, objects);
  if (::testing::Test::HasFatalFailure()) return;
  ASSERT_TRUE(wait_for_group(cluster, "cilium.io"));
  auto admin = cluster.admin();
  kubelet.register_node(*admin, "agent-node");
  auto pod = admin->create(
      {{"apiVersion", "v1"},
       {"kind", "Pod"},
       {"metadata",
        {{"name", "cilium-x7k2p"},
         {"namespace", "kube-system"},
         {"labels", {{"k8s-app", "cilium"}}}}},
       {"spec",
        {{"nodeName", "agent-node"},
         {"containers",
          {{{"name", "cilium-agent"}, {"image", "quay.io/cilium/cilium:v1.18.2"}}}}}}});
  ASSERT_TRUE(pod) << pod.error().message;
  kubelet.set_log("kube-system", "cilium-x7k2p", "cilium-agent", agent_log);
}

TEST(Rbac, DetectDropsAndRunNeedNothingButTheirManifests) {
  NETPOL_REQUIRE_TEST_CLUSTER(shared); // the cached kube-apiserver start.sh needs
  (void)shared;
  PrivateCluster own;
  ASSERT_TRUE(own.started()) << "scripts/test-cluster/start.sh failed";
  const TestCluster& cluster = own.cluster();
  TempDir dir;
  const auto app = cluster.create_namespace("shop");
  const auto five_minutes_ago =
      std::chrono::duration_cast<std::chrono::nanoseconds>(
          (std::chrono::system_clock::now() - std::chrono::minutes(5)).time_since_epoch())
          .count();
  TestKubelet kubelet;
  seed_cilium(cluster, kubelet,
              "level=info msg=\"Starting\" subsys=daemon\n" +
                  dropped_flow(app, format_rfc3339(five_minutes_ago)) + "\n");
  if (HasFatalFailure()) return;

  // What the cluster admin's detection sees: the manifest must leave nothing of it out.
  Identity admin;
  admin.kubeconfig =
      cluster.write_kubeconfig(dir.file("admin.kubeconfig"), "token: " + cluster.admin_token);
  const auto seen = netpol(admin, dir, {"--format", "json", "detect"});
  ASSERT_EQ(seen.exit_code, 0) << seen.err;
  const auto full = json::parse(seen.out);
  ASSERT_EQ(full["provider"]["name"], "cilium");
  ASSERT_EQ(full["confidence"], "high");
  ASSERT_EQ(full["cluster_network_policies"].size(), 1u);

  {
    SCOPED_TRACE("detect.yaml: the same detection as the admin's");
    const auto who = make_identity(cluster, dir, "detect");
    Grant grant(cluster, who, manifest("detect.yaml", who, app), {});
    const auto r = netpol(who, dir, {"--format", "json", "detect"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(json::parse(r.out), full);
    expect_no_missing_right(r);
  }
  {
    SCOPED_TRACE("detect.yaml without get configmaps: a warning naming the read");
    const auto who = make_identity(cluster, dir, "detect-no-configmaps");
    Grant grant(cluster, who, manifest("detect.yaml", who, app), {{"configmaps", "get"}});
    const auto r = netpol(who, dir, {"--format", "json", "detect"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_THAT(r.err, HasSubstr("warning: detect: not allowed to get configmap "
                                 "kube-system/cilium-config: detected without that evidence, "
                                 "confidence medium (examples/rbac/detect.yaml grants every read "
                                 "detect makes; see docs/cluster-access.md#permissions)"));
    EXPECT_EQ(json::parse(r.out)["confidence"], "medium");
  }
  {
    SCOPED_TRACE("detect.yaml without list daemonsets: an error naming the right");
    const auto who = make_identity(cluster, dir, "detect-no-daemonsets");
    Grant grant(cluster, who, manifest("detect.yaml", who, app), {{"daemonsets", "list"}});
    const auto r = netpol(who, dir, {"detect"});
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_THAT(r.err, HasSubstr("cannot list resource \"daemonsets\" in API group \"apps\""));
    EXPECT_THAT(r.err, HasSubstr("grant `list daemonsets` cluster-wide or in kube-system "
                                 "(examples/rbac/detect.yaml"));
  }
  {
    SCOPED_TRACE("drops.yaml: the agents' log, read from kube-system");
    const auto who = make_identity(cluster, dir, "drops");
    Grant grant(cluster, who, manifest("drops.yaml", who, app), {});
    const auto r = netpol(who, dir, {"-n", app, "--format", "json", "drops", "--since", "30m"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(json::parse(r.out)["flows_matched"], 1);
    expect_no_missing_right(r);
  }
  {
    SCOPED_TRACE("drops.yaml without get pods/log: an error naming the right");
    const auto who = make_identity(cluster, dir, "drops-no-log");
    Grant grant(cluster, who, manifest("drops.yaml", who, app), {{"pods/log", "get"}});
    const auto r = netpol(who, dir, {"-n", app, "drops", "--since", "30m"});
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_THAT(r.err, HasSubstr("netpol: error: no cilium-agent log could be read (1 pods): not "
                                 "allowed to get pods/log in namespace kube-system "
                                 "(examples/rbac/drops.yaml grants both; see "
                                 "docs/cluster-access.md#permissions)"));
  }
  {
    SCOPED_TRACE("drops.yaml without list pods: an error naming the right");
    const auto who = make_identity(cluster, dir, "drops-no-list");
    Grant grant(cluster, who, manifest("drops.yaml", who, app), {{"pods", "list"}});
    const auto r = netpol(who, dir, {"-n", app, "drops", "--since", "30m"});
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_THAT(r.err, HasSubstr("listing Cilium agent pods (k8s-app=cilium): not allowed to "
                                 "list pods cluster-wide or in namespace kube-system: grant "
                                 "`list pods` and `get pods/log` in the namespace the Cilium "
                                 "agents run in (examples/rbac/drops.yaml"));
  }
  {
    SCOPED_TRACE("the app team's run: detect.yaml, apply-namespace.yaml and drops.yaml");
    const auto who = make_identity(cluster, dir, "run");
    Grant detect(cluster, who, manifest("detect.yaml", who, app), {});
    Grant apply(cluster, who, manifest("apply-namespace.yaml", who, app), {});
    Grant drops(cluster, who, manifest("drops.yaml", who, app), {});
    const auto policies = dir.path() / "policies";
    fs::create_directories(policies);
    std::ofstream(policies / "web.yaml") << network_policy("web");
    const auto r = netpol(who, dir, {"-n", app, "--format", "json", "run"},
                          {{"CI_PROJECT_ID", "42"},
                           {"CI_ENVIRONMENT_SLUG", "production"},
                           {"NETWORK_POLICY_MODE", "audit"},
                           {"NETWORK_POLICY_PATH", policies.string()},
                           {"NETPOL_SINCE", "30m"}});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto summary = json::parse(r.out);
    EXPECT_EQ(summary["detection"], full);
    EXPECT_EQ(summary["policies"]["applied"], 1) << summary["policies"].dump();
    EXPECT_EQ(summary["drop_log"]["dropped"], 1) << summary["drop_log"].dump();
    expect_no_missing_right(r);
    auto live = cluster.admin()->list(kube::resources::network_policies, app);
    ASSERT_TRUE(live) << live.error().message;
    EXPECT_EQ(live->size(), 1u);
  }
}

// ---------------------------------------------------------------- plan, apply, remove

struct AppNamespace {
  const TestCluster* cluster;
  TempDir dir;
  std::string ns;
  fs::path policies;
  MapEnvironment env{{"CI_PROJECT_ID", "42"}, {"CI_ENVIRONMENT_SLUG", "production"}};

  explicit AppNamespace(const TestCluster* c) : cluster(c) {
    ns = cluster->create_namespace("rbac-shop");
    policies = dir.path() / "policies";
    fs::create_directories(policies);
    std::ofstream(policies / "web.yaml") << network_policy("web");
    // The provider as an earlier `netpol detect` found it (apply --mode enforce decides by it).
    detect::Detection d;
    d.provider.name = detect::ProviderName::cilium;
    d.provider.enforces_network_policy = true;
    std::ofstream(dir.file("provider.json")) << d.to_json().dump();
  }
  CliResult run(const Identity& who, const std::string& verb) {
    std::vector<std::string> args = {"-n", ns, verb};
    if (verb != "remove") args.insert(args.end(), {"--policies", policies.string()});
    if (verb == "apply") {
      args.insert(args.end(), {"--mode", "enforce", "--provider-file", dir.file("provider.json")});
    }
    return netpol(who, dir, args, env);
  }
  size_t policies_live() {
    auto items = cluster->admin()->list(kube::resources::network_policies, ns);
    EXPECT_TRUE(items) << items.error().message;
    return items ? items->size() : 0;
  }
};

TEST(Rbac, ApplyNamespaceIsEnoughToPlanApplyAndRemove) {
  NETPOL_REQUIRE_TEST_CLUSTER(cluster);
  AppNamespace app(cluster);
  const auto who = make_identity(*cluster, app.dir, "apply");
  Grant grant(*cluster, who, manifest("apply-namespace.yaml", who, app.ns), {});
  if (HasFatalFailure()) return;

  const auto plan = app.run(who, "plan");
  EXPECT_EQ(plan.exit_code, 0) << plan.err;
  EXPECT_THAT(plan.out, HasSubstr("connectivity:")); // the optional analysis ran
  expect_no_missing_right(plan);
  const auto applied = app.run(who, "apply");
  EXPECT_EQ(applied.exit_code, 0) << applied.err;
  EXPECT_THAT(applied.out, HasSubstr("1 applied, 0 unchanged, 0 pruned"));
  expect_no_missing_right(applied);
  const auto again = app.run(who, "apply");
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_THAT(again.out, HasSubstr("0 applied, 1 unchanged, 0 pruned"));
  EXPECT_EQ(app.policies_live(), 1u);
  const auto removed = app.run(who, "remove");
  EXPECT_EQ(removed.exit_code, 0) << removed.err;
  expect_no_missing_right(removed);
  EXPECT_EQ(app.policies_live(), 0u);
}

TEST(Rbac, WithoutTheOptionalClusterRoleThePlanWarnsAndApplies) {
  NETPOL_REQUIRE_TEST_CLUSTER(cluster);
  AppNamespace app(cluster);
  const auto who = make_identity(*cluster, app.dir, "apply-namespace-only");
  Grant grant(*cluster, who, without_optional_part(manifest("apply-namespace.yaml", who, app.ns)),
              {});
  if (HasFatalFailure()) return;
  const auto r = app.run(who, "apply");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("1 applied"));
  EXPECT_THAT(r.err, HasSubstr("warning: cannot tell which connections the change denies or "
                               "allows: "));
  EXPECT_THAT(r.err, HasSubstr("cannot list resource"));
  EXPECT_THAT(r.err, HasSubstr("(optional: the netpol-connectivity ClusterRole of "
                               "examples/rbac/apply-namespace.yaml grants these reads; the plan "
                               "goes on without them)"));
  // The server checks rights before it looks the resource up, so this holds with or without
  // Cilium's CRDs.
  EXPECT_THAT(r.err, HasSubstr("warning: not allowed to list "
                               "ciliumclusterwidenetworkpolicies.cilium.io: any applied earlier "
                               "for this project and environment are not pruned (the optional "
                               "netpol-connectivity ClusterRole of "
                               "examples/rbac/apply-namespace.yaml grants it)"));
  EXPECT_EQ(app.policies_live(), 1u);
  const auto removed = app.run(who, "remove");
  EXPECT_EQ(removed.exit_code, 0) << removed.err;
  EXPECT_EQ(app.policies_live(), 0u);
}

TEST(Rbac, ApplyWithoutPatchNamesTheMissingVerbAndWritesNothing) {
  NETPOL_REQUIRE_TEST_CLUSTER(cluster);
  AppNamespace app(cluster);
  const auto who = make_identity(*cluster, app.dir, "apply-no-patch");
  Grant grant(*cluster, who, manifest("apply-namespace.yaml", who, app.ns),
              {{"networkpolicies", "patch"}});
  if (HasFatalFailure()) return;
  const auto r = app.run(who, "apply");
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr("netpol: error: apply: missing permissions, nothing was changed: "
                               "patch networkpolicies.networking.k8s.io in namespace " +
                               app.ns +
                               " (grant them to the job's identity: "
                               "examples/rbac/apply-namespace.yaml; see "
                               "docs/cluster-access.md#permissions)"));
  EXPECT_THAT(r.err, Not(HasSubstr("create networkpolicies"))); // that one is granted
  EXPECT_EQ(app.policies_live(), 0u);
}

TEST(Rbac, PlanWithoutListNamesTheRefusedList) {
  NETPOL_REQUIRE_TEST_CLUSTER(cluster);
  AppNamespace app(cluster);
  const auto who = make_identity(*cluster, app.dir, "plan-no-list");
  Grant grant(*cluster, who, without_optional_part(manifest("apply-namespace.yaml", who, app.ns)),
              {{"networkpolicies", "list"}});
  if (HasFatalFailure()) return;
  const auto r = app.run(who, "plan");
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr("cannot list resource \"networkpolicies\" in API group "
                               "\"networking.k8s.io\" in the namespace \"" +
                               app.ns + "\""));
  EXPECT_THAT(r.err, HasSubstr("(the plan lists them to compare with what is applied; "
                               "examples/rbac/apply-namespace.yaml grants it; see "
                               "docs/cluster-access.md#permissions)"));
}

// ---------------------------------------------------------------- install-cilium

// install-cilium.yaml binds cluster-admin; asked as the bound identity, the server allows what
// the Cilium chart and install-cilium do, and the identity alone may none of it. The install
// itself (helm, the chart, waiting) is e2e.CiliumInstall's; here its dry run, which detects and
// decides the values, goes through as the bound identity and stops, naming the right, without.
TEST(Rbac, InstallCiliumIsClusterAdminForItsSubjectOnly) {
  NETPOL_REQUIRE_TEST_CLUSTER(cluster);
  TempDir dir;
  const auto ns = cluster->create_namespace("rbac-cilium");
  const auto who = make_identity(*cluster, dir, "install");
  const auto other = make_identity(*cluster, dir, "not-bound");
  Grant grant(*cluster, who, manifest("install-cilium.yaml", who, ns), {});
  if (HasFatalFailure()) return;
  const std::vector<kube::AccessCheck> chart_needs = {
      {"create", "rbac.authorization.k8s.io", "clusterroles", "", ""},
      {"create", "rbac.authorization.k8s.io", "clusterrolebindings", "", ""},
      {"escalate", "rbac.authorization.k8s.io", "clusterroles", "", ""},
      {"create", "apiextensions.k8s.io", "customresourcedefinitions", "", ""},
      {"create", "", "namespaces", "", ""},
      {"create", "apps", "daemonsets", "kube-system", ""},
      {"create", "apps", "deployments", "kube-system", ""},
      {"create", "", "secrets", "kube-system", ""},
      {"create", "", "serviceaccounts", "kube-system", ""},
      {"create", "policy", "poddisruptionbudgets", "kube-system", ""},
      {"delete", "", "pods", "default", ""},
  };
  for (const auto* identity : {&who, &other}) {
    auto api = connect_as(*identity);
    ASSERT_NE(api, nullptr);
    for (const auto& check : chart_needs) {
      auto allowed = api->can_i(check);
      ASSERT_TRUE(allowed) << allowed.error().message;
      EXPECT_EQ(*allowed, identity == &who)
          << check.verb << " " << check.resource << " in '" << check.namespace_name << "'";
    }
    // --force: other tests leave Cilium-looking objects in the shared cluster.
    const auto r =
        netpol(*identity, dir,
               {"install-cilium", "--dry-run", "--force", "--test-cluster", "--chart",
                (source_dir() / "charts/cilium-test").string(), "--cilium-namespace", ns});
    if (identity == &who) {
      EXPECT_EQ(r.exit_code, 0) << r.err;
      expect_no_missing_right(r);
    } else {
      EXPECT_EQ(r.exit_code, 1) << r.err;
      EXPECT_THAT(r.err, HasSubstr("grant `list daemonsets` cluster-wide or in kube-system"));
    }
  }
}

} // namespace
} // namespace netpol::test
