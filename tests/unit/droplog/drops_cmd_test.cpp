#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/paths.hpp"
#include "support/run_cli.hpp"
#include "unit/droplog/flow_lines.hpp"

namespace netpol::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class DropsCommand : public ::testing::Test {
protected:
  void SetUp() override {
    std::string templ = (std::filesystem::temp_directory_path() / "netpol-drops-XXXXXX").string();
    ASSERT_NE(::mkdtemp(templ.data()), nullptr);
    m_dir = templ;
  }
  void TearDown() override { std::filesystem::remove_all(m_dir); }

  std::string write_log(const std::vector<std::string>& lines) {
    const auto path = m_dir / "input.log";
    std::ofstream out(path);
    for (const auto& l : lines)
      out << l << "\n";
    return path.string();
  }
  std::string out_dir() const { return (m_dir / "report").string(); }
  std::string read(const std::string& name) const {
    std::ifstream in(m_dir / "report" / name);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  std::filesystem::path m_dir;
};

std::vector<std::string> mixed_log() {
  FlowSpec shop_drop;
  FlowSpec other_drop;
  other_drop.source = PeerSpec{"ci", "runner-0", {"k8s:app=runner"}, "10.0.4.4"};
  other_drop.destination = PeerSpec{"ci", "cache-0", {"k8s:app=cache"}, "10.0.4.5"};
  FlowSpec old_drop;
  old_drop.time = "2026-11-26T08:00:00Z";
  FlowSpec forwarded;
  forwarded.verdict = "FORWARDED";
  return {flow_line(shop_drop),
          logfmt_line(flow_line(shop_drop)),
          flow_line(other_drop),
          flow_line(old_drop),
          flow_line(forwarded),
          "level=info msg=\"Starting Hubble\" subsys=hubble",
          flow_line(shop_drop).substr(0, 100)};
}

TEST_F(DropsCommand, FromFileWritesEveryOutputForTheNamespace) {
  const auto log = write_log(mixed_log());
  auto r = run_cli({"--output-dir", out_dir(), "-n", "shop", "drops", "--from-file", log, "--since",
                    "2026-11-26T09:00:00Z"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("shop/frontend → shop/db:5432/TCP"));
  const auto summary = nlohmann::json::parse(read("drop-summary.json"));
  EXPECT_EQ(summary["since"], "2026-11-26T09:00:00Z");
  EXPECT_EQ(summary["namespaces"], nlohmann::json::array({"shop"}));
  EXPECT_EQ(summary["lines_read"], 7);
  EXPECT_EQ(summary["flows_matched"], 2);
  EXPECT_EQ(summary["lines_skipped"], 4);
  EXPECT_EQ(summary["lines_malformed"], 1);
  EXPECT_EQ(summary["lines_matched"], 2);
  ASSERT_EQ(summary["rows"].size(), 1u);
  EXPECT_EQ(summary["rows"][0]["count"], 2);
  // The file's oldest drop (08:00) is before the window: it covers it.
  EXPECT_EQ(summary["coverage"],
            nlohmann::json::parse(R"([{"source":"file )" + log +
                                  R"(","oldest_line":"2026-11-26T08:00:00Z","previous_log":false,
                                      "gap":false}])"));

  // drop-log.jsonl holds the kept events as JSON objects, the logfmt one unwrapped.
  std::istringstream jsonl(read("drop-log.jsonl"));
  std::string line;
  int lines = 0;
  while (std::getline(jsonl, line)) {
    EXPECT_EQ(line, flow_line(FlowSpec{}));
    ++lines;
  }
  EXPECT_EQ(lines, 2);
  EXPECT_THAT(read("drop-log.txt"), HasSubstr("shop/frontend → shop/db:5432/TCP"));
  EXPECT_THAT(read("drop-log.html"), HasSubstr("<td>shop/frontend</td>"));
  EXPECT_THAT(read("junit-drops.xml"), HasSubstr("failures=\"1\""));
  EXPECT_THAT(read("suggested-policy.yaml"), HasSubstr("name: allow-observed-db-ingress"));
  for (const char* name : {"drop-log.jsonl", "drop-summary.json"}) {
    EXPECT_EQ(std::filesystem::status(m_dir / "report" / name).permissions() &
                  std::filesystem::perms::others_read,
              std::filesystem::perms::others_read);
  }
}

TEST_F(DropsCommand, AllNamespacesAndNamespaceFromTheEnvironment) {
  const auto log = write_log(mixed_log());
  auto all = run_cli({"--output-dir", out_dir(), "drops", "--from-file", log, "-A"});
  ASSERT_EQ(all.exit_code, 0) << all.err;
  auto summary = nlohmann::json::parse(read("drop-summary.json"));
  EXPECT_EQ(summary["flows_matched"], 4); // no window: a file is read whole
  EXPECT_EQ(summary["namespaces"], nlohmann::json::array());

  auto ci = run_cli({"--output-dir", out_dir(), "drops", "--from-file", log},
                    MapEnvironment{{"KUBE_NAMESPACE", "ci"}});
  ASSERT_EQ(ci.exit_code, 0) << ci.err;
  summary = nlohmann::json::parse(read("drop-summary.json"));
  EXPECT_EQ(summary["flows_matched"], 1);
  EXPECT_EQ(summary["rows"][0]["destination"]["workload"], "cache");
}

TEST_F(DropsCommand, SinceFromPipelineStartAndFromNetpolSince) {
  const auto log = write_log(mixed_log());
  auto r = run_cli({"--output-dir", out_dir(), "-n", "shop", "drops", "--from-file", log},
                   MapEnvironment{{"CI_PIPELINE_CREATED_AT", "2026-11-26T09:00:00Z"}});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(read("drop-summary.json"))["flows_matched"], 2);

  r = run_cli({"--output-dir", out_dir(), "-n", "shop", "drops", "--from-file", log},
              MapEnvironment{{"CI_PIPELINE_CREATED_AT", "2026-11-26T09:00:00Z"},
                             {"NETPOL_SINCE", "2026-11-26T07:00:00Z"}});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(read("drop-summary.json"))["flows_matched"], 3);

  // A duration counts back from now: these 2026 flows are older than one minute.
  r = run_cli(
      {"--output-dir", out_dir(), "-n", "shop", "drops", "--from-file", log, "--since", "1m"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(read("drop-summary.json"))["flows_matched"], 0);
}

TEST_F(DropsCommand, AFileThatStartsAfterAnExplicitSinceIsAGapInEveryView) {
  const auto log = write_log(mixed_log()); // its oldest drop is from 08:00
  auto r = run_cli({"--output-dir", out_dir(), "-n", "shop", "drops", "--from-file", log, "--since",
                    "2026-11-26T07:00:00Z"});
  ASSERT_EQ(r.exit_code, 0) << r.err; // a gap alone fails nothing
  const std::string gap = "file " + log +
                          " reaches back to 2026-11-26T08:00:00Z only: flows between "
                          "2026-11-26T07:00:00Z and then may be missing";
  EXPECT_THAT(r.err, HasSubstr("drop log coverage: " + gap));
  const auto summary = nlohmann::json::parse(read("drop-summary.json"));
  ASSERT_EQ(summary["coverage"].size(), 1u);
  EXPECT_EQ(summary["coverage"][0]["oldest_line"], "2026-11-26T08:00:00Z");
  EXPECT_EQ(summary["coverage"][0]["gap"], true);
  const std::string notice =
      "Coverage: 1 of 1 source does not reach back to 2026-11-26T07:00:00Z: flows before its "
      "oldest line may be missing\n  " +
      gap + "\n";
  EXPECT_THAT(read("drop-log.txt"), HasSubstr(notice));
  EXPECT_THAT(r.out, HasSubstr(notice));
  EXPECT_THAT(read("drop-log.html"), HasSubstr("<p class=\"coverage\">Coverage: 1 of 1 source"));
  const auto junit = read("junit-drops.xml");
  EXPECT_THAT(junit, HasSubstr("name=\"drop log covers the window\""));
  EXPECT_THAT(junit, HasSubstr("<skipped message=\"1 of 1 source does not reach back to "
                               "2026-11-26T07:00:00Z"));
  EXPECT_THAT(junit, HasSubstr("failures=\"1\"")); // the row, not the gap

  // The pipeline's start is a default, not a window the file was asked to cover.
  r = run_cli({"--output-dir", out_dir(), "-n", "shop", "drops", "--from-file", log},
              MapEnvironment{{"CI_PIPELINE_CREATED_AT", "2026-11-26T07:00:00Z"}});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, Not(HasSubstr("coverage")));
  EXPECT_EQ(nlohmann::json::parse(read("drop-summary.json"))["coverage"], nlohmann::json::array());
  EXPECT_THAT(read("junit-drops.xml"), Not(HasSubstr("drop log covers the window")));

  // Inside the file's reach: a passing case.
  r = run_cli({"--output-dir", out_dir(), "-n", "shop", "drops", "--from-file", log, "--since",
               "2026-11-26T08:00:00Z"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, Not(HasSubstr("coverage")));
  EXPECT_THAT(
      read("junit-drops.xml"),
      HasSubstr("<testcase classname=\"netpol.drops\" name=\"drop log covers the window\""));
  EXPECT_THAT(read("junit-drops.xml"), Not(HasSubstr("<skipped")));
}

TEST_F(DropsCommand, FailOnDropsExits4OnlyWhenAsked) {
  const auto log = write_log(mixed_log());
  EXPECT_EQ(
      run_cli({"--output-dir", out_dir(), "-n", "shop", "drops", "--from-file", log}).exit_code, 0);
  EXPECT_EQ(run_cli({"--output-dir", out_dir(), "-n", "shop", "drops", "--from-file", log,
                     "--fail-on-drops"})
                .exit_code,
            4);
  EXPECT_EQ(run_cli({"--output-dir", out_dir(), "-n", "shop", "drops", "--from-file", log},
                    MapEnvironment{{"NETWORK_POLICY_FAIL_ON_DROPS", "true"}})
                .exit_code,
            4);
  EXPECT_EQ(run_cli({"--output-dir", out_dir(), "-n", "shop", "drops", "--from-file", log,
                     "--fail-on-drops=false"},
                    MapEnvironment{{"NETWORK_POLICY_FAIL_ON_DROPS", "true"}})
                .exit_code,
            0);
  // No drops in the namespace: nothing to fail on.
  EXPECT_EQ(run_cli({"--output-dir", out_dir(), "-n", "empty", "drops", "--from-file", log,
                     "--fail-on-drops"})
                .exit_code,
            0);
  EXPECT_THAT(read("junit-drops.xml"), HasSubstr("no dropped or audited flows"));
}

TEST_F(DropsCommand, JsonFormatPrintsTheSummary) {
  const auto log = write_log(mixed_log());
  auto r = run_cli(
      {"--output-dir", out_dir(), "--format", "json", "-n", "shop", "drops", "--from-file", log});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out), nlohmann::json::parse(read("drop-summary.json")));
}

TEST_F(DropsCommand, BadInputIsOneLineAndReportsAreStillWritten) {
  auto r = run_cli({"--output-dir", out_dir(), "drops", "--from-file", (m_dir / "nope").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("netpol: error: reading "));
  EXPECT_TRUE(std::filesystem::exists(m_dir / "report" / "drop-summary.json"));
  EXPECT_TRUE(std::filesystem::exists(m_dir / "report" / "junit-drops.xml"));

  r = run_cli({"--output-dir", out_dir(), "drops", "--from-file", "x", "--since", "yesterday"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--since: invalid time 'yesterday'"));
  r = run_cli({"--output-dir", out_dir(), "drops", "--from-file", "x", "--since", "99999999h"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--since: '99999999h' reaches back more than 366 days"));
  r = run_cli(
      {"--output-dir", out_dir(), "drops", "--from-file", "x", "--since", "1725-01-01T00:00:00Z"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("is before 2000"));
  r = run_cli({"--output-dir", out_dir(), "drops", "--from-file", "x", "--since", "90"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("'90' has no unit"));
  r = run_cli({"--output-dir", out_dir(), "drops", "--from-file", "x"},
              MapEnvironment{{"CI_PIPELINE_CREATED_AT", "soon"}});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("CI_PIPELINE_CREATED_AT"));
}

TEST_F(DropsCommand, SuggestReadsTheDropLogOrTheSummary) {
  const auto log = write_log(mixed_log());
  ASSERT_EQ(run_cli({"--output-dir", out_dir(), "drops", "-A", "--from-file", log}).exit_code, 0);
  const auto report = m_dir / "report";
  for (const char* input : {"drop-log.jsonl", "drop-summary.json"}) {
    auto r = run_cli({"--output-dir", (m_dir / "suggest").string(), "-n", "shop", "suggest",
                      "--from-file", (report / input).string()});
    ASSERT_EQ(r.exit_code, 0) << input << ": " << r.err;
    EXPECT_THAT(r.out, HasSubstr("name: allow-observed-db-ingress")) << input;
    EXPECT_THAT(r.out, Not(HasSubstr("allow-observed-cache-ingress"))) << input; // namespace ci
    std::ifstream written(m_dir / "suggest" / "suggested-policy.yaml");
    std::stringstream ss;
    ss << written.rdbuf();
    EXPECT_EQ(ss.str(), r.out) << input;
  }
  auto all = run_cli({"--output-dir", (m_dir / "suggest").string(), "suggest", "--from-file",
                      (report / "drop-log.jsonl").string()});
  EXPECT_THAT(all.out, HasSubstr("allow-observed-cache-ingress"));
  EXPECT_EQ(run_cli({"suggest"}).exit_code, 2);
}

} // namespace
} // namespace netpol::test
