// cli::Context builds the cluster client lazily from the global options.
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cli/context.hpp"
#include "support/paths.hpp"
#include "support/run_cli.hpp"
#include "support/temp_dir.hpp"

namespace netpol::cli {
namespace {

using ::testing::HasSubstr;

struct Fixture {
  std::ostringstream out;
  std::ostringstream err;
  MapEnvironment env;

  Context context(GlobalOptions g) { return Context(std::move(g), Io{out, err, env, false}); }
};

GlobalOptions agent_options(const std::string& context) {
  GlobalOptions g;
  g.kubeconfig_paths = {test::testdata("k8s/kubeconfig/gitlab-agent-ci.CONSTRUCTED.yaml")};
  g.context = context;
  return g;
}

TEST(ContextKube, NamespaceFromFlagThenContextThenDefault) {
  Fixture f;
  auto g = agent_options("platform/k8s-agents:prod-agent");
  EXPECT_EQ(f.context(g).namespace_name().value(), "team-a");
  g.namespace_name = "from-flag";
  EXPECT_EQ(f.context(g).namespace_name().value(), "from-flag");
  EXPECT_EQ(f.context(agent_options("platform/k8s-agents:staging-agent")).namespace_name().value(),
            "default");
}

TEST(ContextKube, ClientIsBuiltOnceFromTheChosenContext) {
  Fixture f;
  auto ctx = f.context(agent_options("platform/k8s-agents:prod-agent"));
  auto api = ctx.kube();
  ASSERT_TRUE(api) << api.error().message;
  EXPECT_EQ((*api)->server(), "https://kas.gitlab.com/k8s-proxy");
  EXPECT_EQ(ctx.kube().value(), *api);
  EXPECT_EQ((*api)->request_count(), 0U); // building the client sends nothing
}

TEST(ContextKube, KubeconfigErrorsAreConfigErrors) {
  Fixture f;
  auto ctx = f.context(agent_options(""));
  auto api = ctx.kube();
  ASSERT_FALSE(api);
  EXPECT_EQ(api.error().code, ErrorCode::config);
  EXPECT_THAT(api.error().message, HasSubstr("--context"));

  GlobalOptions missing;
  missing.kubeconfig_paths = {"/nonexistent/kubeconfig"};
  auto explicit_missing = f.context(missing).kube();
  ASSERT_FALSE(explicit_missing);
  EXPECT_THAT(explicit_missing.error().message, HasSubstr("/nonexistent/kubeconfig"));
}

TEST(ContextKube, CommandsWithoutAClusterNeverLoadTheKubeconfig) {
  // A kubeconfig that cannot be read would fail any command that built a client.
  auto r = test::run_cli(
      {"version"}, MapEnvironment{{"KUBECONFIG", "/nonexistent/kc"}, {"KUBE_CONTEXT", "nope"}});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
}

// docs/cluster-access.md: an unverified connection is said on every run, on stderr.
TEST(Context, UnverifiedTlsAndPlainHttpAreWarnedAbout) {
  test::TempDir dir;
  const auto insecure = dir.write(
      "insecure", "clusters: [{name: k, cluster: {server: 'https://127.0.0.1:1', "
                  "insecure-skip-tls-verify: true}}]\nusers: [{name: u, user: {token: tok0000}}]\n"
                  "contexts: [{name: c, context: {cluster: k, user: u}}]\ncurrent-context: c\n");
  const auto plain =
      dir.write("plain", "clusters: [{name: k, cluster: {server: 'http://127.0.0.1:1'}}]\n"
                         "users: [{name: u, user: {}}]\n"
                         "contexts: [{name: c, context: {cluster: k, user: u}}]\n"
                         "current-context: c\n");
  const auto out = dir.file("out");
  auto r = test::run_cli(
      {"--kubeconfig", insecure, "--output-dir", out, "--request-timeout", "2s", "detect"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr("warning: TLS certificate of https://127.0.0.1:1 is not verified "
                               "(insecure-skip-tls-verify in context 'c'"));
  auto p = test::run_cli(
      {"--kubeconfig", plain, "--output-dir", out, "--request-timeout", "2s", "detect"});
  EXPECT_EQ(p.exit_code, 1) << p.err;
  EXPECT_THAT(p.err, HasSubstr("warning: http://127.0.0.1:1 is plain http"));
}

} // namespace
} // namespace netpol::cli
