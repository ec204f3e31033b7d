// The helm driver against a stand-in helm (a shell script that records how it was called
// and answers as told), so argv, the values file and error handling are checked exactly.
// The real helm against the real API server is exercised by the e2e tests.
#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/stat.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cilium/helm.hpp"
#include "support/paths.hpp"
#include "util/log.hpp"

namespace netpol::cilium {
namespace {

namespace fs = std::filesystem;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

std::string read(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class FakeHelm : public ::testing::Test {
protected:
  void SetUp() override {
    m_dir = fs::path(::testing::TempDir()) /
            ("fake-helm-" +
             std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(m_dir);
    fs::create_directories(m_dir);
  }

  // A helm that records argv (one per line) and a copy of the --values file with its mode,
  // then prints `err` to stderr, `out` to stdout and exits with `code`.
  std::string make_helm(int code, const std::string& out = "", const std::string& err = "") {
    const auto script = m_dir / "helm";
    std::ofstream(m_dir / "out.txt") << out;
    std::ofstream(m_dir / "err.txt") << err;
    std::ofstream s(script);
    s << "#!/bin/sh\n"
      << "d='" << m_dir.string() << "'\n"
      << ": > \"$d/argv\"\n"
      << "prev=\n"
      << "for a in \"$@\"; do\n"
      << "  printf '%s\\n' \"$a\" >> \"$d/argv\"\n"
      << "  if [ \"$prev\" = --values ]; then cp \"$a\" \"$d/values.yaml\"; "
         "stat -c %a \"$a\" > \"$d/values.mode\"; echo \"$a\" > \"$d/values.path\"; fi\n"
      << "  prev=$a\n"
      << "done\n"
      // `helm get metadata` and `helm get values` can be told apart: out-get-values.txt.
      << "if [ -f \"$d/out-$1-$2.txt\" ]; then cat \"$d/out-$1-$2.txt\"; "
         "else cat \"$d/out.txt\"; fi; cat \"$d/err.txt\" >&2\n"
      << "exit " << code << "\n";
    s.close();
    fs::permissions(script, fs::perms::owner_all);
    return script.string();
  }

  std::vector<std::string> argv() const {
    std::vector<std::string> out;
    std::istringstream in(read(m_dir / "argv"));
    for (std::string line; std::getline(in, line);)
      out.push_back(line);
    return out;
  }

  HelmOptions options(const std::string& helm) const {
    HelmOptions o;
    o.helm = helm;
    o.kubeconfig_paths = {"/k/config"};
    o.kube_context = "agent:prod";
    return o;
  }

  fs::path m_dir;
};

TEST_F(FakeHelm, UpgradeInstallPassesChartVersionValuesAndCluster) {
  const auto helm = make_helm(0, "Release \"cilium\" has been upgraded.\n");
  Chart chart{"oci://quay.io/cilium/charts/cilium", ChartKind::oci, "1.19.5", "1.19.5",
              std::nullopt};
  nlohmann::json values = {{"policyAuditMode", true}, {"hubble", {{"enabled", true}}}};
  auto r = upgrade_install(options(helm), chart, values);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_THAT(*r, HasSubstr("has been upgraded"));
  const auto values_path = read(m_dir / "values.path");
  EXPECT_THAT(argv(),
              ElementsAre("upgrade", "--install", "cilium", "oci://quay.io/cilium/charts/cilium",
                          "--namespace", "kube-system", "--kubeconfig", "/k/config",
                          "--kube-context", "agent:prod", "--version", "1.19.5", "--values",
                          values_path.substr(0, values_path.size() - 1), "--reset-values",
                          "--create-namespace", "--timeout", "600s"));
  EXPECT_EQ(read(m_dir / "values.yaml"), "hubble:\n  enabled: true\npolicyAuditMode: true\n");
  EXPECT_EQ(read(m_dir / "values.mode"), "600\n");
  // The temporary values file is gone once helm has run.
  EXPECT_FALSE(fs::exists(values_path.substr(0, values_path.size() - 1)));
}

TEST_F(FakeHelm, LocalChartGetsNoVersionFlag) {
  HelmOptions o = options("helm");
  o.kubeconfig_paths = {"/a", "/b"};
  o.kube_context.clear();
  Chart chart{"/charts/cilium", ChartKind::local, std::nullopt, "1.19.5", std::nullopt};
  EXPECT_THAT(upgrade_command(o, chart, "/tmp/v.yaml"),
              ElementsAre("helm", "upgrade", "--install", "cilium", "/charts/cilium", "--namespace",
                          "kube-system", "--values", "/tmp/v.yaml", "--reset-values",
                          "--create-namespace", "--timeout", "600s"));
  // Several kubeconfig files go to helm the way kubectl reads them: KUBECONFIG.
  EXPECT_EQ(helm_environment(o).at("KUBECONFIG"), "/a:/b");
}

// helm 4 applies server-side by default and waits with kstatus when asked to roll back;
// netpol asks for client-side apply and no wait (it waits and rolls back itself).
TEST_F(FakeHelm, Helm4GetsExplicitApplyModeAndNoWait) {
  HelmOptions o = options("helm");
  o.major = 4;
  o.timeout = std::chrono::minutes(5);
  Chart chart{"/charts/cilium.tgz", ChartKind::local, std::nullopt, "1.20.0", std::nullopt};
  const auto argv = upgrade_command(o, chart, "/tmp/v.yaml");
  EXPECT_THAT(std::vector<std::string>(argv.end() - 5, argv.end()),
              ElementsAre("--create-namespace", "--timeout", "300s", "--server-side=false",
                          "--wait=hookOnly"));
  // Both would make helm wait for readiness itself (helm 3 --atomic implies --wait; helm 4.1
  // --rollback-on-failure overrides --wait=hookOnly with its watcher).
  EXPECT_THAT(argv, Not(::testing::Contains("--atomic")));
  EXPECT_THAT(argv, Not(::testing::Contains("--rollback-on-failure")));
  o.major = 3;
  EXPECT_THAT(upgrade_command(o, chart, "/tmp/v.yaml"),
              Not(::testing::Contains(::testing::StartsWith("--server-side"))));
}

TEST_F(FakeHelm, MajorVersionFromHelmVersion) {
  auto four = helm_major_version(make_helm(0, "v4.1.4"));
  ASSERT_TRUE(four) << four.error().message;
  EXPECT_EQ(*four, 4);
  EXPECT_THAT(argv(), ElementsAre("version", "--template", "{{.Version}}"));
  auto three = helm_major_version(make_helm(0, "v3.17.2\n"));
  ASSERT_TRUE(three);
  EXPECT_EQ(*three, 3);
  auto two = helm_major_version(make_helm(0, "v2.17.0"));
  ASSERT_FALSE(two);
  EXPECT_EQ(two.error().code, ErrorCode::config);
  EXPECT_THAT(two.error().message, HasSubstr("is helm v2.17.0; netpol drives helm 3 and 4"));
  auto broken = helm_major_version(make_helm(1, "", "Error: unknown flag: --template\n"));
  ASSERT_FALSE(broken);
  EXPECT_THAT(broken.error().message, HasSubstr("printed no helm version"));
}

TEST_F(FakeHelm, RollbackToARevision) {
  auto ok = rollback(options(make_helm(0, "Rollback was a success!\n")), 3);
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_THAT(argv(),
              ElementsAre("rollback", "cilium", "3", "--namespace", "kube-system", "--kubeconfig",
                          "/k/config", "--kube-context", "agent:prod", "--timeout", "600s"));
  auto failed = rollback(options(make_helm(1, "", "Error: release has no 3 version\n")), 3);
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().message, "helm rollback kube-system/cilium 3: release has no 3 version");
}

TEST_F(FakeHelm, FailureCarriesHelmsMessageRedacted) {
  log::register_secret("s3cr3t-token-value");
  const auto helm = make_helm(
      1, "", "history line\nError: UPGRADE FAILED: Unauthorized (token s3cr3t-token-value)\n");
  Chart chart{"/charts/cilium", ChartKind::local, std::nullopt, std::nullopt, std::nullopt};
  auto r = upgrade_install(options(helm), chart, nlohmann::json::object());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::io);
  EXPECT_EQ(r.error().message, "helm upgrade --install kube-system/cilium (chart /charts/cilium): "
                               "UPGRADE FAILED: Unauthorized (token [REDACTED])");
}

TEST_F(FakeHelm, UnknownRepositorySaysHowToAddIt) {
  const auto helm = make_helm(1, "", "Error: repo cilium not found\n");
  Chart chart{"cilium/cilium", ChartKind::repository, "1.19.5", "1.19.5", std::nullopt};
  auto r = upgrade_install(options(helm), chart, nlohmann::json::object());
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().message, HasSubstr("repo cilium not found"));
  EXPECT_THAT(r.error().details,
              ElementsAre(HasSubstr("helm repo add cilium https://helm.cilium.io")));
}

TEST_F(FakeHelm, StatusOfAMissingReleaseIsNotAnError) {
  const auto helm = make_helm(1, "", "Error: release: not found\n");
  auto r = release_status(options(helm));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_FALSE(r->exists);
  EXPECT_THAT(argv(), ElementsAre("get", "metadata", "cilium", "--output", "json", "--namespace",
                                  "kube-system", "--kubeconfig", "/k/config", "--kube-context",
                                  "agent:prod"));
}

TEST_F(FakeHelm, StatusReadsTheReleaseChartAndValues) {
  // What helm 3.17 and 4.1 print for `get metadata -o json` (annotations cut).
  const auto helm = make_helm(0, R"({"name":"cilium","chart":"cilium","version":"1.19.6",)"
                                 R"("appVersion":"1.19.6","namespace":"kube-system",)"
                                 R"("revision":3,"status":"deployed"})");
  std::ofstream(m_dir / "out-get-values.txt")
      << R"({"policyAuditMode":false,"routingMode":"native"})";
  auto r = release_status(options(helm));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->exists);
  EXPECT_EQ(r->status, "deployed");
  EXPECT_EQ(r->revision, 3);
  EXPECT_EQ(r->chart_version, "1.19.6");
  EXPECT_EQ(r->values,
            nlohmann::json::parse(R"({"policyAuditMode":false,"routingMode":"native"})"));
  EXPECT_THAT(argv(), ElementsAre("get", "values", "cilium", "--output", "json", "--namespace",
                                  "kube-system", "--kubeconfig", "/k/config", "--kube-context",
                                  "agent:prod"));

  // A release installed without values prints null.
  std::ofstream(m_dir / "out-get-values.txt") << "null\n";
  auto none = release_status(options(helm));
  ASSERT_TRUE(none) << none.error().message;
  EXPECT_EQ(none->values, nlohmann::json::object());
}

TEST_F(FakeHelm, StatusOtherFailureIsAnError) {
  const auto helm = make_helm(1, "", "Error: Kubernetes cluster unreachable: connection refused\n");
  auto r = release_status(options(helm));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message,
            "helm get metadata kube-system/cilium: Kubernetes cluster unreachable: connection "
            "refused");
}

TEST_F(FakeHelm, UninstallReportsWhetherThereWasARelease) {
  auto removed = uninstall(options(make_helm(0, "release \"cilium\" uninstalled\n")));
  ASSERT_TRUE(removed) << removed.error().message;
  EXPECT_TRUE(*removed);
  EXPECT_EQ(argv().front(), "uninstall");

  auto absent = uninstall(options(
      make_helm(1, "", "Error: uninstall: Release not loaded: cilium: release: not found\n")));
  ASSERT_TRUE(absent) << absent.error().message;
  EXPECT_FALSE(*absent);
}

TEST(Helm, FindHelmOnPathOrAsGiven) {
  const auto dir = fs::path(::testing::TempDir()) / "helm-path";
  fs::create_directories(dir);
  const auto bin = dir / "helm";
  std::ofstream(bin) << "#!/bin/sh\n";
  fs::permissions(bin, fs::perms::owner_all);

  auto on_path = find_helm(std::nullopt, "/nonexistent:" + dir.string());
  ASSERT_TRUE(on_path) << on_path.error().message;
  EXPECT_EQ(*on_path, bin.string());

  auto missing = find_helm(std::nullopt, "/nonexistent");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::config);
  EXPECT_EQ(missing.error().message, "helm not found: no executable 'helm' on PATH");
  EXPECT_THAT(missing.error().details, ElementsAre(HasSubstr("--helm PATH (NETPOL_HELM)")));

  auto given = find_helm("/nonexistent/helm", dir.string());
  ASSERT_FALSE(given);
  EXPECT_EQ(given.error().message, "helm not found: /nonexistent/helm is not an executable file");
}

TEST(Helm, ResolveChartKinds) {
  auto oci = resolve_chart("oci://quay.io/cilium/charts/cilium", std::nullopt);
  ASSERT_TRUE(oci);
  EXPECT_EQ(oci->kind, ChartKind::oci);
  EXPECT_EQ(oci->version, defaults::k_chart_version);

  auto repo = resolve_chart("cilium/cilium", "1.18.11");
  ASSERT_TRUE(repo);
  EXPECT_EQ(repo->kind, ChartKind::repository);
  EXPECT_EQ(repo->version, "1.18.11");

  auto url = resolve_chart("https://example.invalid/cilium-1.19.5.tgz", std::nullopt);
  ASSERT_TRUE(url);
  EXPECT_EQ(url->kind, ChartKind::url);
  EXPECT_FALSE(url->version);
}

TEST(Helm, ResolveLocalChartReadsItsVersion) {
  const auto dir = (test::source_dir() / "charts/cilium-test").string();
  auto local = resolve_chart(dir, std::nullopt);
  ASSERT_TRUE(local) << local.error().message;
  EXPECT_EQ(local->kind, ChartKind::local);
  EXPECT_FALSE(local->version);
  EXPECT_EQ(local->chart_version, "1.19.5-test");

  EXPECT_TRUE(resolve_chart(dir, "v1.19.5-test"));
  auto other = resolve_chart(dir, "1.18.2");
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().code, ErrorCode::config);
  EXPECT_THAT(other.error().message,
              AllOf(HasSubstr("is version 1.19.5-test"), HasSubstr("not the requested 1.18.2")));
}

TEST(Helm, MissingLocalChartIsAConfigError) {
  auto r = resolve_chart("/nonexistent/charts/cilium", std::nullopt);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::config);
  EXPECT_EQ(r.error().message, "chart /nonexistent/charts/cilium not found");
  EXPECT_THAT(r.error().details, ElementsAre(HasSubstr("oci://")));
}

TEST(Helm, DisplayCommandQuotesWhatAShellWouldSplit) {
  EXPECT_EQ(display_command({"helm", "--kube-context", "group/project:agent name", "it's"}),
            "helm --kube-context 'group/project:agent name' 'it'\\''s'");
  EXPECT_THAT(display_command({"helm", "upgrade"}), Not(HasSubstr("'")));
}

} // namespace
} // namespace netpol::cilium
