// `netpol run` with the previous run's drop summary against the real kube-apiserver: the run's
// JUnit case and exit code for --fail-on-new-drops, and an artifacts API that fails (a local
// server) never lets the check pass while every report is still written.
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "support/https_server.hpp"
#include "support/paths.hpp"
#include "support/run_cli.hpp"
#include "support/temp_dir.hpp"
#include "support/test_cluster.hpp"

namespace netpol::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const std::string k_token = "glcbt-64_run-previous-summary-token";

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(RunNewDropsE2e, FailsOnlyOnRowsThePreviousRunDidNotHave) {
  NETPOL_REQUIRE_TEST_CLUSTER(cluster);
  TempDir dir;
  const auto ns = cluster->create_namespace("run-new-drops");
  MapEnvironment env{{"KUBECONFIG", cluster->kubeconfig},
                     {"KUBE_NAMESPACE", ns},
                     {"CI_PROJECT_ID", "11"},
                     {"CI_ENVIRONMENT_SLUG", "staging"},
                     {"CI_PROJECT_DIR", dir.path().string()}};
  const std::string sample = testdata("hubble/hubble-flows-sample.jsonl").string();
  auto run = [&](const std::string& out, std::vector<std::string> extra) {
    std::vector<std::string> args = {"--output-dir", dir.file(out), "run",
                                     "--from-file",  sample,        "-A"};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_cli(args, env);
  };
  // The first run: its summary is the baseline (two dropped rows in the sample).
  auto first = run("first", {"--previous-summary", "none"});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const std::string baseline = dir.file("first/drop-summary.json");
  auto rows = nlohmann::json::parse(slurp(baseline))["rows"];
  ASSERT_EQ(rows.size(), 2u);

  env.set("NETWORK_POLICY_FAIL_ON_NEW_DROPS", "true");
  auto same = run("same", {"--previous-summary", baseline});
  EXPECT_EQ(same.exit_code, 0) << same.err;
  EXPECT_THAT(slurp(dir.file("same/junit-run.xml")),
              HasSubstr("name=\"no new dropped or audited flows\""));
  EXPECT_THAT(slurp(dir.file("same/junit-run.xml")), Not(HasSubstr("<failure")));

  // A baseline that had only the first row: the second is new.
  auto one = nlohmann::json::parse(slurp(baseline));
  one["rows"].erase(1);
  const std::string partial = dir.write("partial.json", one.dump());
  auto fresh = run("fresh", {"--previous-summary", partial});
  EXPECT_EQ(fresh.exit_code, 4) << fresh.err;
  EXPECT_THAT(slurp(dir.file("fresh/junit-run.xml")),
              HasSubstr("<failure message=\"--fail-on-new-drops: 1 of 2 rows is new since the "
                        "previous run (see drop-log.txt)\""));
  EXPECT_EQ(nlohmann::json::parse(slurp(dir.file("fresh/drop-summary.json")))["new_rows"], 1);

  // A previous summary given that is not one is the user's to fix, also without the check.
  env.set("NETWORK_POLICY_FAIL_ON_NEW_DROPS", "false");
  const std::string bad = dir.write("bad.json", "{\"rows\": {}}");
  auto wrong = run("wrong", {"--previous-summary", bad});
  EXPECT_EQ(wrong.exit_code, 2) << wrong.err;
  EXPECT_THAT(wrong.err, HasSubstr("--previous-summary: " + bad + ": not a drop summary"));
  EXPECT_TRUE(std::filesystem::exists(dir.file("wrong/junit-run.xml")));
  EXPECT_TRUE(std::filesystem::exists(dir.file("wrong/drop-log.txt")));
}

TEST(RunNewDropsE2e, AnArtifactsApiThatFailsFailsTheCheckAfterEveryReport) {
  NETPOL_REQUIRE_TEST_CLUSTER(cluster);
  TempDir dir;
  HttpsServer gitlab;
  std::string token_seen;
  gitlab.routes().Get("/api/v4/projects/11/jobs/artifacts/main/raw/out/drop-summary.json",
                      [&](const httplib::Request& req, httplib::Response& res) {
                        token_seen = req.get_header_value("JOB-TOKEN");
                        res.status = 500;
                      });
  gitlab.start();
  const auto ns = cluster->create_namespace("run-new-drops-500");
  MapEnvironment env{{"KUBECONFIG", cluster->kubeconfig},
                     {"KUBE_NAMESPACE", ns},
                     {"CI_PROJECT_ID", "11"},
                     {"CI_ENVIRONMENT_SLUG", "staging"},
                     {"CI_PROJECT_DIR", dir.path().string()},
                     {"CI_JOB_TOKEN", k_token},
                     {"CI_API_V4_URL", gitlab.url() + "/api/v4"},
                     {"CI_COMMIT_REF_NAME", "main"},
                     {"CI_JOB_NAME", "network-policy"},
                     {"CI_SERVER_TLS_CA_FILE", dir.write("ca.pem", gitlab.ca_pem())},
                     {"NETWORK_POLICY_FAIL_ON_NEW_DROPS", "true"}};
  auto r = run_cli({"--output-dir", dir.file("out"), "run", "--from-file",
                    testdata("hubble/hubble-flows-sample.jsonl").string(), "-A"},
                   env);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(token_seen, k_token);
  EXPECT_THAT(r.err, HasSubstr("--fail-on-new-drops: cannot tell which rows are new"));
  for (const char* name : {"junit-run.xml", "junit-detect.xml", "junit-drops.xml", "metrics.txt",
                           "provider.json", "drop-log.jsonl", "drop-log.txt", "drop-log.html",
                           "drop-summary.json", "suggested-policy.yaml"}) {
    EXPECT_TRUE(std::filesystem::exists(dir.path() / "out" / name)) << name;
    EXPECT_THAT(slurp(dir.path() / "out" / name), Not(HasSubstr(k_token))) << name;
  }
  EXPECT_THAT(slurp(dir.file("out/drop-log.txt")), HasSubstr("new-ness unknown"));
  EXPECT_THAT(r.out + r.err, Not(HasSubstr(k_token)));
}

} // namespace
} // namespace netpol::test
