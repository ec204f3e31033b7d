// Option handling of `netpol install-cilium` that fails before any cluster is contacted.
// The install itself runs end to end in tests/e2e/cilium_install_test.cpp.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/run_cli.hpp"

namespace netpol::test {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

TEST(InstallCiliumCmd, ListedInHelpWithItsVariables) {
  auto r = run_cli({"install-cilium", "--help"});
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.out, HasSubstr("Usage: netpol install-cilium"));
  for (const char* variable : {"CILIUM_CHART", "CILIUM_VERSION", "CILIUM_VALUES_FILE",
                               "CILIUM_AUDIT_MODE", "NETPOL_HELM"}) {
    EXPECT_THAT(r.out, HasSubstr(variable));
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

} // namespace
} // namespace netpol::test
