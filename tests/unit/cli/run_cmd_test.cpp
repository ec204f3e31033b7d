#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "support/run_cli.hpp"
#include "support/run_reports.hpp"
#include "support/temp_dir.hpp"

namespace netpol::test {
namespace {

using ::testing::HasSubstr;

std::set<std::string> files_in(const std::filesystem::path& dir) {
  std::set<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    out.insert(e.path().filename().string());
  return out;
}

TEST(RunCommand, InvalidModeIsUsageErrorBeforeAnyClusterWork) {
  MapEnvironment env{{"NETWORK_POLICY_MODE", "maybe"}, {"KUBECONFIG", "/nonexistent/kubeconfig"}};
  auto r = run_cli({"run"}, env);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--mode (NETWORK_POLICY_MODE): invalid value 'maybe'"));
}

TEST(RunCommand, UnknownModeIsAUsageErrorBeforeAnyClusterWork) {
  MapEnvironment env{{"KUBECONFIG", "/nonexistent/kubeconfig"}};
  auto r = run_cli({"run", "--mode", "block"}, env);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--mode (NETWORK_POLICY_MODE): invalid value 'block': use off, "
                               "audit or enforce"));
  EXPECT_THAT(r.err, ::testing::Not(HasSubstr("/nonexistent/kubeconfig")));
}

TEST(RunCommand, BadBooleanVariableNamesTheVariable) {
  MapEnvironment env{{"CILIUM_INSTALL", "perhaps"}, {"KUBECONFIG", "/nonexistent/kubeconfig"}};
  auto r = run_cli({"run"}, env);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--install-cilium (CILIUM_INSTALL): invalid boolean 'perhaps'"));
}

TEST(RunCommand, FlagWinsOverVariable) {
  MapEnvironment env{{"NETWORK_POLICY_MODE", "block"}, {"KUBECONFIG", "/nonexistent/kubeconfig"}};
  auto r = run_cli({"run", "--mode", "off"}, env);
  // The flag's valid value wins over the variable's invalid one: the options pass, and only
  // the missing kubeconfig fails.
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("/nonexistent/kubeconfig"));
}

// SPEC §5: a run that ends before its first request (the kubeconfig cannot be read) still
// writes every report of every step its options include, each saying why it holds nothing.
TEST(RunCommand, ABadKubeconfigStillWritesEveryReportSayingWhy) {
  TempDir dir;
  const auto kubeconfig = dir.write("kubeconfig", "clusters: [unclosed\n");
  auto r = run_cli({"--kubeconfig", kubeconfig, "--output-dir", dir.file("out"), "run", "--mode",
                    "enforce", "--default-policy", "gitlab"},
                   {{"CI_PROJECT_ID", "7"}, {"CI_ENVIRONMENT_SLUG", "review"}});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr(kubeconfig));
  EXPECT_EQ(files_in(dir.path() / "out"), k_every_run_report);
  for (const auto& name : k_every_run_report) {
    const auto text = dir.read("out/" + name);
    if (name.rfind("junit-", 0) == 0) {
      // A failed (or, for detection's "cluster reachable", errored) case with the reason.
      EXPECT_THAT(text, HasSubstr(" message=\"" + kubeconfig)) << name;
    } else {
      expect_run_stand_in(name, text, kubeconfig);
    }
  }
}

// Steps the options leave out owe nothing: junit-run.xml says why they were skipped.
TEST(RunCommand, StepsTheOptionsLeaveOutWriteNoReports) {
  TempDir dir;
  auto r = run_cli({"--kubeconfig", dir.file("missing"), "--output-dir", dir.file("out"), "run",
                    "--no-drop-log", "--policies", dir.file("none")},
                   {});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  // --policies names a folder: declared, so planned (and owed) even in mode off.
  EXPECT_EQ(
      files_in(dir.path() / "out"),
      (std::set<std::string>{"junit-run.xml", "metrics.txt", "junit-detect.xml", "provider.json",
                             "netpol.env", "junit-apply.xml", "gl-code-quality-report.json",
                             "policies.yaml", "plan.txt", "plan.json"}));
  TempDir off;
  auto nothing = run_cli({"--kubeconfig", off.file("missing"), "--output-dir", off.file("out"),
                          "run", "--mode", "off"},
                         {{"NETWORK_POLICY_DROP_LOG", "false"}});
  EXPECT_EQ(nothing.exit_code, 2) << nothing.err;
  EXPECT_EQ(files_in(off.path() / "out"),
            (std::set<std::string>{"junit-run.xml", "metrics.txt", "junit-detect.xml",
                                   "provider.json", "netpol.env"}));
}

TEST(RunCommand, AnInstallThatCannotStartStillWritesItsReports) {
  TempDir dir;
  auto r = run_cli({"--kubeconfig", dir.file("missing"), "--output-dir", dir.file("out"), "run",
                    "--install-cilium", "--no-drop-log", "--mode", "off"},
                   {});
  EXPECT_NE(r.exit_code, 0) << r.err;
  const auto files = files_in(dir.path() / "out");
  for (const char* name : {"junit-install-cilium.xml", "cilium-values.yaml", "junit-detect.xml",
                           "provider.json", "netpol.env", "junit-run.xml", "metrics.txt"})
    EXPECT_EQ(files.count(name), 1U) << name;
  EXPECT_THAT(dir.read("out/cilium-values.yaml"), HasSubstr("# not written: netpol run ended"));
  EXPECT_THAT(dir.read("out/provider.json"), HasSubstr("not written: netpol run ended"));
}

// Every step's options are read before the first step: a bad drop-log or policy option is a
// usage error before Cilium is installed or the cluster is read, and every report the steps
// owe says so.
TEST(RunCommand, ABadStepOptionIsAUsageErrorBeforeAnyStepAndEveryReportSaysIt) {
  TempDir dir;
  auto r = run_cli({"--kubeconfig", dir.file("missing"), "--output-dir", dir.file("out"), "run",
                    "--install-cilium", "--mode", "enforce", "--since", "yesterday"},
                   {});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr("--since"));
  EXPECT_THAT(r.err, ::testing::Not(HasSubstr(dir.file("missing"))))
      << "no step ran, so the kubeconfig was never read";
  const auto files = files_in(dir.path() / "out");
  for (const char* name : {"junit-install-cilium.xml", "cilium-values.yaml", "provider.json",
                           "plan.json", "drop-summary.json", "junit-run.xml", "metrics.txt"})
    EXPECT_EQ(files.count(name), 1U) << name;
  EXPECT_THAT(dir.read("out/cilium-values.yaml"), HasSubstr("--since"));
  EXPECT_THAT(dir.read("out/plan.json"), HasSubstr("--since"));

  TempDir vars;
  auto bad_var = run_cli({"--kubeconfig", vars.file("missing"), "--output-dir", vars.file("out"),
                          "run", "--mode", "enforce", "--var", "NO_EQUALS_SIGN"},
                         {});
  EXPECT_EQ(bad_var.exit_code, 2) << bad_var.err;
  EXPECT_THAT(bad_var.err, HasSubstr("--var"));
  EXPECT_THAT(vars.read("out/policies.yaml"), HasSubstr("--var"));
}

} // namespace
} // namespace netpol::test
