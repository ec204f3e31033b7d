#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/run_cli.hpp"

namespace netpol::test {
namespace {

using ::testing::HasSubstr;

TEST(RunCommand, InvalidModeIsUsageErrorBeforeAnyClusterWork) {
  MapEnvironment env{{"NETWORK_POLICY_MODE", "maybe"}, {"KUBECONFIG", "/nonexistent/kubeconfig"}};
  auto r = run_cli({"run"}, env);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--mode (NETWORK_POLICY_MODE): invalid value 'maybe'"));
}

TEST(RunCommand, ModesThatApplyAreRefusedWithTheWayOut) {
  MapEnvironment env{{"KUBECONFIG", "/nonexistent/kubeconfig"}};
  auto r = run_cli({"run", "--mode", "enforce"}, env);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("cannot apply policies yet; use mode off"));
  EXPECT_THAT(r.err, ::testing::Not(HasSubstr("/nonexistent/kubeconfig")));
}

TEST(RunCommand, BadBooleanVariableNamesTheVariable) {
  MapEnvironment env{{"CILIUM_INSTALL", "perhaps"}, {"KUBECONFIG", "/nonexistent/kubeconfig"}};
  auto r = run_cli({"run"}, env);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--install-cilium (CILIUM_INSTALL): invalid boolean 'perhaps'"));
}

TEST(RunCommand, FlagWinsOverVariable) {
  MapEnvironment env{{"NETWORK_POLICY_MODE", "enforce"}, {"KUBECONFIG", "/nonexistent/kubeconfig"}};
  auto r = run_cli({"run", "--mode", "off"}, env);
  // Mode off passes option checks and fails only on the missing kubeconfig.
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("/nonexistent/kubeconfig"));
}

} // namespace
} // namespace netpol::test
