// `netpol run` against the real kube-apiserver: the CI job's reports and exit codes.
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/paths.hpp"
#include "support/run_cli.hpp"
#include "support/run_reports.hpp"
#include "support/test_cluster.hpp"

namespace netpol::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// SPEC §5: a run that fails before its steps (here: --mode enforce with the gitlab profile,
// the drop log on) still writes every report of every step, each saying `why` — the JUnit
// reports as a failed case, the others as a "not written" line; the flow log and the dotenv
// stay empty and the Code Quality report an empty array, since anything there would be read
// as a flow, a variable or a finding.
void expect_every_report_saying(const std::filesystem::path& out, const std::string& why) {
  std::set<std::string> written;
  for (const auto& e : std::filesystem::directory_iterator(out))
    written.insert(e.path().filename().string());
  EXPECT_EQ(written, k_every_run_report);
  for (const auto& name : k_every_run_report) {
    const auto text = slurp(out / name);
    if (name.rfind("junit-", 0) == 0) {
      // A failed (or, for detection's "cluster reachable", errored) case with the reason.
      EXPECT_THAT(
          text, ::testing::AnyOf(HasSubstr("<failure message=\""), HasSubstr("<error message=\"")))
          << name;
      EXPECT_THAT(text, HasSubstr(why)) << name;
    } else {
      expect_run_stand_in(name, text, why);
    }
  }
}

class RunE2e : public ::testing::Test {
protected:
  void SetUp() override {
    m_out = std::filesystem::temp_directory_path() /
            ("netpol-run-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(m_out);
  }
  void TearDown() override { std::filesystem::remove_all(m_out); }
  std::filesystem::path m_out;
};

TEST_F(RunE2e, DefaultModeOffWritesEveryReportAndWarnsWhenNothingEnforces) {
  NETPOL_REQUIRE_TEST_CLUSTER(cluster);
  const auto ns = cluster->create_namespace("run");
  MapEnvironment env{{"KUBECONFIG", cluster->kubeconfig}, {"KUBE_NAMESPACE", ns}};
  // Other e2e tests leave Cilium-agent pods whose logs cannot be read; the drop log has a
  // test of its own below.
  auto r = run_cli({"--output-dir", m_out.string(), "run", "--no-drop-log"}, env);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("policies    mode off, none declared: nothing planned or applied"));
  EXPECT_THAT(r.out, HasSubstr("drop log    not collected (NETWORK_POLICY_DROP_LOG is false)"));
  for (const char* f :
       {"provider.json", "netpol.env", "junit-detect.xml", "junit-run.xml", "metrics.txt"}) {
    EXPECT_TRUE(std::filesystem::exists(m_out / f)) << f;
  }
  // The cluster is shared with other e2e tests (one installs a Cilium-shaped chart), so the
  // reports are checked against each other rather than against a fixed provider.
  auto provider = nlohmann::json::parse(slurp(m_out / "provider.json"));
  const std::string name = provider["provider"]["name"];
  const bool enforces = provider["provider"]["enforces_network_policy"];
  EXPECT_THAT(slurp(m_out / "netpol.env"),
              HasSubstr(std::string("NETPOL_ENFORCES=") + (enforces ? "true" : "false")));
  const auto metrics = slurp(m_out / "metrics.txt");
  EXPECT_THAT(metrics, HasSubstr("netpol_provider_enforces{provider=\"" + name + "\"} " +
                                 (enforces ? "1" : "0") + "\n"));
  if (!enforces) {
    EXPECT_THAT(r.err, HasSubstr("does not enforce NetworkPolicy"));
  }
  EXPECT_THAT(metrics, HasSubstr("netpol_policies_applied 0\n"));
  const auto junit = slurp(m_out / "junit-run.xml");
  EXPECT_THAT(junit, HasSubstr("NETWORK_POLICY_MODE is off and no policies are declared"));
  EXPECT_THAT(junit, HasSubstr("failures=\"0\""));
}

TEST_F(RunE2e, RequireEnforcementExitsFourExactlyWhenNothingEnforces) {
  NETPOL_REQUIRE_TEST_CLUSTER(cluster);
  MapEnvironment env{{"KUBECONFIG", cluster->kubeconfig},
                     {"NETWORK_POLICY_REQUIRE_ENFORCEMENT", "true"}};
  auto r =
      run_cli({"--output-dir", m_out.string(), "--format", "json", "run", "--no-drop-log"}, env);
  auto summary = nlohmann::json::parse(r.out);
  const bool enforces = summary["detection"]["provider"]["enforces_network_policy"];
  const std::string name = summary["detection"]["provider"]["name"];
  EXPECT_EQ(r.exit_code, enforces ? 0 : 4) << r.err;
  EXPECT_EQ(summary["exit_code"], enforces ? 0 : 4);
  const auto junit = slurp(m_out / "junit-run.xml");
  if (enforces) {
    EXPECT_THAT(junit, HasSubstr("failures=\"0\""));
  } else {
    EXPECT_THAT(junit, HasSubstr("<failure message=\"provider " + name +
                                 " does not enforce NetworkPolicy\""));
  }
}

// The whole job: policies planned and applied by mode (the shared cluster's provider decides
// whether they may be), the drop log read from an exported Hubble log, and a failed
// NETWORK_POLICY_FAIL_ON_DROPS check.
TEST_F(RunE2e, EnforceAppliesByProviderAndFailsOnDrops) {
  NETPOL_REQUIRE_TEST_CLUSTER(cluster);
  auto api = cluster->admin();
  const auto ns = cluster->create_namespace("run-enforce");
  const auto policies = m_out / "policies";
  std::filesystem::create_directories(policies);
  std::ofstream(policies / "web.yaml")
      << "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: web}\n"
         "spec:\n  podSelector: {matchLabels: {app: web}}\n  ingress:\n  - ports: [{port: 80}]\n";
  MapEnvironment env{{"KUBECONFIG", cluster->kubeconfig},
                     {"KUBE_NAMESPACE", ns},
                     {"CI_PROJECT_ID", "11"},
                     {"CI_ENVIRONMENT_SLUG", "staging"},
                     {"NETWORK_POLICY_MODE", "enforce"},
                     {"NETWORK_POLICY_PATH", policies.string()},
                     {"NETWORK_POLICY_FAIL_ON_DROPS", "true"}};
  auto r = run_cli({"--output-dir", (m_out / "out").string(), "--format", "json", "run",
                    "--from-file", testdata("hubble/hubble-flows-sample.jsonl").string(), "-A"},
                   env);
  const auto summary = nlohmann::json::parse(r.out);
  // The sample holds two dropped flows: the check fails with exit 4 whatever the provider.
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_EQ(summary["drop_log"]["dropped"], 2);
  const auto metrics = slurp(m_out / "out" / "metrics.txt");
  EXPECT_THAT(metrics, HasSubstr("netpol_flows{verdict=\"dropped\"} 2\n"));
  EXPECT_THAT(slurp(m_out / "out" / "junit-run.xml"),
              HasSubstr("<failure message=\"2 dropped, 0 audited flow(s) (see drop-log.txt)\""));
  EXPECT_TRUE(std::filesystem::exists(m_out / "out" / "drop-log.html"));
  EXPECT_THAT(slurp(m_out / "out" / "plan.txt"), HasSubstr("NetworkPolicy/" + ns + "/web"));

  auto live = api->list(kube::resources::network_policies, ns);
  ASSERT_TRUE(live.has_value());
  const bool applies = summary["detection"]["provider"]["enforces_network_policy"];
  if (applies) {
    ASSERT_EQ(live->size(), 1u);
    EXPECT_EQ((*live)[0]["metadata"]["labels"]["app.gitlab.com/env"], "staging");
    EXPECT_EQ(summary["policies"]["applied"], 1);
    EXPECT_THAT(metrics, HasSubstr("netpol_policies_applied 1\n"));
  } else {
    EXPECT_TRUE(live->empty());
    EXPECT_THAT(summary["policies"]["result"].get<std::string>(),
                HasSubstr("does not enforce NetworkPolicy: nothing applied"));
    EXPECT_THAT(metrics, HasSubstr("netpol_policies_applied 0\n"));
  }
}

// A deployment whose policies fail is when a reviewer needs the drop log most: the run still
// collects it, then ends with the policies' exit code.
TEST_F(RunE2e, TheDropLogIsCollectedAfterAFailedApply) {
  NETPOL_REQUIRE_TEST_CLUSTER(cluster);
  auto api = cluster->admin();
  const auto ns = cluster->create_namespace("run-failed-apply");
  const auto policies = m_out / "policies";
  std::filesystem::create_directories(policies);
  std::ofstream(policies / "web.yaml")
      << "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: web}\n"
         "spec:\n  podSelector: {matchLabels: {app: web}}\n  ingress:\n  - ports: [{port: "
         "70000}]\n";
  MapEnvironment env{{"KUBECONFIG", cluster->kubeconfig},
                     {"KUBE_NAMESPACE", ns},
                     {"CI_PROJECT_ID", "11"},
                     {"CI_ENVIRONMENT_SLUG", "staging"},
                     {"NETWORK_POLICY_MODE", "enforce"},
                     {"NETWORK_POLICY_PATH", policies.string()}};
  auto r = run_cli({"--output-dir", (m_out / "out").string(), "run", "--from-file",
                    testdata("hubble/hubble-flows-sample.jsonl").string(), "-A"},
                   env);
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_THAT(r.out, HasSubstr("web.yaml:7"));
  const auto junit = slurp(m_out / "out" / "junit-run.xml");
  EXPECT_THAT(junit, HasSubstr("<testcase classname=\"netpol.run\" name=\"policies applied\""));
  EXPECT_THAT(junit, HasSubstr("name=\"drop log collected\""));
  EXPECT_THAT(slurp(m_out / "out" / "drop-log.txt"), HasSubstr("DROPPED"));
  EXPECT_THAT(slurp(m_out / "out" / "plan.txt"), HasSubstr("web.yaml:7"));
  EXPECT_THAT(slurp(m_out / "out" / "metrics.txt"),
              HasSubstr("netpol_flows{verdict=\"dropped\"} 2"));
  // Each step's report carries its own result: the apply's failure is the apply's and the
  // run's, not the detection's or the drop log's, which both ran to their end.
  EXPECT_THAT(slurp(m_out / "out" / "junit-apply.xml"), HasSubstr("web.yaml:7"));
  EXPECT_THAT(slurp(m_out / "out" / "junit-detect.xml"), Not(HasSubstr("<failure")));
  const auto drops = slurp(m_out / "out" / "junit-drops.xml"); // a failed case per drop row
  EXPECT_THAT(drops, HasSubstr("1 flow dropped (POLICY_DENIED)"));
  EXPECT_THAT(drops, Not(HasSubstr("web.yaml")));
  EXPECT_THAT(drops, Not(HasSubstr("drops succeeded")));
  auto live = api->list(kube::resources::network_policies, ns);
  ASSERT_TRUE(live.has_value());
  EXPECT_TRUE(live->empty());
}

TEST_F(RunE2e, UnreachableClusterIsExit1AndStillWritesTheRunReport) {
  NETPOL_REQUIRE_TEST_CLUSTER(cluster);
  const auto dir = m_out / "kc";
  std::filesystem::create_directories(dir);
  const auto kc = (dir / "kubeconfig").string();
  {
    std::ofstream f(kc);
    f << "apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters:\n- name: c\n  cluster:\n"
         "    server: https://127.0.0.1:1\ncontexts:\n- name: c\n  context: {cluster: c, user: u}\n"
         "users:\n- name: u\n  user: {token: abcdefgh}\n";
  }
  MapEnvironment env{{"KUBECONFIG", kc},
                     {"CI_PROJECT_ID", "11"},
                     {"CI_ENVIRONMENT_SLUG", "staging"},
                     {"NETWORK_POLICY_MODE", "enforce"},
                     {"NETWORK_POLICY_DEFAULT", "gitlab"}};
  auto r = run_cli({"--output-dir", (m_out / "out").string(), "run"}, env);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr("127.0.0.1:1"));
  EXPECT_THAT(slurp(m_out / "out" / "junit-run.xml"), HasSubstr("cluster detected"));
  expect_every_report_saying(m_out / "out", "127.0.0.1:1");
}

TEST_F(RunE2e, ABadKubeconfigIsExit2AndStillWritesEveryReport) {
  NETPOL_REQUIRE_TEST_CLUSTER(cluster);
  // The real cluster's kubeconfig, with a context it does not have (a mistyped KUBE_CONTEXT).
  MapEnvironment env{{"KUBECONFIG", cluster->kubeconfig},
                     {"KUBE_CONTEXT", "no-such-context"},
                     {"CI_PROJECT_ID", "11"},
                     {"CI_ENVIRONMENT_SLUG", "staging"},
                     {"NETWORK_POLICY_MODE", "enforce"},
                     {"NETWORK_POLICY_DEFAULT", "gitlab"}};
  auto r = run_cli({"--output-dir", (m_out / "out").string(), "run"}, env);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr("no-such-context"));
  expect_every_report_saying(m_out / "out", "no-such-context");
}

} // namespace
} // namespace netpol::test
