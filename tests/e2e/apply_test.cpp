// `netpol plan/apply/remove` against the real kube-apiserver: idempotent re-apply, update,
// prune of our objects only, conflicts, missing rights and all-or-nothing validation.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "detect/detection.hpp"
#include "support/run_cli.hpp"
#include "support/test_cluster.hpp"

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

std::string policy(const std::string& name, int port) {
  return "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: " + name +
         "}\nspec:\n  podSelector: {matchLabels: {app: " + name +
         "}}\n  ingress:\n"
         "  - ports: [{port: " +
         std::to_string(port) + "}]\n";
}

json app_pod(const std::string& ns, const std::string& name, const std::string& app) {
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata", {{"name", name}, {"namespace", ns}, {"labels", {{"app", app}}}}},
          {"spec", {{"containers", {{{"name", "main"}, {"image", "registry.invalid/a"}}}}}}};
}

struct ApplyFixture {
  const TestCluster* cluster;
  std::string ns;
  fs::path dir;
  fs::path policies;
  MapEnvironment env{{"CI_PROJECT_ID", "7"}, {"CI_ENVIRONMENT_SLUG", "review"}};
  bool without_policy_dir = false; // run with the default (absent) .gitlab/network-policies

  ApplyFixture(const TestCluster* c, const std::string& prefix) : cluster(c) {
    ns = cluster->create_namespace(prefix);
    dir = fs::temp_directory_path() / ("netpol-e2e-" + ns);
    policies = dir / "policies";
    fs::create_directories(policies);
    set_provider(true, false);
  }
  // The provider state `apply` decides by (as an earlier `netpol detect` wrote it).
  void set_provider(bool enforces, bool audit_mode) {
    detect::Detection d;
    d.provider.name = enforces ? detect::ProviderName::cilium : detect::ProviderName::flannel;
    d.provider.enforces_network_policy = enforces;
    d.provider.audit_mode = audit_mode;
    std::ofstream(dir / "provider.json", std::ios::trunc) << d.to_json().dump();
  }
  ~ApplyFixture() { fs::remove_all(dir); }

  void write(const std::string& name, const std::string& text) {
    std::ofstream(policies / (name + ".yaml")) << text;
  }
  CliResult run(const std::string& verb, std::vector<std::string> extra = {},
                const std::string& kubeconfig = "") {
    std::vector<std::string> args = {"--kubeconfig",
                                     kubeconfig.empty() ? cluster->kubeconfig : kubeconfig,
                                     "-n",
                                     ns,
                                     "--output-dir",
                                     (dir / "out").string(),
                                     verb};
    if (verb != "remove" && !without_policy_dir) {
      args.insert(args.end(), {"--policies", policies.string()});
    }
    if (verb == "apply") {
      args.insert(args.end(), {"--provider-file", (dir / "provider.json").string()});
      const bool has_mode = std::find(extra.begin(), extra.end(), "--mode") != extra.end();
      if (!has_mode) args.insert(args.end(), {"--mode", "enforce"});
    }
    args.insert(args.end(), extra.begin(), extra.end());
    return run_cli(args, env);
  }
  // Someone changes the ingress port of policy `name` (as written by policy()) with their own
  // field manager, taking the rules over (`kubectl apply --server-side --force-conflicts`).
  void kubectl_hot_fix(kube::KubeApi& api, const std::string& name, int port) {
    json theirs = {{"apiVersion", "networking.k8s.io/v1"},
                   {"kind", "NetworkPolicy"},
                   {"metadata", {{"name", name}, {"namespace", ns}}},
                   {"spec",
                    {{"podSelector", {{"matchLabels", {{"app", name}}}}},
                     {"ingress", json::array({{{"ports", json::array({{{"port", port}}})}}})}}}};
    kube::ApplyOptions kubectl;
    kubectl.field_manager = "kubectl";
    kubectl.force = true;
    auto applied = api.apply(theirs, kubectl);
    ASSERT_TRUE(applied.has_value()) << applied.error().message;
  }
  std::map<std::string, std::string> versions(kube::KubeApi& api) {
    std::map<std::string, std::string> out;
    auto items = api.list(kube::resources::network_policies, ns);
    EXPECT_TRUE(items.has_value());
    for (const auto& i : *items)
      out[i["metadata"]["name"]] = i["metadata"]["resourceVersion"];
    return out;
  }
};

TEST(Apply, ApplyReapplyUpdatePruneAndRemove) {
  NETPOL_REQUIRE_TEST_CLUSTER(cluster);
  auto api = cluster->admin();
  ApplyFixture f(cluster, "apply");
  // Someone else's policy in the same namespace: never touched.
  auto foreign = json::parse(R"({"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy",
      "metadata":{"name":"foreign"},"spec":{"podSelector":{}}})");
  foreign["metadata"]["namespace"] = f.ns;
  ASSERT_TRUE(api->create(foreign).has_value());
  f.write("web", policy("web", 80));
  f.write("db", policy("db", 5432));

  auto first = f.run("apply");
  ASSERT_EQ(first.exit_code, 0) << first.err << first.out;
  EXPECT_THAT(first.out, HasSubstr("2 applied, 0 unchanged"));
  auto web = api->get(kube::resources::network_policies, f.ns, "web");
  ASSERT_TRUE(web.has_value());
  EXPECT_EQ((*web)["metadata"]["labels"]["app.kubernetes.io/managed-by"], "netpol");
  EXPECT_EQ((*web)["metadata"]["labels"]["app.gitlab.com/proj"], "7");
  EXPECT_EQ((*web)["metadata"]["labels"]["app.gitlab.com/env"], "review");
  // GitLab's Kubernetes dashboard lists an environment's resources by these two.
  EXPECT_EQ((*web)["metadata"]["labels"]["app.gitlab.com/project_id"], "7");
  EXPECT_EQ((*web)["metadata"]["labels"]["app.gitlab.com/environment_slug"], "review");
  EXPECT_THAT((*web)["metadata"]["annotations"]["netpol.gitlab.io/source"].get<std::string>(),
              HasSubstr("web.yaml"));
  bool netpol_manager = false;
  for (const auto& m : (*web)["metadata"]["managedFields"])
    netpol_manager |= m["manager"] == "netpol";
  EXPECT_TRUE(netpol_manager);

  // Another project's policy in the same namespace, labelled like ours but for project 8.
  auto other = json::parse(R"({"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy",
      "metadata":{"name":"other-project","labels":{"app.kubernetes.io/managed-by":"netpol",
      "app.gitlab.com/proj":"8","app.gitlab.com/env":"review"}},"spec":{"podSelector":{}}})");
  other["metadata"]["namespace"] = f.ns;
  ASSERT_TRUE(api->create(other).has_value());

  // Re-apply: nothing sent, nothing changed. The request log (debug level) proves it: only
  // reads, no PATCH, POST or DELETE — but the permission checks, which create nothing.
  const auto before = f.versions(*api);
  auto again = f.run("apply", {"--log-level", "debug"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_THAT(again.out, HasSubstr("0 applied, 2 unchanged"));
  EXPECT_THAT(again.err,
              HasSubstr("GET /apis/networking.k8s.io/v1/namespaces/" + f.ns + "/networkpolicies"));
  const std::regex write("debug: (PATCH|POST|DELETE|PUT) (?!/apis/authorization.k8s.io/v1/"
                         "selfsubjectaccessreviews )");
  EXPECT_FALSE(std::regex_search(again.err, write)) << again.err;
  EXPECT_EQ(f.versions(*api), before);

  // Update one, drop the other: one update, one prune, foreign untouched.
  f.write("web", policy("web", 8080));
  fs::remove(f.policies / "db.yaml");
  auto plan = f.run("plan");
  ASSERT_EQ(plan.exit_code, 0) << plan.err;
  // Every plan with changes says what they do to connectivity.
  EXPECT_THAT(plan.out, ::testing::ContainsRegex("connectivity: [0-9]+ pod pair\\(s\\) newly "
                                                 "denied, [0-9]+ newly allowed"));
  EXPECT_THAT(plan.out, HasSubstr("spec.ingress[0].ports[0].port: 80 → 8080"));
  EXPECT_THAT(plan.out, HasSubstr("prune     NetworkPolicy/" + f.ns + "/db"));
  auto update = f.run("apply");
  ASSERT_EQ(update.exit_code, 0) << update.err;
  auto after = f.versions(*api);
  EXPECT_EQ(after.count("db"), 0u);
  EXPECT_EQ(after.count("foreign"), 1u);
  EXPECT_EQ(after["foreign"], before.at("foreign"));
  EXPECT_EQ(after["other-project"], before.at("other-project"));
  EXPECT_NE(after["web"], before.at("web"));

  auto removed = f.run("remove");
  ASSERT_EQ(removed.exit_code, 0) << removed.err;
  EXPECT_THAT(read_file(f.dir / "out" / "metrics.txt"), HasSubstr("netpol_policies_removed 1\n"));
  auto left = f.versions(*api);
  EXPECT_EQ(left.size(), 2u);
  EXPECT_EQ(left.count("foreign"), 1u);
  EXPECT_EQ(left.count("other-project"), 1u);
}

// SPEC §4: what each mode does with each provider state. Nothing is written unless the
// mode and the provider allow it.
TEST(Apply, ModeDecisionsAgainstProviderStates) {
  NETPOL_REQUIRE_TEST_CLUSTER(cluster);
  auto api = cluster->admin();
  ApplyFixture f(cluster, "apply-modes");
  f.write("web", policy("web", 80));

  auto off = f.run("apply", {"--mode", "off"});
  EXPECT_EQ(off.exit_code, 0) << off.err;
  EXPECT_THAT(off.err, HasSubstr("mode off: nothing applied"));
  EXPECT_TRUE(f.versions(*api).empty());

  // Enforcing provider, mode audit: nothing applied (it would block), and the analysis says
  // what it would block: the client can no longer reach web on any port but 80.
  create_running_pod(*api, app_pod(f.ns, "web", "web"), "10.96.8.1");
  create_running_pod(*api, app_pod(f.ns, "client", "client"), "10.96.8.2");
  if (HasFatalFailure()) return;
  f.set_provider(true, false);
  auto audit_enforcing = f.run("apply", {"--mode", "audit"});
  EXPECT_EQ(audit_enforcing.exit_code, 0) << audit_enforcing.err;
  EXPECT_THAT(audit_enforcing.err, HasSubstr("mode audit, but the provider (cilium) enforces"));
  EXPECT_THAT(audit_enforcing.err, ::testing::ContainsRegex("would newly deny [1-9][0-9]* pod"));
  EXPECT_TRUE(f.versions(*api).empty());
  const auto connectivity = read_file(f.dir / "out" / "connectivity.txt");
  EXPECT_THAT(connectivity, HasSubstr(f.ns + "/client"));
  EXPECT_THAT(read_file(f.dir / "out" / "junit-apply.xml"),
              HasSubstr("pod pairs would be newly denied"));

  // No enforcement at all: skipped with a warning, or exit 4 when enforcement is required.
  f.set_provider(false, false);
  auto none = f.run("apply", {"--mode", "enforce"});
  EXPECT_EQ(none.exit_code, 0) << none.err;
  EXPECT_THAT(none.err, HasSubstr("does not enforce NetworkPolicy"));
  auto required = f.run("apply", {"--mode", "enforce", "--require-enforcement"});
  EXPECT_EQ(required.exit_code, 4) << required.err;
  EXPECT_TRUE(f.versions(*api).empty());
  const auto junit = read_file(f.dir / "out" / "junit-apply.xml");
  EXPECT_THAT(junit, HasSubstr("<failure"));

  // Provider in audit mode: audit applies (nothing gets blocked) ...
  f.set_provider(true, true);
  auto audit = f.run("apply", {"--mode", "audit"});
  EXPECT_EQ(audit.exit_code, 0) << audit.err;
  EXPECT_EQ(f.versions(*api).count("web"), 1u);
  // ... and enforce applies too, warning that nothing is blocked yet.
  f.write("web", policy("web", 81));
  auto enforce = f.run("apply", {"--mode", "enforce"});
  EXPECT_EQ(enforce.exit_code, 0) << enforce.err;
  EXPECT_THAT(enforce.err, HasSubstr("audit mode"));
  EXPECT_THAT(enforce.out, HasSubstr("1 applied, 0 unchanged"));

  // Pruning web's policy opens its other ports again: the plan's analysis counts the pruned
  // policy as in force now and gone after.
  fs::remove(f.policies / "web.yaml");
  f.write("other", policy("other", 80));
  auto prune = f.run("plan");
  EXPECT_EQ(prune.exit_code, 0) << prune.err;
  EXPECT_THAT(prune.out, HasSubstr("prune     NetworkPolicy/" + f.ns + "/web"));
  EXPECT_THAT(prune.out, ::testing::ContainsRegex("connectivity: 0 pod pair\\(s\\) newly denied, "
                                                  "[1-9][0-9]* newly allowed"));
}

// A hostNetwork pod is the node (NetworkPolicy selects it by no pod selector): a plan that
// isolates its namespace never names it as newly denied, even when its labels match.
TEST(Plan, HostNetworkPodsAreNeverNewlyDenied) {
  NETPOL_REQUIRE_TEST_CLUSTER(cluster);
  auto api = cluster->admin();
  ApplyFixture f(cluster, "plan-hostnet");
  create_running_pod(*api, app_pod(f.ns, "web", "web"), "10.96.9.1");
  create_running_pod(*api, app_pod(f.ns, "client", "client"), "10.96.9.2");
  const std::vector<std::pair<std::string, std::string>> host_pods = {{"node-agent", "client"},
                                                                      {"web-host", "web"}};
  for (const auto& [name, app] : host_pods) {
    auto host = app_pod(f.ns, name, app);
    host["spec"]["hostNetwork"] = true;
    create_running_pod(*api, host, "172.31.0.10");
  }
  if (HasFatalFailure()) return;
  f.write("web", policy("web", 80));

  auto plan = f.run("plan");
  ASSERT_EQ(plan.exit_code, 0) << plan.err;
  EXPECT_THAT(plan.out, ::testing::ContainsRegex("connectivity: [1-9][0-9]* pod pair\\(s\\) "
                                                 "newly denied"));
  const auto results = json::parse(read_file(f.dir / "out" / "connectivity.json"));
  bool client_to_web = false;
  for (const auto& port : results) {
    for (const auto& pair : port["newly_denied"]) {
      const std::string from = pair["from"], to = pair["to"];
      for (const auto& name : {from, to}) {
        EXPECT_NE(name, f.ns + "/node-agent");
        EXPECT_NE(name, f.ns + "/web-host");
      }
      client_to_web |= from == f.ns + "/client" && to == f.ns + "/web";
    }
  }
  EXPECT_TRUE(client_to_web) << results.dump();
  const auto text = read_file(f.dir / "out" / "connectivity.txt");
  EXPECT_THAT(text, Not(HasSubstr("node-agent")));
  EXPECT_THAT(text, Not(HasSubstr("web-host")));
}

// A job that cannot see the repository (no policy directory, no profile) must not read the
// empty set as "delete everything applied earlier".
TEST(Apply, NothingDeclaredPrunesNothing) {
  NETPOL_REQUIRE_TEST_CLUSTER(cluster);
  auto api = cluster->admin();
  ApplyFixture f(cluster, "apply-undeclared");
  f.write("web", policy("web", 80));
  ASSERT_EQ(f.run("apply").exit_code, 0);
  f.without_policy_dir = true;
  auto r = f.run("apply");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("no policies are declared here"));
  EXPECT_EQ(f.versions(*api).count("web"), 1u);
}

TEST(Apply, DryRunStoresNothing) {
  NETPOL_REQUIRE_TEST_CLUSTER(cluster);
  auto api = cluster->admin();
  ApplyFixture f(cluster, "apply-dry");
  f.write("web", policy("web", 80));
  auto r = f.run("apply", {"--dry-run"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("1 applied, 0 unchanged, 0 pruned (dry run)"));
  EXPECT_TRUE(f.versions(*api).empty());
  // The plan files are written all the same.
  EXPECT_THAT(read_file(f.dir / "out" / "plan.txt"),
              HasSubstr("create    NetworkPolicy/" + f.ns + "/web"));
  EXPECT_THAT(read_file(f.dir / "out" / "policies.yaml"), HasSubstr("app.gitlab.com/proj: \"7\""));
}

TEST(Apply, NoPruneAndNoWriteWhenAnApplyWouldFail) {
  NETPOL_REQUIRE_TEST_CLUSTER(cluster);
  auto api = cluster->admin();
  ApplyFixture f(cluster, "apply-noprune");
  f.write("web", policy("web", 80));
  f.write("db", policy("db", 5432));
  f.write("api", policy("api", 8000));
  ASSERT_EQ(f.run("apply").exit_code, 0);
  // db leaves the repo, api changes, and web now collides with a field kubectl owns: the
  // server-side dry run finds the conflict before the first write, so neither the change to
  // api is written nor db pruned.
  fs::remove(f.policies / "db.yaml");
  f.kubectl_hot_fix(*api, "web", 9090);
  const auto before = f.versions(*api);
  f.write("web", policy("web", 8080));
  f.write("api", policy("api", 8001));
  auto r = f.run("apply");
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr("--force-conflicts takes them over); nothing was applied"));
  EXPECT_EQ(f.versions(*api), before) << "nothing written, nothing pruned";
  const auto junit = read_file(f.dir / "out" / "junit-apply.xml");
  EXPECT_THAT(junit, HasSubstr("name=\"dry run NetworkPolicy/" + f.ns + "/web\""));
  EXPECT_THAT(junit, HasSubstr("not pruned: the server-side dry run failed"));
  EXPECT_THAT(junit, HasSubstr("not applied: the server-side dry run failed"));
}

TEST(Apply, OneInvalidAmongTenWritesNothing) {
  NETPOL_REQUIRE_TEST_CLUSTER(cluster);
  auto api = cluster->admin();
  ApplyFixture f(cluster, "apply-invalid");
  for (int i = 0; i < 9; ++i)
    f.write("p" + std::to_string(i), policy("p" + std::to_string(i), 80 + i));
  f.write("bad", policy("bad", 70000));
  auto r = f.run("apply");
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_THAT(r.out, HasSubstr("bad.yaml:7: error: NetworkPolicy/bad: "
                               "spec.ingress[0].ports[0].port: Invalid value: 70000"));
  EXPECT_TRUE(f.versions(*api).empty());
}

TEST(Apply, ConflictWithAnotherManagersField) {
  NETPOL_REQUIRE_TEST_CLUSTER(cluster);
  auto api = cluster->admin();
  ApplyFixture f(cluster, "apply-conflict");
  f.write("web", policy("web", 80));
  auto first = f.run("apply");
  ASSERT_EQ(first.exit_code, 0) << first.err;
  // Someone changes our object's rules with their own field manager (a hot fix with kubectl).
  f.kubectl_hot_fix(*api, "web", 9090);
  f.write("web", policy("web", 8080));
  auto r = f.run("apply");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("conflict"));
  EXPECT_THAT(r.err, HasSubstr("--force-conflicts"));
  auto kept = api->get(kube::resources::network_policies, f.ns, "web");
  ASSERT_TRUE(kept.has_value());
  EXPECT_EQ((*kept)["spec"]["ingress"][0]["ports"][0]["port"], 9090);
  auto forced = f.run("apply", {"--force-conflicts"});
  EXPECT_EQ(forced.exit_code, 0) << forced.err;
  auto web = api->get(kube::resources::network_policies, f.ns, "web");
  ASSERT_TRUE(web.has_value());
  EXPECT_EQ((*web)["spec"]["ingress"][0]["ports"][0]["port"], 8080);
}

// SPEC §6: objects without our labels are never touched. Server-side apply would take over an
// unlabelled object whose fields hold the same values without any conflict (and a later prune
// would delete it), and would relabel another project's object: netpol refuses both before
// the first write, --force-conflicts or not.
TEST(Apply, NameTakenByAnotherObjectIsRefusedBeforeAnyWrite) {
  NETPOL_REQUIRE_TEST_CLUSTER(cluster);
  auto api = cluster->admin();
  ApplyFixture f(cluster, "apply-taken");
  auto unlabelled = json::parse(R"({"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy",
      "metadata":{"name":"web"},"spec":{"podSelector":{"matchLabels":{"app":"web"}},
      "ingress":[{"ports":[{"port":80,"protocol":"TCP"}]}]}})");
  unlabelled["metadata"]["namespace"] = f.ns;
  kube::ApplyOptions kubectl;
  kubectl.field_manager = "kubectl";
  ASSERT_TRUE(api->apply(unlabelled, kubectl).has_value());
  auto other_project = json::parse(R"({"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy",
      "metadata":{"name":"db","labels":{"app.kubernetes.io/managed-by":"netpol",
      "app.gitlab.com/proj":"8","app.gitlab.com/env":"review"}},"spec":{"podSelector":{}}})");
  other_project["metadata"]["namespace"] = f.ns;
  ASSERT_TRUE(api->create(other_project).has_value());
  f.write("web", policy("web", 80)); // the same rules as the unlabelled object
  f.write("db", policy("db", 5432));
  f.write("api", policy("api", 8080));
  const auto before = f.versions(*api);

  for (const auto& extra : {std::vector<std::string>{}, {"--force-conflicts"}}) {
    auto r = f.run("apply", extra);
    EXPECT_EQ(r.exit_code, 3) << r.err;
    EXPECT_THAT(r.err, HasSubstr("nothing was applied"));
    EXPECT_EQ(f.versions(*api), before); // neither changed, "api" not created
  }
  const auto plan_txt = read_file(f.dir / "out" / "plan.txt");
  EXPECT_THAT(plan_txt, HasSubstr("taken     NetworkPolicy/" + f.ns +
                                  "/web\n"
                                  "            exists and is not netpol's for this project and "
                                  "environment (it has no netpol labels)"));
  EXPECT_THAT(plan_txt, HasSubstr("taken     NetworkPolicy/" + f.ns +
                                  "/db\n"
                                  "            exists and is not netpol's for this project and "
                                  "environment (its labels: app.kubernetes.io/managed-by=netpol, "
                                  "app.gitlab.com/proj=8, app.gitlab.com/env=review)"));
  EXPECT_THAT(plan_txt, HasSubstr("create    NetworkPolicy/" + f.ns + "/api"));
  const auto junit = read_file(f.dir / "out" / "junit-apply.xml");
  EXPECT_THAT(junit, HasSubstr("taken NetworkPolicy/" + f.ns + "/web"));
  EXPECT_THAT(junit, HasSubstr("taken NetworkPolicy/" + f.ns + "/db"));
  auto planned = f.run("plan");
  EXPECT_EQ(planned.exit_code, 3);

  // Handing the unlabelled object over is explicit: someone gives it our three labels. Then
  // it is netpol's to update (once with --force-conflicts, as kubectl still owns its rules)
  // and, one day, to prune.
  auto labels = json::parse(R"({"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy",
      "metadata":{"name":"web","labels":{"app.kubernetes.io/managed-by":"netpol",
      "app.gitlab.com/proj":"7","app.gitlab.com/env":"review"}}})");
  labels["metadata"]["namespace"] = f.ns;
  kube::ApplyOptions owner;
  owner.field_manager = "operator";
  auto handed = api->apply(labels, owner);
  ASSERT_TRUE(handed.has_value()) << handed.error().message;
  fs::remove(f.policies / "db.yaml");
  auto adopted = f.run("apply", {"--force-conflicts"});
  EXPECT_EQ(adopted.exit_code, 0) << adopted.err;
  EXPECT_THAT(adopted.out, HasSubstr("2 applied, 0 unchanged, 0 pruned"));
  EXPECT_EQ(f.versions(*api).at("db"), before.at("db"));
}

TEST(Apply, MissingRightsAreListedAndNothingIsWritten) {
  NETPOL_REQUIRE_TEST_CLUSTER(cluster);
  auto api = cluster->admin();
  ApplyFixture f(cluster, "apply-rbac");
  f.write("web", policy("web", 80));
  const auto kc =
      cluster->write_kubeconfig((f.dir / "kc").string(), "token: " + cluster->nobody_token);
  auto r = f.run("apply", {}, kc);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("forbidden"));
  EXPECT_THAT(r.err, ::testing::Not(HasSubstr(cluster->nobody_token)));
  EXPECT_TRUE(f.versions(*api).empty());
}

TEST(Apply, PreflightListsMissingVerbsBeforeAnyWrite) {
  NETPOL_REQUIRE_TEST_CLUSTER(cluster);
  auto api = cluster->admin();
  ApplyFixture f(cluster, "apply-preflight");
  // The limited user may read policies in this namespace, and nothing else.
  auto role = json::parse(R"({"apiVersion":"rbac.authorization.k8s.io/v1","kind":"Role",
      "metadata":{"name":"read-netpol"},"rules":[{"apiGroups":["networking.k8s.io"],
      "resources":["networkpolicies"],"verbs":["get","list"]}]})");
  role["metadata"]["namespace"] = f.ns;
  ASSERT_TRUE(api->create(role).has_value());
  auto binding = json::parse(R"({"apiVersion":"rbac.authorization.k8s.io/v1","kind":"RoleBinding",
      "metadata":{"name":"read-netpol"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io",
      "kind":"Role","name":"read-netpol"},"subjects":[{"kind":"User","name":"limited",
      "apiGroup":"rbac.authorization.k8s.io"}]})");
  binding["metadata"]["namespace"] = f.ns;
  ASSERT_TRUE(api->create(binding).has_value());
  f.write("web", policy("web", 80));
  const auto kc =
      cluster->write_kubeconfig((f.dir / "kc").string(), "token: " + cluster->limited_token);
  auto r = f.run("apply", {}, kc);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("missing permissions, nothing was changed"));
  EXPECT_THAT(r.err, HasSubstr("create networkpolicies.networking.k8s.io in namespace " + f.ns));
  EXPECT_THAT(r.err, HasSubstr("patch networkpolicies.networking.k8s.io in namespace " + f.ns));
  EXPECT_TRUE(f.versions(*api).empty());
}

} // namespace
} // namespace netpol::test
