// `netpol analyze` end to end in-process: flags, stdout formats, report files, exit codes.
#include <filesystem>
#include <fstream>
#include <set>
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
using ::testing::StartsWith;

std::string read(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class AnalyzeCommand : public ::testing::Test {
protected:
  void SetUp() override {
    m_dir = fs::temp_directory_path() /
            ("netpol-analyze-" +
             std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(m_dir);
    fs::create_directories(m_dir / "empty");
  }
  void TearDown() override { fs::remove_all(m_dir); }

  // Namespaces and pods of an upstream e2e case step, as one --pods-from file.
  std::string pods_of(const std::string& step) {
    const auto dir = testdata("netpol/k8s-e2e-netpol/cases/" + step);
    const auto file = m_dir / "pods.yaml";
    std::ofstream(file) << read(dir / "namespaces.yaml") << "\n---\n" << read(dir / "pods.yaml");
    return file.string();
  }
  std::string policies_of(const std::string& step) {
    return testdata("netpol/k8s-e2e-netpol/cases/" + step + "/policies.yaml").string();
  }
  std::string write(const std::string& name, const std::string& content) {
    std::ofstream(m_dir / name) << content;
    return (m_dir / name).string();
  }
  std::vector<std::string> args(std::vector<std::string> rest) {
    std::vector<std::string> all = {"--output-dir", (m_dir / "out").string()};
    all.insert(all.end(), rest.begin(), rest.end());
    return all;
  }
  fs::path out(const std::string& name) const { return m_dir / "out" / name; }

  fs::path m_dir;
};

std::set<std::pair<std::string, std::string>> pairs(const nlohmann::json& list) {
  std::set<std::pair<std::string, std::string>> out;
  for (const auto& p : list)
    out.emplace(p["from"], p["to"]);
  return out;
}

TEST_F(AnalyzeCommand, JsonForOnePortIsOneObjectInTheSpecifiedShape) {
  auto r = run_cli(args({"--format", "json", "analyze", "--pods-from", pods_of("tcp-05/step1"),
                         "--policies", policies_of("tcp-05/step1"), "--port", "80"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto json = nlohmann::json::parse(r.out);
  ASSERT_TRUE(json.is_object());
  std::vector<std::string> keys;
  for (const auto& [k, v] : json.items())
    keys.push_back(k);
  EXPECT_THAT(keys, ::testing::UnorderedElementsAre("port", "protocol", "pods", "allowed"));
  EXPECT_EQ(json["port"], 80);
  EXPECT_EQ(json["protocol"], "TCP");
  EXPECT_EQ(json["pods"], nlohmann::json::parse(R"(["x/a","x/b","y/a","z/a"])"));
  // Expectations of the case (loopback rows are evaluated by policy like any other pair).
  std::set<std::pair<std::string, std::string>> want;
  std::ifstream tsv(testdata("netpol/k8s-e2e-netpol/cases/tcp-05/step1/expected-TCP-80.tsv"));
  std::string line;
  while (std::getline(tsv, line)) {
    if (line.empty() || line[0] == '#' || line.find("loopback") != std::string::npos) continue;
    std::stringstream ss(line);
    std::string from, to, verdict;
    ss >> from >> to >> verdict;
    if (verdict == "allow") want.emplace(from, to);
  }
  auto got = pairs(json["allowed"]);
  for (auto it = got.begin(); it != got.end();) {
    it = it->first == it->second ? got.erase(it) : std::next(it);
  }
  EXPECT_EQ(got, want);
}

TEST_F(AnalyzeCommand, WithoutPortEveryNamedPortAndOneOtherPortAreAnalysed) {
  auto r = run_cli(args({"--format", "json", "analyze", "--pods-from", pods_of("tcp-17/step1"),
                         "--policies", policies_of("tcp-17/step1")}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto json = nlohmann::json::parse(r.out);
  ASSERT_TRUE(json.is_array());
  ASSERT_EQ(json.size(), 2u);
  EXPECT_EQ(json[0]["port"], 81) << "serve-81-tcp resolved against the pods";
  EXPECT_EQ(json[1]["port"], 65535);
  EXPECT_EQ(json[0]["allowed"].size(), 9u);
  EXPECT_EQ(json[1]["allowed"].size(), 3u) << "x/* isolated on ports other than 81";
}

TEST_F(AnalyzeCommand, TextGroupsByWorkloadAndFilesAreWritten) {
  const auto pods = write("pods.yaml", R"(
kind: Pod
metadata:
  name: web-7d9f8c-abcde
  namespace: shop
  labels: {app: web, pod-template-hash: 7d9f8c}
---
kind: Pod
metadata:
  name: web-7d9f8c-fghij
  namespace: shop
  labels: {app: web, pod-template-hash: 7d9f8c}
---
kind: Pod
metadata:
  name: db-0
  namespace: shop
  labels: {app: db, statefulset.kubernetes.io/pod-name: db-0}
)");
  const auto policy = write("policy.yaml", R"(
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db, namespace: shop}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress: [{from: [{podSelector: {matchLabels: {app: web}}}], ports: [{port: 5432}]}]
)");
  auto r = run_cli(args({"analyze", "--pods-from", pods, "--policies", policy, "--port", "5432"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("TCP/5432: 8 of 9 pod pairs allowed"));
  EXPECT_THAT(r.out,
              HasSubstr("shop/web (2 pods) -> shop/db (all 2 pairs), shop/web (all 4 pairs)"));
  EXPECT_THAT(r.out, HasSubstr("shop/db (1 pod) -> shop/web (all 2 pairs)"));
  EXPECT_EQ(read(out("connectivity.txt")), r.out);
  const auto file = nlohmann::json::parse(read(out("connectivity.json")));
  ASSERT_TRUE(file.is_array());
  EXPECT_EQ(file[0]["allowed"].size(), 8u);
  EXPECT_THAT(read(out("junit-analyze.xml")), HasSubstr("<testsuite name=\"netpol analyze\""));
}

TEST_F(AnalyzeCommand, DiffReportsNewlyDeniedAndAllowed) {
  const auto base = write("base.yaml", R"(
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: only-b, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress: [{from: [{podSelector: {matchLabels: {pod: b}}}]}]
)");
  auto r = run_cli(
      args({"--format", "json", "analyze", "--pods-from", pods_of("tcp-02/step1"), "--policies",
            policies_of("tcp-02/step1"), "--port", "80", "--diff", "--base-policies", base}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto json = nlohmann::json::parse(r.out);
  EXPECT_FALSE(json.contains("allowed"));
  // tcp-02 denies all ingress and egress in x: everything x/b could still do is lost, and
  // y/a -> x/a was already denied by the base.
  const auto denied = pairs(json["newly_denied"]);
  EXPECT_TRUE(denied.count({"x/b", "x/a"}));
  EXPECT_TRUE(denied.count({"y/a", "x/b"}));
  EXPECT_FALSE(denied.count({"y/a", "x/a"}));
  EXPECT_TRUE(json["newly_allowed"].empty());
  EXPECT_THAT(read(out("junit-analyze.xml")), HasSubstr("would be newly denied"));
  EXPECT_THAT(read(out("connectivity.txt")),
              HasSubstr("TCP/80: 6 pod pairs newly denied, 0 newly allowed\n newly denied "
                        "(unverified: no flow evidence given; --flows tells which are used):\n"
                        "  x/a (1 pod) -> x/b, y/a\n"));
  const auto file = nlohmann::json::parse(read(out("connectivity.json")));
  ASSERT_TRUE(file.is_array());
  EXPECT_TRUE(file[0].contains("allowed")) << "the file has the matrix and the diff";
  EXPECT_EQ(file[0]["newly_denied"], json["newly_denied"]);
}

TEST_F(AnalyzeCommand, IpBlockMatchingPodsCanBeSwitchedOff) {
  auto query = [&](const std::string& value) {
    auto r = run_cli(
        args({"--format", "json", "analyze", "--pods-from", pods_of("tcp-34/step1"), "--policies",
              policies_of("tcp-34/step1"), "--port", "80", "--ipblock-matches-pods=" + value}));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return pairs(nlohmann::json::parse(r.out)["allowed"]).count({"x/a", "y/b"}) == 1;
  };
  EXPECT_TRUE(query("true"));
  EXPECT_FALSE(query("false"));
}

TEST_F(AnalyzeCommand, PoliciesDefaultToNetworkPolicyPath) {
  MapEnvironment env{{"NETWORK_POLICY_PATH", (m_dir / "empty").string()}};
  auto r = run_cli(
      args({"--format", "json", "analyze", "--pods-from", pods_of("tcp-01/step1"), "--port", "80"}),
      env);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["allowed"].size(), 16u) << "no policies: all 4x4 pairs";
}

TEST_F(AnalyzeCommand, PodsFromAJsonList) {
  const auto pods = write("pods.json", R"({"apiVersion":"v1","kind":"List","items":[
    {"kind":"Namespace","metadata":{"name":"a"}},
    {"kind":"Pod","metadata":{"name":"p","namespace":"a"},"status":{"podIP":"10.1.1.1"}},
    {"kind":"Pod","metadata":{"name":"done","namespace":"a"},"status":{"phase":"Succeeded"}}]})");
  auto r = run_cli(args({"--format", "json", "analyze", "--pods-from", pods, "--policies",
                         (m_dir / "empty").string(), "--port", "80"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["pods"], nlohmann::json::parse(R"(["a/p"])"));
}

// A name from --pods-from (or the cluster) with a terminal escape in it must not reach the
// terminal or connectivity.txt raw: it is shown escaped.
TEST_F(AnalyzeCommand, NamesWithControlCharactersAreShownEscaped) {
  const auto pods = write("pods.json", R"({"apiVersion":"v1","kind":"List","items":[
    {"kind":"Namespace","metadata":{"name":"a"}},
    {"kind":"Pod","metadata":{"name":"p]0;owned2J","namespace":"a"},
     "status":{"podIP":"10.1.1.1"}}]})");
  auto r = run_cli(args(
      {"analyze", "--pods-from", pods, "--policies", (m_dir / "empty").string(), "--port", "80"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string file = read(out("connectivity.txt"));
  for (const std::string& text : {r.out, file}) {
    EXPECT_THAT(text, HasSubstr("a/p\\x1b]0;owned\\x07\\u009b2J (1 pod)")) << text;
    EXPECT_EQ(text.find('\x1b'), std::string::npos) << text;
    EXPECT_EQ(text.find('\x07'), std::string::npos) << text;
    EXPECT_EQ(text.find("\xc2\x9b"), std::string::npos) << text;
  }
  EXPECT_EQ(r.err.find('\x1b'), std::string::npos) << r.err;
}

TEST_F(AnalyzeCommand, InvalidPolicyExits3WithFileLineAndJUnitError) {
  const auto policy = write("bad.yaml", "kind: NetworkPolicy\nmetadata: {name: p}\nspec:\n"
                                        "  podSelector: {}\n  ingress:\n  - from: [{}]\n");
  auto r = run_cli(args({"analyze", "--pods-from", pods_of("tcp-01/step1"), "--policies", policy}));
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_THAT(r.err, HasSubstr("netpol: error: " + policy +
                               ":6: NetworkPolicy/default/p: must "
                               "specify a peer"));
  EXPECT_THAT(read(out("junit-analyze.xml")), HasSubstr("<error message="));
  EXPECT_TRUE(r.out.empty());
}

// A policy analyze could model but the API server would refuse is not analysed either: what
// is computed is what apply would accept.
TEST_F(AnalyzeCommand, APolicyTheServerWouldRefuseExits3) {
  // analyze models this policy; the API server refuses its name (not a DNS-1123 subdomain).
  const auto policy = write("name.yaml", "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
                                         "metadata: {name: Web_1}\nspec:\n  podSelector: {}\n");
  auto r = run_cli(args({"analyze", "--pods-from", pods_of("tcp-01/step1"), "--policies", policy}));
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_THAT(r.err, HasSubstr("netpol: error: --policies: " + policy + ":3: error: "));
  EXPECT_THAT(r.err, HasSubstr("metadata.name: Invalid value: \"Web_1\""));
  EXPECT_FALSE(fs::exists(out("connectivity.json")) &&
               read(out("connectivity.json")).find("allowed") != std::string::npos)
      << "nothing computed";
}

TEST_F(AnalyzeCommand, UnmodelledCiliumPartsAreWarnedOnStderr) {
  const auto policy = write("cnp.yaml", R"(
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: fqdn, namespace: x}
spec:
  endpointSelector: {}
  egress: [{toFQDNs: [{matchName: example.com}]}]
)");
  auto r = run_cli(args(
      {"analyze", "--pods-from", pods_of("tcp-01/step1"), "--policies", policy, "--port", "443"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("warning: " + policy +
                               ":7: CiliumNetworkPolicy/x/fqdn: toFQDNs is "
                               "not analysed"));
  EXPECT_THAT(read(out("junit-analyze.xml")), HasSubstr("<skipped message=\"not analysed: "));
}

TEST_F(AnalyzeCommand, UsageErrors) {
  const std::string pods = pods_of("tcp-01/step1");
  const std::string none = (m_dir / "empty").string();
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"analyze", "--policies", none}, "analyze needs --pods-from FILE"},
      {{"analyze", "--pods-from", pods, "--policies", none, "--diff"},
       "--diff needs --base-policies"},
      {{"analyze", "--pods-from", pods, "--policies", none, "--protocol", "UDP"},
       "--protocol needs --port"},
      {{"analyze", "--pods-from", pods, "--policies", none, "--port", "70000"}, "--port 70000"},
      {{"analyze", "--pods-from", pods, "--policies", none, "--port", "80", "--protocol", "ICMP"},
       "--protocol 'ICMP'"},
      {{"analyze", "--pods-from", pods, "--policies", none, "--ipblock-matches-pods=maybe"},
       "invalid boolean 'maybe'"},
  };
  for (const auto& [argv, message] : cases) {
    auto r = run_cli(args(argv));
    EXPECT_EQ(r.exit_code, 2) << message;
    EXPECT_THAT(r.err, StartsWith("netpol: error: ")) << message;
    EXPECT_THAT(r.err, HasSubstr(message));
  }
}

TEST_F(AnalyzeCommand, MissingInputFilesAreConfigurationErrors) {
  auto r = run_cli(args({"analyze", "--pods-from", (m_dir / "nope.yaml").string(), "--policies",
                         (m_dir / "empty").string()}));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("nope.yaml"));
  r = run_cli(args({"analyze", "--pods-from", pods_of("tcp-01/step1"), "--policies",
                    (m_dir / "missing").string()}));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("missing: no such file or directory"));
}

TEST_F(AnalyzeCommand, HelpNeedsNoCluster) {
  auto r = run_cli({"analyze", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.out, HasSubstr("--pods-from"));
  EXPECT_THAT(r.out, HasSubstr("NETWORK_POLICY_PATH"));
}

} // namespace
} // namespace netpol::test
