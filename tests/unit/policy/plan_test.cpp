// Profiles, rendering and planning against a small in-memory API.
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "policy/plan.hpp"
#include "policy/profiles.hpp"
#include "policy/validate.hpp"
#include "support/paths.hpp"
#include "unit/policy/in_memory_policy_api.hpp"

namespace netpol::policy {
namespace {

using nlohmann::json;
using test::InMemoryPolicyApi;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

const MapEnvironment k_env{
    {"CI_ENVIRONMENT_SLUG", "review-x"}, {"KUBE_NAMESPACE", "shop"}, {"CI_PROJECT_ID", "42"}};
const TemplateVariables k_vars(k_env);
const RenderOptions k_render{"42", "review-x", "shop"};

TEST(Profiles, EmbeddedProfilesAreTheFilesInProfilesDir) {
  std::vector<std::string> names;
  for (const auto& p : embedded_profiles()) {
    names.push_back(std::string(p.name));
    std::ifstream in(test::source_dir() / "profiles" / (std::string(p.name) + ".yaml"));
    std::stringstream text;
    text << in.rdbuf();
    EXPECT_EQ(text.str(), p.text) << p.name;
  }
  EXPECT_THAT(names, ElementsAre("gitlab", "namespace-isolation"));
}

TEST(Profiles, GitlabProfileIsAutoDevOpsDefault) {
  auto objects = load_profile("gitlab", &k_vars);
  ASSERT_TRUE(objects) << objects.error().message;
  ASSERT_EQ(objects->size(), 1u);
  const auto& o = (*objects)[0];
  EXPECT_TRUE(validate(o).ok());
  EXPECT_EQ(o.describe(), "NetworkPolicy/shop/netpol-gitlab-review-x");
  EXPECT_EQ(o.origin, "profile:gitlab");
  EXPECT_EQ(o.value["spec"]["podSelector"], json::object());
  EXPECT_EQ(o.value["spec"]["policyTypes"], json::array({"Ingress"}));
  const auto& from = o.value["spec"]["ingress"][0]["from"];
  EXPECT_EQ(from[0], json::parse(R"({"podSelector":{}})"));
  EXPECT_EQ(from[1]["namespaceSelector"]["matchLabels"]["app.gitlab.com/managed_by"], "gitlab");
}

json isolation_values(const ProfileOptions& options) {
  auto objects = load_profile("namespace-isolation", &k_vars, options);
  EXPECT_TRUE(objects);
  EXPECT_TRUE(validate((*objects)[0]).ok());
  return (*objects)[0]
      .value["spec"]["ingress"][0]["from"][2]["namespaceSelector"]["matchExpressions"][0]["values"];
}

TEST(Profiles, NamespaceIsolationNamespacesAndKnative) {
  EXPECT_EQ(isolation_values({}),
            json::array({"ingress-nginx", "gitlab-managed-apps", "monitoring"}));
  EXPECT_EQ(isolation_values({{}, true}),
            json::array({"ingress-nginx", "gitlab-managed-apps", "monitoring", "knative-serving"}));
  EXPECT_EQ(isolation_values({{"traefik"}, false}), json::array({"traefik"}));
}

TEST(Profiles, UnknownProfileAndUnsetVariableAreConfigErrors) {
  auto unknown = load_profile("strict", &k_vars);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, ErrorCode::config);
  EXPECT_THAT(unknown.error().message, HasSubstr("known: none, gitlab, namespace-isolation"));
  MapEnvironment empty;
  const TemplateVariables empty_vars(empty);
  auto unset = load_profile("gitlab", &empty_vars);
  ASSERT_FALSE(unset);
  EXPECT_EQ(unset.error().code, ErrorCode::config);
  EXPECT_THAT(unset.error().message, HasSubstr("CI_ENVIRONMENT_SLUG is not set"));
  auto none = load_profile("none", &empty_vars);
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
}

std::vector<PolicyObject> objects_from(const std::string& text) {
  auto loaded = load_policy_text(text, "p.yaml", {});
  EXPECT_TRUE(loaded.errors.empty());
  return loaded.policies;
}

const char* const k_web = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
                          "metadata:\n  name: web\n  labels: {team: a}\n"
                          "spec:\n  podSelector: {matchLabels: {app: web}}\n  ingress:\n"
                          "  - ports: [{port: 80}]\n";

TEST(Render, LabelsAnnotationAndNamespace) {
  auto desired = render_desired(objects_from(k_web), k_render);
  ASSERT_TRUE(desired) << desired.error().message;
  ASSERT_EQ(desired->size(), 1u);
  const auto& d = (*desired)[0];
  EXPECT_EQ(d["metadata"]["namespace"], "shop");
  EXPECT_EQ(d["metadata"]["labels"],
            json::parse(R"({"team":"a","app.kubernetes.io/managed-by":"netpol",
                            "app.gitlab.com/proj":"42","app.gitlab.com/env":"review-x",
                            "app.gitlab.com/project_id":"42",
                            "app.gitlab.com/environment_slug":"review-x"})"));
  EXPECT_EQ(d["metadata"]["annotations"]["netpol.gitlab.io/source"], "p.yaml");
  EXPECT_EQ(
      managed_selector(k_render),
      "app.kubernetes.io/managed-by=netpol,app.gitlab.com/proj=42,app.gitlab.com/env=review-x");
}

TEST(Render, OtherNamespaceAndMissingIdentityFail) {
  auto other = render_desired(objects_from(std::string(k_web).replace(
                                  std::string(k_web).find("  labels"), 0, "  namespace: prod\n")),
                              k_render);
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().code, ErrorCode::invalid_policy);
  EXPECT_THAT(other.error().message,
              HasSubstr("p.yaml:5: NetworkPolicy/prod/web: declares namespace prod"));
  auto missing = render_desired(objects_from(k_web), {"", "review-x", "shop"});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::config);
}

// The object as the API server returns it after applying `desired`: defaults filled in,
// server fields and other managers' metadata added.
json as_stored(json desired) {
  desired["metadata"]["resourceVersion"] = "17";
  desired["metadata"]["uid"] = "u-1";
  desired["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"] = "{}";
  desired["metadata"]["labels"]["added-by-someone"] = "x";
  desired["spec"]["policyTypes"] = json::array({"Ingress"});
  desired["spec"]["ingress"][0]["ports"][0]["protocol"] = "TCP";
  return desired;
}

TEST(Plan, ServerDefaultsAreNoChange) {
  auto desired = *render_desired(objects_from(k_web), k_render);
  InMemoryPolicyApi api;
  api.objects.push_back(as_stored(desired[0]));
  auto plan = make_plan(api, desired, k_render, true);
  ASSERT_TRUE(plan) << plan.error().message;
  ASSERT_EQ(plan->items.size(), 1u);
  EXPECT_EQ(plan->items[0].action, Action::unchanged) << plan->to_text();
  // One LIST for the only kind served: the whole namespace, so that names other objects hold
  // are seen (the managed ones are picked by their labels).
  EXPECT_THAT(api.log, ::testing::Contains("list networkpolicies shop "));
}

TEST(Plan, NamesHeldByOtherObjectsAreTaken) {
  auto desired =
      *render_desired(objects_from(std::string(k_web) + "---\n" +
                                   "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
                                   "metadata: {name: db}\nspec: {podSelector: {}}\n"
                                   "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
                                   "metadata: {name: api}\nspec: {podSelector: {}}\n"),
                      k_render);
  InMemoryPolicyApi api;
  // web: the same rules, but no labels at all (made by hand); db: netpol's, of another
  // environment of the project.
  json unlabelled = as_stored(desired[0]);
  unlabelled["metadata"].erase("labels");
  api.objects.push_back(unlabelled);
  json other_env = as_stored(desired[1]);
  other_env["metadata"]["labels"]["app.gitlab.com/env"] = "production";
  api.objects.push_back(other_env);

  for (bool prune : {true, false}) {
    auto plan = make_plan(api, desired, k_render, prune);
    ASSERT_TRUE(plan) << plan.error().message;
    ASSERT_EQ(plan->items.size(), 3u) << plan->to_text();
    EXPECT_EQ(plan->items[0].action, Action::taken);
    EXPECT_THAT(plan->items[0].diff,
                ElementsAre("exists and is not netpol's for this project and environment (it "
                            "has no netpol labels)"));
    EXPECT_EQ(plan->items[1].action, Action::taken);
    EXPECT_THAT(plan->items[1].diff,
                ElementsAre("exists and is not netpol's for this project and environment (its "
                            "labels: app.kubernetes.io/managed-by=netpol, app.gitlab.com/proj=42, "
                            "app.gitlab.com/env=production)"));
    EXPECT_EQ(plan->items[2].action, Action::create);
    EXPECT_EQ(plan->count(Action::prune), 0);
    EXPECT_THAT(plan->to_text(), HasSubstr("2 taken: an object netpol did not apply"));
    EXPECT_EQ(plan->to_json()["summary"]["taken"], 2);
  }
}

TEST(Plan, CreateUpdatePrune) {
  auto desired =
      *render_desired(objects_from(std::string(k_web) + "---\n" +
                                   "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
                                   "metadata: {name: db}\nspec: {podSelector: {}}\n"),
                      k_render);
  InMemoryPolicyApi api;
  json stored_web = as_stored(desired[0]);
  stored_web["spec"]["ingress"][0]["ports"][0]["port"] = 8080;
  api.objects.push_back(stored_web);
  json old = as_stored(desired[0]);
  old["metadata"]["name"] = "old";
  api.objects.push_back(old);
  json foreign = old;
  foreign["metadata"]["name"] = "foreign";
  foreign["metadata"]["labels"].erase("app.kubernetes.io/managed-by");
  api.objects.push_back(foreign);
  json other_env = old;
  other_env["metadata"]["name"] = "other-env";
  other_env["metadata"]["labels"]["app.gitlab.com/env"] = "production";
  api.objects.push_back(other_env);

  auto plan = make_plan(api, desired, k_render, true);
  ASSERT_TRUE(plan) << plan.error().message;
  ASSERT_EQ(plan->items.size(), 3u) << plan->to_text();
  EXPECT_EQ(plan->items[0].action, Action::update);
  EXPECT_THAT(plan->items[0].diff, ElementsAre("spec.ingress[0].ports[0].port: 8080 → 80"));
  EXPECT_EQ(plan->items[1].action, Action::create);
  EXPECT_EQ(plan->items[1].object, "NetworkPolicy/shop/db");
  EXPECT_EQ(plan->items[2].action, Action::prune);
  EXPECT_EQ(plan->items[2].object, "NetworkPolicy/shop/old");
  EXPECT_THAT(plan->to_text(), HasSubstr("1 to create, 1 to update, 0 unchanged, 1 to prune"));
  EXPECT_EQ(plan->to_json()["summary"]["prune"], 1);

  auto no_prune = make_plan(api, desired, k_render, false);
  ASSERT_TRUE(no_prune);
  EXPECT_EQ(no_prune->count(Action::prune), 0);
}

TEST(Plan, CiliumKindNotServedIsAConfigError) {
  auto desired = *render_desired(
      objects_from("apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: c}\n"
                   "spec: {endpointSelector: {}}\n"),
      k_render);
  InMemoryPolicyApi api;
  auto plan = make_plan(api, desired, k_render, true);
  ASSERT_FALSE(plan);
  EXPECT_EQ(plan.error().code, ErrorCode::config);
  api.cilium = true;
  auto served = make_plan(api, desired, k_render, true);
  ASSERT_TRUE(served) << served.error().message;
  EXPECT_EQ(served->items[0].action, Action::create);
}

// A team whose token may manage NetworkPolicies only still plans on a cluster that serves
// Cilium's kinds: the Cilium kinds it does not declare are left out with a warning. A kind it
// declares must be listable.
TEST(Plan, ForbiddenListOfAnUndeclaredKindIsAWarning) {
  auto desired = *render_desired(objects_from(k_web), k_render);
  InMemoryPolicyApi api;
  api.cilium = true;
  api.forbidden = {"ciliumnetworkpolicies", "ciliumclusterwidenetworkpolicies"};
  auto plan = make_plan(api, desired, k_render, true);
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_EQ(plan->items[0].action, Action::create);
  ASSERT_EQ(plan->warnings.size(), 2u);
  EXPECT_THAT(plan->warnings[0], HasSubstr("not allowed to list ciliumnetworkpolicies.cilium.io"));

  api.forbidden = {"networkpolicies"};
  auto denied = make_plan(api, desired, k_render, true);
  ASSERT_FALSE(denied);
  EXPECT_EQ(denied.error().http_status, 403);
}

} // namespace
} // namespace netpol::policy
