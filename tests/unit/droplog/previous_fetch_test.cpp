// `netpol drops` with the previous run's drop summary from a GitLab instance's job artifacts
// (--previous-summary auto), over real TLS from a local server that serves the artifacts API:
// the job token is sent as JOB-TOKEN and appears in no output, new rows are marked in every
// view, --fail-on-new-drops fails on new rows only, and an unreadable previous summary never
// lets that check pass.
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "support/https_server.hpp"
#include "support/run_cli.hpp"
#include "support/temp_dir.hpp"
#include "unit/droplog/flow_lines.hpp"

namespace netpol::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const std::string k_token = "glcbt-64_previous-summary-secret-token";
const char* const k_artifact_path =
    "/api/v4/projects/1234/jobs/artifacts/main/raw/netpol-report/drop-summary.json";
const char* const k_reports[] = {"drop-log.jsonl",    "drop-log.txt",    "drop-log.html",
                                 "drop-summary.json", "junit-drops.xml", "suggested-policy.yaml",
                                 "flows-summary.json"};

class PreviousArtifact : public ::testing::Test {
protected:
  void SetUp() override {
    server.routes().Get(
        k_artifact_path, [this](const httplib::Request& req, httplib::Response& res) {
          std::lock_guard lock(mutex);
          tokens.push_back(req.get_header_value("JOB-TOKEN"));
          jobs.push_back(req.get_param_value("job"));
          res.status = status;
          if (status == 200) {
            res.set_content(body, "application/json");
          } else {
            res.set_content("{\"message\":\"" + std::to_string(status) + "\"}", "application/json");
          }
        });
    server.start();
    env.set("CI_JOB_TOKEN", k_token);
    env.set("CI_API_V4_URL", server.url() + "/api/v4");
    env.set("CI_SERVER_URL", server.url());
    env.set("CI_PROJECT_ID", "1234");
    env.set("CI_COMMIT_REF_NAME", "main");
    env.set("CI_JOB_NAME", "production:network-policy");
    env.set("CI_PROJECT_DIR", dir.path().string());
    env.set("CI_SERVER_TLS_CA_FILE", dir.write("instance-ca.pem", server.ca_pem()));

    // This run's flows: frontend → db (seen by the previous run too) and world → web.
    FlowSpec web;
    web.source = PeerSpec{"", "", {"reserved:world"}, "203.0.113.9"};
    web.destination = PeerSpec{"shop", "web-6f7d8c9b5-abcde", {"k8s:app=web"}, "10.0.2.8"};
    web.port = 443;
    log = dir.write("flows.jsonl", flow_line(FlowSpec{}) + "\n" + flow_line(web) + "\n");
    only_db = dir.write("db.jsonl", flow_line(FlowSpec{}) + "\n");
  }

  // The previous run's summary, as netpol writes it: a run over `flows`.
  std::string summary_of(const std::string& flows) {
    auto r = run_cli({"--output-dir", dir.file("previous"), "-n", "shop", "drops", "--from-file",
                      flows, "--previous-summary", "none"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return read(dir.path() / "previous" / "drop-summary.json");
  }

  CliResult drops(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"--log-level", "debug", "--output-dir", report_dir(), "-n",
                                     "shop",        "drops", "--from-file",  log};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_cli(args, env);
  }

  std::string report_dir() const { return (dir.path() / "netpol-report").string(); }
  static std::string read(const std::filesystem::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  std::string report(const std::string& name) const {
    return read(dir.path() / "netpol-report" / name);
  }

  // Every report exists, and neither it nor the streams hold the token.
  void expect_reports_without_token(const CliResult& r) {
    EXPECT_THAT(r.out, Not(HasSubstr(k_token)));
    EXPECT_THAT(r.err, Not(HasSubstr(k_token)));
    for (const char* name : k_reports) {
      EXPECT_TRUE(std::filesystem::exists(dir.path() / "netpol-report" / name)) << name;
      EXPECT_THAT(report(name), Not(HasSubstr(k_token))) << name;
    }
  }

  TempDir dir;
  HttpsServer server;
  MapEnvironment env;
  std::string log;
  std::string only_db;
  std::mutex mutex;
  int status = 200;
  std::string body;
  std::vector<std::string> tokens;
  std::vector<std::string> jobs;
};

TEST_F(PreviousArtifact, MarksTheRowsThePreviousRunDidNotHaveInEveryView) {
  body = summary_of(only_db);
  auto r = drops();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(tokens.size(), 1u);
  EXPECT_EQ(tokens[0], k_token);
  EXPECT_EQ(jobs[0], "production:network-policy");
  expect_reports_without_token(r);

  const std::string url = server.url() + k_artifact_path + "?job=production%3Anetwork-policy";
  const auto summary = nlohmann::json::parse(report("drop-summary.json"));
  EXPECT_EQ(summary["previous"]["source"], url);
  EXPECT_EQ(summary["previous"]["rows"], 1);
  EXPECT_EQ(summary["previous"]["status"], "read");
  EXPECT_EQ(summary["new_rows"], 1);
  ASSERT_EQ(summary["rows"].size(), 2u);
  for (const auto& row : summary["rows"]) {
    EXPECT_EQ(row["new"], row["source"]["workload"] == "203.0.113.9") << row.dump();
  }
  EXPECT_THAT(report("drop-log.txt"), HasSubstr("1 of 2 rows are new since the previous run"));
  EXPECT_THAT(report("drop-log.txt"),
              HasSubstr("\nnew  DROPPED  INGRESS    203.0.113.9 → shop/web:443"));
  EXPECT_THAT(report("drop-log.html"), HasSubstr("<span class=\"new\">new</span>"));
  EXPECT_THAT(report("junit-drops.xml"),
              HasSubstr("name=\"new: DROPPED INGRESS 203.0.113.9 → shop/web"));
  EXPECT_THAT(r.out, HasSubstr("\nnew  DROPPED"));
  EXPECT_THAT(r.err, HasSubstr("1 of 2 rows are new since the previous run (" + url));
  // drop-log.jsonl stays the raw flows.
  EXPECT_EQ(report("drop-log.jsonl"), read(log));

  auto as_json = run_cli(
      {"--output-dir", report_dir(), "--format", "json", "-n", "shop", "drops", "--from-file", log},
      env);
  ASSERT_EQ(as_json.exit_code, 0) << as_json.err;
  EXPECT_EQ(nlohmann::json::parse(as_json.out)["new_rows"], 1);
}

TEST_F(PreviousArtifact, FailOnNewDropsFailsOnlyWhenARowIsNew) {
  body = summary_of(only_db);
  auto failed = drops({"--fail-on-new-drops"});
  EXPECT_EQ(failed.exit_code, 4) << failed.err;
  EXPECT_THAT(failed.err,
              HasSubstr("--fail-on-new-drops: 1 of 2 rows is new since the previous run"));
  expect_reports_without_token(failed);

  body = summary_of(log);
  auto passed = drops({"--fail-on-new-drops"});
  EXPECT_EQ(passed.exit_code, 0) << passed.err;
  EXPECT_THAT(passed.err, HasSubstr("0 of 2 rows are new since the previous run"));
  EXPECT_EQ(nlohmann::json::parse(report("drop-summary.json"))["new_rows"], 0);
  // The variable does the same as the flag.
  body = summary_of(only_db);
  env.set("NETWORK_POLICY_FAIL_ON_NEW_DROPS", "true");
  EXPECT_EQ(drops().exit_code, 4);
}

TEST_F(PreviousArtifact, WithoutAPreviousRunEveryRowIsNew) {
  status = 404;
  auto r = drops();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("no previous run: every row is new"));
  EXPECT_THAT(r.err, Not(HasSubstr("new-ness unknown")));
  const auto summary = nlohmann::json::parse(report("drop-summary.json"));
  EXPECT_EQ(summary["previous"]["status"], "none");
  EXPECT_EQ(summary["new_rows"], 2);
  expect_reports_without_token(r);
  EXPECT_EQ(drops({"--fail-on-new-drops"}).exit_code, 4);
}

TEST_F(PreviousArtifact, AnUnreadablePreviousSummaryIsAWarningOrFailsClosed) {
  status = 500;
  auto warned = drops();
  ASSERT_EQ(warned.exit_code, 0) << warned.err;
  const std::string url = server.url() + k_artifact_path + "?job=production%3Anetwork-policy";
  EXPECT_THAT(warned.err, HasSubstr("warning: new-ness unknown: the previous run's drop summary "
                                    "could not be read (" +
                                    url + ": HTTP 500)"));
  EXPECT_THAT(report("drop-log.txt"), HasSubstr("new-ness unknown"));
  EXPECT_FALSE(nlohmann::json::parse(report("drop-summary.json"))["rows"][0].contains("new"));

  std::filesystem::remove_all(report_dir());
  auto failed = drops({"--fail-on-new-drops"});
  EXPECT_EQ(failed.exit_code, 1) << failed.err;
  EXPECT_THAT(failed.err, HasSubstr("netpol: error: --fail-on-new-drops: cannot tell which rows "
                                    "are new: new-ness unknown"));
  expect_reports_without_token(failed);

  // Not a drop summary: the same.
  status = 200;
  body = "<html>sign in</html>";
  auto garbage = drops({"--fail-on-new-drops"});
  EXPECT_EQ(garbage.exit_code, 1) << garbage.err;
  EXPECT_THAT(garbage.err, HasSubstr(url + ":1:1: not valid JSON"));
  expect_reports_without_token(garbage);
}

TEST_F(PreviousArtifact, ABadFileGivenIsAUsageError) {
  const std::string bad = dir.write("last.json", "{\"rows\": [{\"verdict\": \"DROPPED\"}]}");
  auto r = drops({"--previous-summary", bad});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr("--previous-summary: " + bad + ": /rows/0: \"direction\""));
  EXPECT_TRUE(tokens.empty()) << "a file given is read instead of the artifact";

  const std::string good = dir.write("good.json", summary_of(only_db));
  auto ok = drops({"--previous-summary", good, "--fail-on-new-drops"});
  EXPECT_EQ(ok.exit_code, 4) << ok.err;
  EXPECT_EQ(nlohmann::json::parse(report("drop-summary.json"))["previous"]["source"], good);
  EXPECT_TRUE(tokens.empty());
}

} // namespace
} // namespace netpol::test
