// The desired state: what counts as declared, the identity it needs, and templates, profiles
// and discovery as build_desired puts them together.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "policy/desired.hpp"
#include "support/temp_dir.hpp"
#include "unit/policy/in_memory_policy_api.hpp"

namespace netpol::policy {
namespace {

using netpol::test::TempDir;
using test::InMemoryPolicyApi;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

const RenderOptions k_render{"42", "review-x", "shop"};

TEST(PoliciesDeclared, TheDefaultDirectoryMayBeAbsentAnyOtherPathCounts) {
  DesiredOptions options; // the default directory, relative: absent from the test's cwd
  EXPECT_FALSE(policies_declared(options));
  options.profile = "gitlab";
  EXPECT_TRUE(policies_declared(options));
  options.profile = "";
  EXPECT_FALSE(policies_declared(options));
  options.path = "no/such/dir"; // a typo must be an error, not "no policies"
  EXPECT_TRUE(policies_declared(options));
}

TEST(RequireIdentity, ProjectAndEnvironmentMustBeSet) {
  EXPECT_TRUE(require_identity(k_render));
  for (const RenderOptions& r :
       {RenderOptions{"", "review-x", "shop"}, RenderOptions{"42", "", "shop"}}) {
    auto missing = require_identity(r);
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, ErrorCode::config);
    EXPECT_THAT(missing.error().message, HasSubstr("CI_PROJECT_ID and CI_ENVIRONMENT_SLUG"));
  }
}

class BuildDesired : public ::testing::Test {
protected:
  BuildDesired() {
    m_dir.write("p/web.yaml", "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
                              "metadata: {name: web, labels: {ns: '${KUBE_NAMESPACE}'}}\n"
                              "spec: {podSelector: {}}\n");
    m_options.path = m_dir.file("p");
  }
  TempDir m_dir;
  MapEnvironment m_env;
  InMemoryPolicyApi m_api;
  DesiredOptions m_options;
};

TEST_F(BuildDesired, TemplatesSeeTheNamespaceAppliedToUnlessGivenOne) {
  auto state = build_desired(m_options, k_render, m_env, m_api);
  ASSERT_TRUE(state) << state.error().message;
  EXPECT_TRUE(state->declared);
  ASSERT_EQ(state->desired.size(), 1u);
  EXPECT_EQ(state->desired[0]["metadata"]["labels"]["ns"], "shop");
  EXPECT_EQ(state->desired[0]["metadata"]["labels"]["app.gitlab.com/proj"], "42");
  EXPECT_EQ(state->sources.size(), 1u);

  m_options.vars = {{"KUBE_NAMESPACE", "given"}};
  state = build_desired(m_options, k_render, m_env, m_api);
  ASSERT_TRUE(state) << state.error().message;
  EXPECT_EQ(state->desired[0]["metadata"]["labels"]["ns"], "given");
  EXPECT_THAT(m_api.log, IsEmpty()); // no profile: no discovery
}

TEST_F(BuildDesired, NamespaceIsolationAllowsKnativeWhereItIsServed) {
  m_options.profile = "namespace-isolation";
  m_options.allowed_namespaces = {"ingress"};
  m_api.groups = {"apps", "serving.knative.dev"};
  m_env.set("CI_ENVIRONMENT_SLUG", "review-x"); // the profile's templates read it
  auto state = build_desired(m_options, k_render, m_env, m_api);
  ASSERT_TRUE(state) << state.error().message;
  EXPECT_THAT(m_api.log, Contains("api groups"));
  ASSERT_GE(state->desired.size(), 2u);
  std::string profile;
  for (size_t i = 1; i < state->desired.size(); ++i)
    profile += state->desired[i].dump();
  EXPECT_THAT(profile, HasSubstr("knative-serving"));
  EXPECT_THAT(profile, HasSubstr("\"ingress\""));
  EXPECT_THAT(profile, Not(HasSubstr("ingress-nginx")));
}

TEST_F(BuildDesired, InvalidPoliciesAreAReportNotAFailure) {
  m_dir.write("p/bad.yaml", "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
                            "metadata: {name: Bad}\nspec: {podSelector: {}}\n");
  auto state = build_desired(m_options, k_render, m_env, m_api);
  ASSERT_TRUE(state) << state.error().message;
  EXPECT_TRUE(state->check.has_errors());
  EXPECT_THAT(state->desired, IsEmpty());
}

TEST_F(BuildDesired, NoIdentityIsAConfigurationError) {
  auto state = build_desired(m_options, {"42", "", "shop"}, m_env, m_api);
  ASSERT_FALSE(state);
  EXPECT_EQ(state.error().code, ErrorCode::config);
}

} // namespace
} // namespace netpol::policy
