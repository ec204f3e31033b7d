// The apply workflow against an in-memory API: the decision by mode and provider, the
// permission preflight, the server's dry run before the writes, and pruning.
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "policy/apply.hpp"
#include "policy/preflight.hpp"
#include "support/temp_dir.hpp"
#include "unit/policy/in_memory_policy_api.hpp"

namespace netpol::policy {
namespace {

using netpol::test::TempDir;
using nlohmann::json;
using test::InMemoryPolicyApi;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

const RenderOptions k_render{"42", "review-x", "shop"};

detect::Provider provider(bool enforces, bool audit_mode) {
  detect::Provider p;
  p.name = detect::ProviderName::cilium;
  p.enforces_network_policy = enforces;
  p.audit_mode = audit_mode;
  return p;
}

TEST(PolicyMode, ParsesTheThreeModesOnly) {
  EXPECT_EQ(*parse_policy_mode("off", "--mode"), PolicyMode::off);
  EXPECT_EQ(*parse_policy_mode("audit", "--mode"), PolicyMode::audit);
  EXPECT_EQ(*parse_policy_mode("enforce", "--mode"), PolicyMode::enforce);
  auto bad = parse_policy_mode("Enforce", "--mode (NETWORK_POLICY_MODE)");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::usage);
  EXPECT_EQ(bad.error().message,
            "--mode (NETWORK_POLICY_MODE): invalid value 'Enforce': use off, audit or enforce");
}

TEST(Refusal, ModeAndProviderDecideWhetherToApply) {
  const auto enforcing = provider(true, false);
  const auto auditing = provider(true, true);
  const auto ignoring = provider(false, false);

  EXPECT_FALSE(refusal(PolicyMode::enforce, &enforcing, true));
  EXPECT_FALSE(refusal(PolicyMode::enforce, &auditing, false)); // applied, with a warning
  EXPECT_FALSE(refusal(PolicyMode::audit, &auditing, false));

  auto off = refusal(PolicyMode::off, nullptr, true);
  ASSERT_TRUE(off);
  EXPECT_THAT(off->why, HasSubstr("mode off: nothing applied"));
  EXPECT_FALSE(off->check_failed);

  auto audit = refusal(PolicyMode::audit, &enforcing, false);
  ASSERT_TRUE(audit);
  EXPECT_EQ(audit->why, "mode audit, but the provider (cilium) enforces: applying would block "
                        "traffic, so nothing was applied");
  EXPECT_FALSE(audit->check_failed);

  for (bool require : {false, true}) {
    auto none = refusal(PolicyMode::enforce, &ignoring, require);
    ASSERT_TRUE(none);
    EXPECT_EQ(none->why,
              "the network provider (cilium) does not enforce NetworkPolicy: nothing applied");
    EXPECT_EQ(none->check_failed, require);
  }
}

json network_policy(const std::string& name) {
  return {{"apiVersion", "networking.k8s.io/v1"},
          {"kind", "NetworkPolicy"},
          {"metadata", {{"name", name}, {"namespace", "shop"}}},
          {"spec", {{"podSelector", json::object()}}}};
}

PlanItem item(Action action, const std::string& name) {
  PlanItem i;
  i.action = action;
  i.object = "NetworkPolicy/shop/" + name;
  (action == Action::prune ? i.live : i.desired) = network_policy(name);
  return i;
}

TEST(Preflight, AsksForEveryVerbTheWritesNeedAndListsTheMissingOnes) {
  Plan plan;
  plan.items = {item(Action::create, "a"), item(Action::update, "b"), item(Action::unchanged, "c"),
                item(Action::prune, "d")};
  InMemoryPolicyApi api;
  api.denied = {"patch networkpolicies shop", "delete networkpolicies shop"};
  AccessAnswers answers(api);
  auto checked = preflight(api, plan, true, answers);
  ASSERT_FALSE(checked);
  EXPECT_EQ(checked.error().http_status, 403);
  EXPECT_THAT(checked.error().message,
              HasSubstr("apply: missing permissions, nothing was changed: delete "
                        "networkpolicies.networking.k8s.io in namespace shop, patch "
                        "networkpolicies.networking.k8s.io in namespace shop (grant them"));
  EXPECT_THAT(checked.error().details,
              ElementsAre("delete networkpolicies.networking.k8s.io in namespace shop",
                          "patch networkpolicies.networking.k8s.io in namespace shop"));
  EXPECT_THAT(api.asked, Contains("create networkpolicies shop"));
}

TEST(Preflight, AsksNothingTwiceAndNoDeleteWithoutPrune) {
  Plan plan;
  plan.items = {item(Action::create, "a"), item(Action::prune, "d")};
  InMemoryPolicyApi api;
  api.denied = {"delete networkpolicies shop"};
  AccessAnswers answers(api);
  answers.ask(likely_questions("shop"));
  EXPECT_TRUE(preflight(api, plan, false, answers));
  // The questions go out concurrently: wait for every answer before counting.
  for (const auto& q : likely_questions("shop"))
    (void)answers.answer(q);
  EXPECT_EQ(api.asked.size(), 3u); // the likely questions, answered once
}

class ApplyWorkflow : public ::testing::Test {
protected:
  ApplyWorkflow() {
    m_dir.write("policies/web.yaml", "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
                                     "metadata: {name: web}\n"
                                     "spec:\n  podSelector: {matchLabels: {app: web}}\n"
                                     "  policyTypes: [Ingress]\n");
    m_options.plan.desired.path = m_dir.file("policies");
    m_options.plan.render = k_render;
  }
  // An object netpol applied for this project and environment earlier.
  void applied_earlier(const std::string& name) {
    json o = network_policy(name);
    o["metadata"]["labels"] = {{"app.kubernetes.io/managed-by", "netpol"},
                               {"app.gitlab.com/proj", "42"},
                               {"app.gitlab.com/env", "review-x"}};
    m_api.objects.push_back(o);
  }
  Result<ApplyOutcome> apply(const detect::Provider* p) {
    report::Session session{m_out, report::Format::text, m_reporter, m_reports, m_output};
    return policy::apply(m_options, p, m_env, m_api, session, m_reports.junit("apply"));
  }
  std::vector<std::string> cases(report::CaseStatus status) {
    std::vector<std::string> out;
    for (const auto& c : m_reports.junit("apply").cases())
      if (c.status == status) out.push_back(c.name);
    return out;
  }

  TempDir m_dir;
  MapEnvironment m_env;
  InMemoryPolicyApi m_api;
  ApplyOptions m_options;
  std::ostringstream m_out, m_err;
  report::Reporter m_reporter{m_err, report::ReporterStyle::plain, false, false};
  report::OutputDir m_output{m_dir.path() / "out"};
  report::ReportSet m_reports{m_output, "netpol apply"};
};

TEST_F(ApplyWorkflow, ModeOffPlansAndWritesNothing) {
  auto outcome = apply(nullptr);
  ASSERT_TRUE(outcome) << outcome.error().message;
  EXPECT_FALSE(outcome->allowed);
  EXPECT_THAT(outcome->decision, HasSubstr("mode off: nothing applied"));
  EXPECT_EQ(outcome->plan.count(Action::create), 1);
  EXPECT_THAT(m_api.applied, IsEmpty());
  EXPECT_THAT(m_api.asked, IsEmpty());
  EXPECT_THAT(cases(report::CaseStatus::skipped), Contains("policies applied"));
  EXPECT_THAT(m_dir.read("out/plan.txt"), HasSubstr("create    NetworkPolicy/shop/web"));
  EXPECT_THAT(m_out.str(), HasSubstr("NetworkPolicy/shop/web"));
}

TEST_F(ApplyWorkflow, EnforceHasTheServerCheckFirstThenAppliesAndPrunes) {
  applied_earlier("old");
  m_options.mode = PolicyMode::enforce;
  const auto enforcing = provider(true, false);
  auto outcome = apply(&enforcing);
  ASSERT_TRUE(outcome) << outcome.error().message;
  EXPECT_TRUE(outcome->allowed);
  EXPECT_EQ(outcome->applied, 1);
  EXPECT_EQ(outcome->pruned, 1);
  EXPECT_THAT(m_api.applied,
              ElementsAre("NetworkPolicy/shop/web (dry run)", "NetworkPolicy/shop/web"));
  EXPECT_THAT(m_api.removed, ElementsAre("networkpolicies shop/old"));
  EXPECT_THAT(cases(report::CaseStatus::passed), Contains("create NetworkPolicy/shop/web"));
  EXPECT_THAT(cases(report::CaseStatus::passed), Contains("prune NetworkPolicy/shop/old"));
}

TEST_F(ApplyWorkflow, WithoutPruneWhatWasAppliedEarlierStays) {
  applied_earlier("old");
  m_options.mode = PolicyMode::enforce;
  m_options.plan.prune = false;
  // Nothing is deleted, so the delete permission is not needed.
  m_api.denied = {"delete networkpolicies shop"};
  const auto enforcing = provider(true, false);
  auto outcome = apply(&enforcing);
  ASSERT_TRUE(outcome) << outcome.error().message;
  EXPECT_EQ(outcome->plan.count(Action::prune), 0);
  EXPECT_THAT(m_api.removed, IsEmpty());
}

TEST_F(ApplyWorkflow, NothingDeclaredHereIsNoReasonToDeleteEverything) {
  applied_earlier("old");
  m_options.mode = PolicyMode::enforce;
  // Relative, so looked for in the test's working directory (the build tree), where it is not.
  m_options.plan.desired.path = defaults::k_policy_dir;
  const auto enforcing = provider(true, false);
  auto outcome = apply(&enforcing);
  ASSERT_TRUE(outcome) << outcome.error().message;
  EXPECT_EQ(outcome->plan.count(Action::prune), 1);
  EXPECT_EQ(outcome->pruned, 0);
  EXPECT_THAT(m_api.removed, IsEmpty());
  EXPECT_THAT(m_err.str(), HasSubstr("no policies are declared here (no .gitlab/network-policies "
                                     "directory, NETWORK_POLICY_DEFAULT none)"));
}

TEST_F(ApplyWorkflow, AMissingPermissionWritesNothing) {
  m_options.mode = PolicyMode::enforce;
  m_api.denied = {"create networkpolicies shop"};
  const auto enforcing = provider(true, false);
  auto outcome = apply(&enforcing);
  ASSERT_FALSE(outcome);
  EXPECT_EQ(outcome.error().http_status, 403);
  EXPECT_THAT(m_api.applied, IsEmpty());
  EXPECT_THAT(cases(report::CaseStatus::failed), Contains("permissions to apply"));
}

TEST_F(ApplyWorkflow, RequiredEnforcementFailsWhenTheProviderDoesNotEnforce) {
  m_options.mode = PolicyMode::enforce;
  m_options.require_enforcement = true;
  const auto ignoring = provider(false, false);
  auto outcome = apply(&ignoring);
  ASSERT_FALSE(outcome);
  EXPECT_EQ(outcome.error().code, ErrorCode::check_failed);
  EXPECT_THAT(outcome.error().message, HasSubstr("(NETWORK_POLICY_REQUIRE_ENFORCEMENT)"));
  EXPECT_THAT(m_api.applied, IsEmpty());
}

} // namespace
} // namespace netpol::policy
