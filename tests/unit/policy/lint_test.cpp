// Lint checks against the fixtures of kube-linter, Polaris and Kyverno
// (tests/data/netpol/linters) and against small cases for the checks they do not cover.
#include <algorithm>
#include <fstream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "policy/lint.hpp"
#include "policy/loader.hpp"
#include "support/paths.hpp"

namespace netpol::policy {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

fs::path linters() {
  return test::testdata("netpol/linters");
}

// Loads fixture files whose workloads form the inventory, as `lint --pods-from` does.
std::vector<Finding> lint_fixture(const std::vector<fs::path>& files) {
  std::vector<std::string> paths;
  for (const auto& f : files)
    paths.push_back(f.string());
  LoadOptions load;
  load.collect_other_kinds = true;
  auto loaded = load_policies(paths, load);
  EXPECT_TRUE(loaded.errors.empty()) << loaded.errors.front().message;
  LintOptions options;
  options.inventory = make_inventory(loaded.others, "default");
  return lint(loaded.policies, options);
}

int count(const std::vector<Finding>& findings, const std::string& check) {
  return static_cast<int>(std::count_if(findings.begin(), findings.end(),
                                        [&](const Finding& f) { return f.check == check; }));
}

std::string dump(const std::vector<Finding>& findings) {
  std::string out;
  for (const auto& f : findings)
    out += f.text() + "\n";
  return out;
}

// kube-linter: EXPECTED.tsv gives the number of reports per check and fixture.
TEST(Lint, KubeLinterFixtures) {
  const std::map<std::string, std::string> ours = {
      {"dangling-networkpolicy", "selects-no-pods"},
      {"dangling-networkpolicypeer-podselector", "peer-selects-no-pods"},
      {"non-isolated-pod", "pod-not-isolated"},
  };
  std::ifstream expected(linters() / "kube-linter/EXPECTED.tsv");
  std::string line;
  int cases = 0;
  while (std::getline(expected, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::string file, check, exit_code, report_count;
    std::getline(fields, file, '\t');
    std::getline(fields, check, '\t');
    std::getline(fields, exit_code, '\t');
    std::getline(fields, report_count, '\t');
    SCOPED_TRACE(file);
    ASSERT_TRUE(ours.count(check)) << check;
    auto findings = lint_fixture({linters() / "kube-linter" / file});
    EXPECT_EQ(count(findings, ours.at(check)), std::stoi(report_count)) << dump(findings);
    ++cases;
  }
  EXPECT_EQ(cases, 3);
}

TEST(Lint, KubeLinterNonIsolatedNamesTheWorkloads) {
  auto findings = lint_fixture({linters() / "kube-linter/tests/checks/non-isolated-pod.yml"});
  std::vector<std::string> objects;
  for (const auto& f : findings)
    if (f.check == "pod-not-isolated") objects.push_back(f.object);
  EXPECT_THAT(objects, ::testing::UnorderedElementsAre("Deployment/default/app1",
                                                       "DeploymentConfig/default/app2"));
}

// Polaris missingNetworkPolicy: the file name prefix is the expected result; each failure
// maps to the check of ours that explains it.
TEST(Lint, PolarisFixtures) {
  const fs::path dir = linters() / "polaris/test/checks/missingNetworkPolicy";
  const std::map<std::string, std::string> failure_check = {
      {"failure.netpol_missing_egress_in_policytypes.yaml", "rules-ignored-by-policy-types"},
      {"failure.netpol_missing_ingress_in_policytypes.yaml", "rules-ignored-by-policy-types"},
      {"failure.netpol_missing_egress_rules.yaml", "denies-all-traffic"},
      {"failure.netpol_missing_ingress_rules.yaml", "denies-all-traffic"},
      {"failure.netpol_targets_wrong_pod_label.yaml", "selects-no-pods"},
  };
  const std::vector<std::string> polaris_like = {
      "rules-ignored-by-policy-types", "denies-all-traffic", "selects-no-pods", "pod-not-isolated"};
  int files = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    SCOPED_TRACE(name);
    auto findings = lint_fixture({entry.path()});
    ++files;
    if (name.rfind("success", 0) == 0) {
      for (const auto& check : polaris_like)
        EXPECT_EQ(count(findings, check), 0) << dump(findings);
    } else {
      ASSERT_TRUE(failure_check.count(name));
      EXPECT_EQ(count(findings, failure_check.at(name)), 1) << dump(findings);
    }
  }
  EXPECT_EQ(files, 6);
}

// Kyverno require-netpol: good deployments are selected by a policy, bad ones are not.
TEST(Lint, KyvernoRequireNetpol) {
  const fs::path dir = linters() / "kyverno/other/require-netpol/.chainsaw-test";
  auto good = lint_fixture({dir / "netpol.yaml", dir / "deploy-good.yaml"});
  EXPECT_EQ(count(good, "pod-not-isolated"), 0) << dump(good);
  auto bad = lint_fixture({dir / "netpol.yaml", dir / "deploy-bad.yaml"});
  EXPECT_EQ(count(bad, "pod-not-isolated"), 4) << dump(bad); // all four deployments
  auto resource =
      lint_fixture({linters() / "kyverno/other/require-netpol/.kyverno-test/resource.yaml"});
  EXPECT_EQ(count(resource, "pod-not-isolated"), 1) << dump(resource);
}

std::vector<Finding> lint_text(const std::string& text, LintOptions options = {}) {
  auto loaded = load_policy_text(text, "p.yaml", {});
  EXPECT_TRUE(loaded.errors.empty());
  return lint(loaded.policies, options);
}

const char* const k_head = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n";

TEST(Lint, EgressWithoutDnsWarns) {
  auto findings = lint_text(std::string(k_head) +
                            "metadata: {name: web, namespace: shop}\nspec:\n  podSelector: {}\n"
                            "  policyTypes: [Egress]\n  egress:\n  - ports: [{port: 443}]\n");
  ASSERT_EQ(count(findings, "egress-blocks-dns"), 1) << dump(findings);
  auto it = std::find_if(findings.begin(), findings.end(),
                         [](const Finding& f) { return f.check == "egress-blocks-dns"; });
  EXPECT_EQ(it->severity, Severity::warning);
  EXPECT_EQ(it->where, "p.yaml:7"); // the egress rules
  EXPECT_EQ(it->object, "NetworkPolicy/shop/web");
}

TEST(Lint, DnsAllowedByAnotherPolicyOfTheNamespaceIsEnough) {
  auto findings = lint_text(
      std::string(k_head) +
      "metadata: {name: web, namespace: shop}\nspec:\n  podSelector: {matchLabels: {app: web}}\n"
      "  egress:\n  - ports: [{port: 443}]\n---\n" +
      k_head +
      "metadata: {name: dns, namespace: shop}\nspec:\n  podSelector: {}\n  policyTypes: [Egress]\n"
      "  egress:\n  - ports: [{port: 53, protocol: UDP}, {port: 53, protocol: TCP}]\n");
  EXPECT_EQ(count(findings, "egress-blocks-dns"), 0) << dump(findings);
}

TEST(Lint, DnsOverUdpOnlyIsInfo) {
  auto findings =
      lint_text(std::string(k_head) + "metadata: {name: web}\nspec:\n  podSelector: {}\n  egress:\n"
                                      "  - ports: [{port: 53, protocol: UDP}]\n");
  ASSERT_EQ(count(findings, "egress-blocks-dns"), 1);
  EXPECT_EQ(findings[0].severity, Severity::info);
}

TEST(Lint, NamedPortNotExposed) {
  LoadOptions load;
  load.collect_other_kinds = true;
  auto loaded = load_policy_text(
      std::string(k_head) +
          "metadata: {name: web}\nspec:\n  podSelector: {matchLabels: {app: web}}\n  ingress:\n"
          "  - ports: [{port: http}, {port: metrics}]\n---\napiVersion: v1\nkind: Pod\n"
          "metadata: {name: web-1, labels: {app: web}}\nspec:\n  containers:\n  - name: c\n"
          "    ports: [{name: http, containerPort: 8080}]\n",
      "p.yaml", load);
  ASSERT_TRUE(loaded.errors.empty());
  LintOptions options;
  options.inventory = make_inventory(loaded.others, "default");
  auto findings = lint(loaded.policies, options);
  ASSERT_EQ(count(findings, "named-port-not-exposed"), 1) << dump(findings);
  EXPECT_EQ(count(findings, "selects-no-pods"), 0);
  for (const auto& f : findings) {
    if (f.check == "named-port-not-exposed") {
      EXPECT_THAT(f.message, HasSubstr("\"metrics\""));
    }
  }
}

TEST(Lint, ChecksNeedingAnInventoryDoNotRunWithout) {
  auto findings = lint_text(std::string(k_head) +
                            "metadata: {name: web}\nspec:\n  podSelector: {matchLabels: {app: x}}\n"
                            "  ingress:\n  - ports: [{port: http}]\n");
  EXPECT_EQ(count(findings, "selects-no-pods"), 0);
  EXPECT_EQ(count(findings, "named-port-not-exposed"), 0);
  EXPECT_EQ(count(findings, "pod-not-isolated"), 0);
}

TEST(Lint, IpBlockCoveringThePodCidr) {
  const std::string text = std::string(k_head) +
                           "metadata: {name: web}\nspec:\n  podSelector: {}\n  ingress:\n"
                           "  - from:\n    - ipBlock: {cidr: 0.0.0.0/0}\n"
                           "    - ipBlock: {cidr: 10.0.0.0/8, except: [10.244.0.0/16]}\n";
  EXPECT_EQ(count(lint_text(text), "ipblock-covers-pod-cidr"), 0); // pod CIDR unknown
  LintOptions options;
  options.pod_cidrs.push_back(*model::Cidr::parse("10.244.0.0/16", model::IpSyntax::api_server));
  auto findings = lint_text(text, options);
  ASSERT_EQ(count(findings, "ipblock-covers-pod-cidr"), 1) << dump(findings);
  EXPECT_EQ(findings[0].where, "p.yaml:8"); // the 0.0.0.0/0 peer
}

TEST(Lint, NamedPortTowardsIpBlock) {
  auto findings =
      lint_text(std::string(k_head) +
                "metadata: {name: web}\nspec:\n  podSelector: {}\n  egress:\n"
                "  - to: [{ipBlock: {cidr: 192.0.2.0/24}}]\n    ports: [{port: https}]\n");
  EXPECT_EQ(count(findings, "named-port-to-ipblock"), 1) << dump(findings);
}

TEST(Lint, DuplicateNamesAreAnError) {
  auto findings =
      lint_text(std::string(k_head) + "metadata: {name: a, namespace: x}\nspec: {}\n---\n" +
                k_head + "metadata: {name: a, namespace: x}\nspec: {}\n");
  ASSERT_EQ(count(findings, "duplicate-name"), 1);
  EXPECT_EQ(findings[0].severity, Severity::error);
  EXPECT_THAT(findings[0].message, HasSubstr("p.yaml:3"));
}

TEST(Lint, GenerateNameWithoutANameIsAnError) {
  auto findings =
      lint_text(std::string(k_head) + "metadata: {generateName: web-, namespace: x}\nspec: {}\n");
  ASSERT_EQ(count(findings, "generate-name"), 1) << dump(findings);
  const auto& f = *std::find_if(findings.begin(), findings.end(),
                                [](const Finding& x) { return x.check == "generate-name"; });
  EXPECT_EQ(f.severity, Severity::error);
  EXPECT_EQ(f.where, "p.yaml:3");
  EXPECT_THAT(f.message, HasSubstr("set metadata.name"));
}

TEST(Lint, NamespaceWithoutDefaultDenyIsInfo) {
  auto with = lint_text(std::string(k_head) + "metadata: {name: deny, namespace: a}\n"
                                              "spec: {podSelector: {}}\n");
  EXPECT_EQ(count(with, "namespace-without-default-deny"), 0) << dump(with);
  auto without = lint_text(std::string(k_head) + "metadata: {name: allow, namespace: a}\n"
                                                 "spec:\n  podSelector: {}\n  ingress: [{}]\n");
  ASSERT_EQ(count(without, "namespace-without-default-deny"), 1);
  EXPECT_EQ(without[0].object, "Namespace/a");
  EXPECT_EQ(without[0].severity, Severity::info);
}

} // namespace
} // namespace netpol::policy
