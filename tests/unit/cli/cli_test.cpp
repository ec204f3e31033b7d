#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/paths.hpp"
#include "support/run_cli.hpp"

namespace netpol::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

TEST(Cli, HelpListsOnlyImplementedSubcommands) {
  auto r = run_cli({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.out, HasSubstr("version"));
  EXPECT_THAT(r.out, HasSubstr("Exit codes"));
  EXPECT_THAT(r.out, HasSubstr("--kubeconfig"));
}

TEST(Cli, NoArgumentsPrintsHelpToStderrAndExits2) {
  auto r = run_cli({});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("Usage: netpol"));
  EXPECT_TRUE(r.out.empty());
}

TEST(Cli, UnknownSubcommandIsUsageError) {
  auto r = run_cli({"frobnicate"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, StartsWith("netpol: error: unknown subcommand 'frobnicate'"));
}

TEST(Cli, UnknownOptionNamesSubcommandHelp) {
  auto r = run_cli({"version", "--bogus"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("netpol: error: unrecognised option '--bogus'"));
  EXPECT_THAT(r.err, HasSubstr("netpol version --help"));
}

TEST(Cli, VersionPrintsVersionRevisionAndLibraries) {
  auto r = run_cli({"version"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, StartsWith("netpol 0."));
  EXPECT_THAT(r.out, HasSubstr("git "));
  EXPECT_THAT(r.out, HasSubstr("libcurl"));
  EXPECT_THAT(r.out, HasSubstr("yaml-cpp"));
}

TEST(Cli, VersionNamesTheCiliumChartInstallCiliumUses) {
  const auto chart = (source_dir() / "charts/cilium-test").string();
  MapEnvironment env({{"NETPOL_CILIUM_CHART", chart}});
  auto r = run_cli({"version"}, env);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("cilium chart 1.19.5-test (" + chart +
                               ") — a test build: install-cilium needs --test-cluster"));
  MapEnvironment missing({{"NETPOL_CILIUM_CHART", "/nonexistent/chart"}});
  auto none = run_cli({"--format", "json", "version"}, missing);
  ASSERT_EQ(none.exit_code, 0) << none.err;
  auto info = nlohmann::json::parse(none.out);
  EXPECT_EQ(info["cilium_chart"]["path"], "/nonexistent/chart");
  EXPECT_TRUE(info["cilium_chart"]["version"].is_null());
}

TEST(Cli, VersionFlagIsTheVersionSubcommand) {
  EXPECT_EQ(run_cli({"--version"}).out, run_cli({"version"}).out);
}

TEST(Cli, VersionJson) {
  auto r = run_cli({"--format", "json", "version"});
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.out, HasSubstr("\"git_revision\""));
  EXPECT_THAT(r.out, HasSubstr("\"libraries\""));
}

TEST(Cli, BadFormatIsUsageError) {
  auto r = run_cli({"version", "--format", "xml"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("invalid --format 'xml'"));
}

TEST(Cli, BadLogLevelFromEnvironmentIsUsageError) {
  MapEnvironment env({{"NETPOL_LOG_LEVEL", "loud"}});
  auto r = run_cli({"version"}, env);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("invalid log level 'loud'"));
}

TEST(Cli, FlagWinsOverEnvironment) {
  MapEnvironment env({{"NETPOL_LOG_LEVEL", "loud"}});
  auto r = run_cli({"version", "--log-level", "debug"}, env);
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST(Cli, SubcommandHelpShowsUsageAndGlobals) {
  auto r = run_cli({"version", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.out, StartsWith("Usage: netpol version"));
  EXPECT_THAT(r.out, HasSubstr("Global options"));
  auto h = run_cli({"help", "version"});
  EXPECT_EQ(h.out, r.out);
}

TEST(Cli, BadRequestTimeout) {
  auto r = run_cli({"version", "--request-timeout", "soon"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--request-timeout: invalid duration 'soon'"));
  EXPECT_THAT(r.err, Not(HasSubstr("Subcommands:")));
}

} // namespace
} // namespace netpol::test
