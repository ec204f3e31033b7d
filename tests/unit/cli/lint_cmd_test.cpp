#include <fstream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/paths.hpp"
#include "support/run_cli.hpp"

namespace netpol::test {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

struct LintDir {
  fs::path out = fs::temp_directory_path() /
                 ("netpol-lint-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
  ~LintDir() { fs::remove_all(out); }
  std::string read(const std::string& name) const {
    std::ifstream in(out / name);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  static inline int counter = 0;
};

std::string validation(const std::string& rel) {
  return testdata("netpol/k8s-validation/" + rel).string();
}

TEST(LintCmd, ValidFileExitsZeroAndWritesJUnit) {
  LintDir d;
  auto r = run_cli({"lint", validation("valid/success-03.yaml"), "--output-dir", d.out.string()});
  EXPECT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_THAT(r.out, HasSubstr("1 objects, 0 invalid; 0 errors"));
  const std::string xml = d.read("junit-lint.xml");
  EXPECT_THAT(xml, HasSubstr("<testsuite name=\"netpol lint\""));
  EXPECT_THAT(xml, HasSubstr("NetworkPolicy/bar/foo is valid"));
  EXPECT_THAT(xml, Not(HasSubstr("<failure")));
}

// The upstream cases all name NetworkPolicy/bar/foo: valid one by one, not as one set.
TEST(LintCmd, DuplicateNamesInOneSetExitThree) {
  LintDir d;
  auto r = run_cli({"lint", validation("valid"), "--output-dir", d.out.string()});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_THAT(r.out, HasSubstr("17 objects, 0 invalid; 16 errors"));
  EXPECT_THAT(r.out, HasSubstr("[duplicate-name]"));
}

TEST(LintCmd, OneInvalidObjectExitsThreeWithFileLineAndPath) {
  LintDir d;
  auto r = run_cli({"lint", validation("valid/success-00.yaml"),
                    validation("invalid/invalid-ingress-ports-protocol.yaml"), "--output-dir",
                    d.out.string()});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_THAT(r.out,
              ::testing::ContainsRegex(
                  "invalid-ingress-ports-protocol\\.yaml:[0-9]+: error: NetworkPolicy/bar/foo: "
                  "spec\\.ingress\\[0\\]\\.ports\\[0\\]\\.protocol: Unsupported value: \"ICMP\""));
  EXPECT_THAT(r.err, HasSubstr("netpol: error: 1 of 2 objects invalid"));
  EXPECT_THAT(d.read("junit-lint.xml"), HasSubstr("<failure"));
}

// gl-code-quality-report.json: every finding at its file and line, with a fingerprint that
// does not move with the line (GitLab compares fingerprints for new and fixed findings).
TEST(LintCmd, CodeQualityReportPutsFindingsOnTheirLines) {
  LintDir d;
  fs::create_directories(d.out);
  const auto write_policy = [&](const std::string& leading) {
    std::ofstream(d.out / "p.yaml", std::ios::trunc)
        << leading
        << "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
           "metadata: {name: web, namespace: shop}\n"
           "spec:\n  podSelector: {}\n  policyTypes: [Egress]\n  egress:\n"
           "  - ports: [{port: 443}]\n";
  };
  write_policy("");
  auto r = run_cli({"lint", (d.out / "p.yaml").string(), "--output-dir", (d.out / "o").string()},
                   {{"CI_PROJECT_DIR", d.out.string()}});
  EXPECT_EQ(r.exit_code, 0) << r.err << r.out;
  ASSERT_THAT(r.out, HasSubstr("[egress-blocks-dns]"));
  const auto report = nlohmann::json::parse(d.read("o/gl-code-quality-report.json"));
  ASSERT_TRUE(report.is_array());
  const nlohmann::json* dns = nullptr;
  for (const auto& issue : report)
    if (issue["check_name"] == "netpol/egress-blocks-dns") dns = &issue;
  ASSERT_NE(dns, nullptr) << report.dump(2);
  EXPECT_EQ((*dns)["severity"], "minor");
  EXPECT_EQ((*dns)["location"]["path"], "p.yaml") << "relative to CI_PROJECT_DIR";
  EXPECT_EQ((*dns)["location"]["lines"]["begin"], 7) << "the egress: line";
  EXPECT_THAT((*dns)["description"].get<std::string>(), HasSubstr("NetworkPolicy/shop/web: "));
  EXPECT_EQ((*dns)["fingerprint"].get<std::string>().size(), 64u);

  // Two lines further down: same finding, same fingerprint, new line.
  write_policy("# a comment\n# another\n");
  auto again = run_cli({"lint", (d.out / "p.yaml").string(), "--output-dir", (d.out / "o").string()},
                       {{"CI_PROJECT_DIR", d.out.string()}});
  const auto moved = nlohmann::json::parse(d.read("o/gl-code-quality-report.json"));
  bool found = false;
  for (const auto& issue : moved) {
    if (issue["check_name"] != "netpol/egress-blocks-dns") continue;
    found = true;
    EXPECT_EQ(issue["location"]["lines"]["begin"], 9);
    EXPECT_EQ(issue["fingerprint"], (*dns)["fingerprint"]);
  }
  EXPECT_TRUE(found) << moved.dump(2);
}

TEST(LintCmd, InvalidPolicyIsACriticalCodeQualityIssue) {
  LintDir d;
  auto r = run_cli({"lint", validation("invalid/invalid-ingress-ports-protocol.yaml"),
                    "--output-dir", d.out.string()});
  EXPECT_EQ(r.exit_code, 3);
  const auto report = nlohmann::json::parse(d.read("gl-code-quality-report.json"));
  ASSERT_FALSE(report.empty());
  EXPECT_EQ(report[0]["severity"], "critical");
  EXPECT_THAT(report[0]["location"]["path"].get<std::string>(),
              HasSubstr("invalid-ingress-ports-protocol.yaml"));
  EXPECT_GT(report[0]["location"]["lines"]["begin"].get<int>(), 1);
}

TEST(LintCmd, JsonOutput) {
  LintDir d;
  auto r = run_cli({"lint", validation("invalid-derived/ipblock-host-bits-set.yaml"), "--format",
                    "json", "--output-dir", d.out.string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["summary"]["objects"], 1);
  EXPECT_EQ(j["objects"][0]["valid"], true);
  bool api_warning = false;
  for (const auto& f : j["findings"])
    api_warning = api_warning || f["check"] == "api-warning";
  EXPECT_TRUE(api_warning);
}

TEST(LintCmd, StrictFailsOnWarnings) {
  LintDir d;
  auto r = run_cli({"lint", validation("invalid-derived/ipblock-host-bits-set.yaml"), "--strict",
                    "--output-dir", d.out.string()});
  EXPECT_EQ(r.exit_code, 4);
}

TEST(LintCmd, TemplatesUseEnvironmentAndVar) {
  LintDir d;
  fs::create_directories(d.out);
  const fs::path file = d.out / "p.yaml";
  std::ofstream(file) << "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n"
                         "  name: web\n  namespace: ${KUBE_NAMESPACE}\nspec: {podSelector: {}}\n";
  auto unset = run_cli({"lint", file.string(), "--output-dir", d.out.string()});
  EXPECT_EQ(unset.exit_code, 3);
  EXPECT_THAT(unset.err, HasSubstr("p.yaml:5: template variable KUBE_NAMESPACE is not set"));
  auto with_var = run_cli({"lint", file.string(), "--var", "KUBE_NAMESPACE=shop", "--format",
                           "json", "--output-dir", d.out.string()});
  EXPECT_EQ(with_var.exit_code, 0) << with_var.err;
  EXPECT_EQ(nlohmann::json::parse(with_var.out)["objects"][0]["object"], "NetworkPolicy/shop/web");
  MapEnvironment env{{"KUBE_NAMESPACE", "prod"}};
  auto from_env = run_cli({"lint", file.string(), "--output-dir", d.out.string()}, env);
  EXPECT_EQ(from_env.exit_code, 0) << from_env.err;
}

TEST(LintCmd, PodsFromEnablesInventoryChecks) {
  LintDir d;
  const auto dir = testdata("netpol/linters/kube-linter/tests/checks");
  fs::create_directories(d.out);
  const fs::path pods = d.out / "pods.yaml";
  std::ofstream(pods) << "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: other}\nspec:\n"
                         "  template:\n    metadata: {labels: {app: other}}\n";
  const std::string policy = (dir / "dangling-networkpolicy.yml").string();
  auto without = run_cli({"lint", policy, "--output-dir", d.out.string()});
  EXPECT_THAT(without.out, Not(HasSubstr("[selects-no-pods]")));
  auto with =
      run_cli({"lint", policy, "--pods-from", pods.string(), "--output-dir", d.out.string()});
  EXPECT_EQ(with.exit_code, 0) << with.err;
  EXPECT_THAT(with.out, HasSubstr("[selects-no-pods]"));
  EXPECT_THAT(with.out, HasSubstr("Deployment/default/other: no NetworkPolicy selects"));
}

TEST(LintCmd, MissingPathIsARuntimeError) {
  LintDir d;
  auto r = run_cli({"lint", "/nonexistent/dir", "--output-dir", d.out.string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("/nonexistent/dir: no such file or directory"));
}

// SPEC §6: ${CI_JOB_TOKEN} in a policy is an input error (exit 3), and nothing of its value
// reaches stdout, stderr or the report; a variable listed in NETPOL_TEMPLATE_VARS is read.
TEST(LintCmd, TemplatesReadOnlyTheAllowList) {
  LintDir d;
  fs::create_directories(d.out);
  const auto policy = (d.out / "p.yaml").string();
  std::ofstream(policy) << "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n"
                           "  name: web\n  labels:\n    token: ${CI_JOB_TOKEN}\n"
                           "    team: ${TEAM}\nspec:\n  podSelector: {}\n";
  const MapEnvironment env{{"CI_JOB_TOKEN", "glcbt-lint-secret-0123"}, {"TEAM", "payments"}};
  auto refused = run_cli({"lint", policy, "--output-dir", (d.out / "r").string()}, env);
  EXPECT_EQ(refused.exit_code, 3) << refused.err;
  EXPECT_THAT(refused.out,
              HasSubstr("p.yaml:6: error: template variable CI_JOB_TOKEN may not be read"));
  EXPECT_THAT(refused.out, HasSubstr("p.yaml:7: error: template variable TEAM may not be read"));
  const auto junit = d.read("r/junit-lint.xml");
  for (const std::string& text : {refused.out, refused.err, junit})
    EXPECT_THAT(text, Not(HasSubstr("glcbt-lint-secret-0123")));

  MapEnvironment listed = env;
  listed.set("NETPOL_TEMPLATE_VARS", "TEAM");
  auto still = run_cli({"lint", policy, "--output-dir", (d.out / "s").string()}, listed);
  EXPECT_EQ(still.exit_code, 3);
  EXPECT_THAT(still.out, HasSubstr("CI_JOB_TOKEN may not be read"));
  EXPECT_THAT(still.out, Not(HasSubstr("TEAM may not be read")));

  listed.set("NETPOL_TEMPLATE_VARS", "TEAM,CI_JOB_TOKEN");
  auto secret = run_cli({"lint", policy, "--output-dir", (d.out / "t").string()}, listed);
  EXPECT_EQ(secret.exit_code, 2);
  EXPECT_THAT(secret.err, HasSubstr("CI_JOB_TOKEN holds a credential"));

  auto flag = run_cli({"lint", policy, "--template-vars", "TEAM", "--var", "CI_JOB_TOKEN=x",
                       "--output-dir", (d.out / "u").string()},
                      env);
  EXPECT_EQ(flag.exit_code, 0) << flag.out << flag.err;
}

} // namespace
} // namespace netpol::test
