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

} // namespace
} // namespace netpol::test
