// Option handling of `netpol install-cilium` that fails before any cluster is contacted.
// The install itself runs end to end in tests/e2e/cilium_install_test.cpp.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/paths.hpp"
#include "support/run_cli.hpp"

namespace netpol::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

TEST(InstallCiliumCmd, ListedInHelpWithItsVariables) {
  auto r = run_cli({"install-cilium", "--help"});
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.out, HasSubstr("Usage: netpol install-cilium"));
  for (const char* variable : {"CILIUM_CHART", "CILIUM_VERSION", "CILIUM_VALUES_FILE",
                               "CILIUM_AUDIT_MODE", "NETPOL_HELM", "CILIUM_EXPORT_FORWARDED"}) {
    EXPECT_THAT(r.out, HasSubstr(variable));
  }
  EXPECT_THAT(r.out, HasSubstr("--export-forwarded"));
  // run takes the install options: its help teaches the option too.
  auto run = run_cli({"run", "--help"});
  ASSERT_EQ(run.exit_code, 0);
  EXPECT_THAT(run.out, HasSubstr("--export-forwarded"));
  EXPECT_THAT(run.out, HasSubstr("CILIUM_EXPORT_FORWARDED"));
}

TEST(InstallCiliumCmd, ExportForwardedVariableMustBeABoolean) {
  for (const char* verb : {"install-cilium", "run"}) {
    auto r = run_cli({verb}, MapEnvironment{{"CILIUM_EXPORT_FORWARDED", "maybe"},
                                            {"KUBECONFIG", "/nonexistent/kubeconfig"}});
    EXPECT_EQ(r.exit_code, 2) << verb;
    EXPECT_THAT(r.err, HasSubstr("--export-forwarded (CILIUM_EXPORT_FORWARDED)")) << verb;
  }
}

TEST(InstallCiliumCmd, BadEksModeIsAUsageError) {
  auto r = run_cli({"install-cilium", "--eks-mode", "overlay"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err,
              StartsWith("netpol: error: invalid --eks-mode 'overlay': use chaining or eni"));
}

TEST(InstallCiliumCmd, AuditModeVariableMustBeABoolean) {
  auto r = run_cli({"install-cilium"}, MapEnvironment{{"CILIUM_AUDIT_MODE", "maybe"}});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("CILIUM_AUDIT_MODE"));
}

TEST(InstallCiliumCmd, BadTimeoutIsAUsageError) {
  auto r = run_cli({"install-cilium", "--timeout", "soon"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--timeout"));
}

// The stand-in chart runs no agent: refused before any cluster is contacted, unless the
// cluster is said to be a test cluster.
TEST(InstallCiliumCmd, TestChartIsRefusedUnlessOnATestCluster) {
  const auto chart = (source_dir() / "charts/cilium-test").string();
  auto r = run_cli(
      {"--kubeconfig", "/nonexistent/kubeconfig", "install-cilium", "--chart", chart, "--dry-run"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("netpol: error: refusing chart " + chart +
                               " version 1.19.5-test: a test build, not a Cilium release"));
  EXPECT_THAT(r.err, HasSubstr("--test-cluster (NETPOL_TEST_CLUSTER=true)"));

  // Told it is a test cluster, it goes on to the cluster (which is missing here).
  auto allowed = run_cli(
      {"--kubeconfig", "/nonexistent/kubeconfig", "install-cilium", "--chart", chart, "--dry-run"},
      MapEnvironment{{"NETPOL_TEST_CLUSTER", "true"}});
  EXPECT_THAT(allowed.err, Not(HasSubstr("refusing chart")));
  EXPECT_THAT(allowed.err, HasSubstr("/nonexistent/kubeconfig"));
}

} // namespace
} // namespace netpol::test
