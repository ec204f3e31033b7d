#include <signal.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "report/junit.hpp"
#include "report/metrics.hpp"
#include "report/output_dir.hpp"
#include "report/report_set.hpp"
#include "report/reporter.hpp"
#include "support/temp_dir.hpp"
#include "util/cancel.hpp"

namespace netpol::report {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(JUnit, CountsEscapesAndKeepsNamesUnique) {
  JUnitReport r("detect");
  r.add({"netpol.detect", "provider", CaseStatus::passed, "", "", 0.5});
  r.add({"netpol.detect", "enforces <policy>", CaseStatus::failed, "flannel & \"none\"", "", 0});
  r.add({"netpol.detect", "provider", CaseStatus::skipped, "no rights", "", 0});
  const auto xml = r.to_xml();
  EXPECT_THAT(xml, HasSubstr("<testsuite name=\"netpol detect\" tests=\"3\" failures=\"1\" "
                             "errors=\"0\" skipped=\"1\""));
  EXPECT_THAT(xml, HasSubstr("name=\"enforces &lt;policy&gt;\""));
  EXPECT_THAT(xml, HasSubstr("message=\"flannel &amp; &quot;none&quot;\""));
  EXPECT_THAT(xml, HasSubstr("name=\"provider (2)\""));
  EXPECT_THAT(xml, HasSubstr("<skipped message=\"no rights\"/>"));
}

TEST(JUnit, AdversarialTextStaysWellFormedXml) {
  JUnitReport r("lint");
  r.add({"netpol.lint", "file\nwith newline\tand tab", CaseStatus::failed,
         "bad \xff\xfe utf-8, \x1b[31m ESC, \x01 SOH, U+FFFE \xef\xbf\xbe, ]]> end",
         "detail ]]>\x0b", 0});
  const auto xml = r.to_xml();
  // Attributes carry newlines and tabs as character references (a parser would read spaces).
  EXPECT_THAT(xml, HasSubstr("name=\"file&#10;with newline&#9;and tab\""));
  EXPECT_THAT(xml, HasSubstr("message=\"bad \\xff\\xfe utf-8, \\x1b[31m ESC, \\x01 SOH, U+FFFE "
                             "\\ufffe, ]]&gt; end\""));
  EXPECT_THAT(xml, HasSubstr(">detail ]]&gt;\\x0b</failure>"));
  for (const char c : xml) {
    const auto u = static_cast<unsigned char>(c);
    EXPECT_FALSE(u < 0x20 && c != '\n') << static_cast<int>(u);
  }
}

TEST(JUnit, MessagesAreRedacted) {
  JUnitReport r("apply");
  r.add({"netpol.apply", "import", CaseStatus::failed,
         "import https://user:hunter2-pass@example.com/p.yaml: HTTP 401",
         "exec plugin stderr: Authorization: Bearer abc.def", 0});
  const auto xml = r.to_xml();
  EXPECT_THAT(xml, Not(HasSubstr("hunter2-pass")));
  EXPECT_THAT(xml, Not(HasSubstr("abc.def")));
  EXPECT_THAT(xml, HasSubstr("https://user:[REDACTED]@example.com"));
}

TEST(Reporter, WarningsAreRedactedAndTerminalSequencesEscaped) {
  std::ostringstream err;
  Reporter reporter(err, ReporterStyle::plain, false, false);
  reporter.warn("policy \x1b]0;pwned\x07 from https://u:pw-secret-1@h/x");
  auto phase = reporter.phase("Applying \x1b[2Jns");
  phase.done("ok\x1b[0m");
  const auto text = err.str();
  EXPECT_THAT(text, HasSubstr("warning: policy \\x1b]0;pwned\\x07 from https://u:[REDACTED]@h/x"));
  EXPECT_THAT(text, HasSubstr("Applying \\x1b[2Jns"));
  EXPECT_THAT(text, HasSubstr("ok\\x1b[0m"));
  EXPECT_EQ(text.find('\x1b'), std::string::npos);
}

TEST(OutputDir, ReportsAreRedacted) {
  auto dir =
      std::filesystem::temp_directory_path() / ("netpol-redact-" + std::to_string(::getpid()));
  OutputDir out(dir);
  ASSERT_TRUE(
      out.write("cilium-values.yaml", "tls:\n  key: LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0t\n"));
  std::ifstream in(dir / "cilium-values.yaml");
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), "tls:\n  key: [REDACTED]\n");
  std::filesystem::remove_all(dir);
}

TEST(OutputDir, WritesAtomicallyAndCreatesDirectory) {
  auto dir = std::filesystem::temp_directory_path() / ("netpol-out-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  OutputDir out(dir / "nested");
  auto path = out.write("a.txt", "hello\n");
  ASSERT_TRUE(path.has_value()) << path.error().message;
  std::ifstream in(*path);
  std::string content((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(content, "hello\n");
  int leftovers = 0;
  for (auto& e : std::filesystem::directory_iterator(dir / "nested")) {
    leftovers += e.path().filename() != "a.txt";
  }
  EXPECT_EQ(leftovers, 0);
  std::filesystem::remove_all(dir);
}

TEST(OutputDir, UnwritableDirectoryIsIoError) {
  OutputDir out("/proc/netpol-cannot-write-here");
  auto path = out.write("a.txt", "x");
  ASSERT_FALSE(path.has_value());
  EXPECT_EQ(path.error().code, ErrorCode::io);
  EXPECT_THAT(path.error().message, HasSubstr("/proc/netpol-cannot-write-here"));
}

TEST(ReportSet, SuccessWritesTheJUnitAndLeavesWrittenFilesAlone) {
  test::TempDir dir;
  OutputDir out(dir.path());
  ReportSet reports(out, "netpol plan");
  reports.junit("plan").add({"netpol.plan", "create x", CaseStatus::passed, "", "", 0});
  reports.owe({"plan.txt"});
  ASSERT_TRUE(out.write("plan.txt", "the plan\n"));
  ASSERT_TRUE(reports.finish(nullptr));
  EXPECT_EQ(dir.read("plan.txt"), "the plan\n");
  EXPECT_THAT(dir.read("junit-plan.xml"), HasSubstr("name=\"create x\""));
  EXPECT_THAT(dir.read("junit-plan.xml"), ::testing::Not(HasSubstr("<failure")));
}

TEST(ReportSet, FailureFillsEveryOwedFileAndRecordsTheErrorOnce) {
  test::TempDir dir;
  OutputDir out(dir.path());
  ReportSet reports(out, "netpol drops");
  reports.junit("drops");
  reports.owe({"drop-log.txt", "drop-summary.json", "drop-log.html", "drop-log.jsonl",
               "suggested-policy.yaml", "metrics.txt"});
  const Error error(ErrorCode::unreachable, "cannot connect to https://k8s:6443: refused <&>");
  ASSERT_TRUE(reports.finish(&error));
  const std::string why = "not written: netpol drops ended before it: cannot connect to "
                          "https://k8s:6443: refused <&>";
  EXPECT_EQ(dir.read("drop-log.txt"), "# " + why + "\n");
  EXPECT_EQ(dir.read("suggested-policy.yaml"), "# " + why + "\n");
  EXPECT_EQ(nlohmann::json::parse(dir.read("drop-summary.json"))["error"], why);
  EXPECT_THAT(dir.read("drop-log.html"), HasSubstr("refused &lt;&amp;&gt;</p>"));
  EXPECT_EQ(dir.read("drop-log.jsonl"), "") << "no flow is claimed";
  EXPECT_EQ(dir.read("metrics.txt"), "# EOF\n");
  const auto junit = dir.read("junit-drops.xml");
  EXPECT_THAT(junit, HasSubstr("name=\"drops succeeded\""));
  EXPECT_THAT(junit, HasSubstr("<failure message=\"cannot connect to https://k8s:6443: refused "
                               "&lt;&amp;&gt;\""));
}

TEST(ReportSet, AFailureAlreadyRecordedIsNotRepeated) {
  test::TempDir dir;
  OutputDir out(dir.path());
  ReportSet reports(out, "netpol apply");
  reports.junit("apply").add({"netpol.apply", "create x", CaseStatus::failed, "refused", "", 0});
  const Error error(ErrorCode::api, "refused");
  ASSERT_TRUE(reports.finish(&error));
  EXPECT_THAT(dir.read("junit-apply.xml"), HasSubstr("tests=\"1\" failures=\"1\""));
}

TEST(ReportSet, CancellationIsAFailedCaseInEveryReport) {
  test::TempDir dir;
  OutputDir out(dir.path());
  ReportSet reports(out, "netpol run");
  reports.junit("run").add({"netpol.run", "cluster detected", CaseStatus::passed, "", "", 0});
  reports.junit("apply").add({"netpol.apply", "create x", CaseStatus::failed, "conflict", "", 0});
  cancel::request(SIGTERM);
  const Error error = cancel::error("PATCH /apis/networking.k8s.io/v1/namespaces/a/x");
  cancel::reset();
  ASSERT_TRUE(reports.finish(&error));
  for (const char* file : {"junit-run.xml", "junit-apply.xml"}) {
    EXPECT_THAT(dir.read(file), HasSubstr("name=\"cancelled\"")) << file;
    EXPECT_THAT(dir.read(file), HasSubstr("cancelled (SIGTERM)")) << file;
  }
}

TEST(ReportSet, SettleWritesAFailedStepsStandInsNow) {
  test::TempDir dir;
  OutputDir out(dir.path());
  ReportSet reports(out, "netpol run");
  reports.owe({"plan.txt", "drop-log.txt", "metrics.txt"});
  ASSERT_TRUE(
      reports.settle("apply", {"plan.txt"}, Error(ErrorCode::timeout, "GET /apis: no answer")));
  EXPECT_EQ(dir.read("plan.txt"),
            "# not written: the apply step of netpol run failed: GET /apis: no answer\n");
  EXPECT_FALSE(out.written("drop-log.txt")) << "another step's file waits for its step";
  ASSERT_TRUE(out.write("drop-log.txt", "rows\n"));
  ASSERT_TRUE(out.write("metrics.txt", "# EOF\n"));
  ASSERT_TRUE(reports.finish(nullptr)); // the run itself went on and succeeded
  EXPECT_THAT(dir.read("junit-apply.xml"), HasSubstr("<failure message=\"GET /apis: no answer\""));
  EXPECT_EQ(dir.read("drop-log.txt"), "rows\n");
}

TEST(ReportSet, ASkippedStepSaysWhyAndTakesNoLaterFailure) {
  test::TempDir dir;
  OutputDir out(dir.path());
  ReportSet reports(out, "netpol run");
  reports.junit("apply");
  reports.junit("drops");
  reports.owe({"plan.txt", "drop-log.txt", "drop-summary.json"});
  ASSERT_TRUE(reports.skip("drops", "drop log collected", {"drop-log.txt", "drop-summary.json"},
                           "the provider exports no flow log"));
  EXPECT_EQ(dir.read("drop-log.txt"), "# not written: the provider exports no flow log\n");
  EXPECT_EQ(nlohmann::json::parse(dir.read("drop-summary.json"))["error"],
            "not written: the provider exports no flow log");
  EXPECT_FALSE(out.written("plan.txt"));
  const Error error(ErrorCode::api, "PATCH x: refused");
  ASSERT_TRUE(reports.finish(&error));
  const auto drops = dir.read("junit-drops.xml");
  EXPECT_THAT(drops, HasSubstr("<skipped message=\"the provider exports no flow log\""));
  EXPECT_THAT(drops, ::testing::Not(HasSubstr("<failure"))) << "the drop log did not fail";
  EXPECT_THAT(dir.read("junit-apply.xml"), HasSubstr("<failure message=\"PATCH x: refused\""));
  EXPECT_THAT(dir.read("plan.txt"), HasSubstr("not written: netpol run ended before it: PATCH x"));
}

TEST(ReportSet, ACompletedStepKeepsItsResultWhenALaterStepFails) {
  test::TempDir dir;
  OutputDir out(dir.path());
  ReportSet reports(out, "netpol run");
  reports.junit("detect").add({"netpol.detect", "provider", CaseStatus::passed, "", "", 0});
  reports.completed("detect");
  reports.junit("apply");
  const Error error(ErrorCode::invalid_policy, "web.yaml:7: port out of range");
  ASSERT_TRUE(reports.finish(&error));
  EXPECT_THAT(dir.read("junit-detect.xml"), ::testing::Not(HasSubstr("<failure")));
  EXPECT_THAT(dir.read("junit-apply.xml"),
              HasSubstr("<failure message=\"web.yaml:7: port out of range\""));
}

TEST(ReportSet, ACancellationReachesACompletedStepsReportToo) {
  test::TempDir dir;
  OutputDir out(dir.path());
  ReportSet reports(out, "netpol run");
  reports.junit("detect");
  reports.completed("detect");
  cancel::request(SIGTERM);
  const Error error = cancel::error("PATCH x");
  cancel::reset();
  ASSERT_TRUE(reports.finish(&error));
  EXPECT_THAT(dir.read("junit-detect.xml"), HasSubstr("cancelled (SIGTERM)"));
}

TEST(ReportSet, ACancellationReachesASkippedStepsReportToo) {
  test::TempDir dir;
  OutputDir out(dir.path());
  ReportSet reports(out, "netpol run");
  ASSERT_TRUE(reports.skip("drops", "drop log collected", {}, "no flow log"));
  cancel::request(SIGINT);
  const Error error = cancel::error("GET /version");
  cancel::reset();
  ASSERT_TRUE(reports.finish(&error));
  EXPECT_THAT(dir.read("junit-drops.xml"), HasSubstr("cancelled (SIGINT)"));
}

TEST(Reporter, PlainPhasesEndWithMarks) {
  std::ostringstream err;
  Reporter rep(err, ReporterStyle::plain, false, true);
  {
    auto p = rep.phase("Detecting provider");
    p.progress("reading kube-system");
    p.done("cilium 1.18.2");
  }
  { auto p = rep.phase("Applying"); } // abandoned: reported as failed
  { rep.phase("Drop log").skipped("no Hubble export"); }
  const auto text = err.str();
  EXPECT_THAT(
      text,
      HasSubstr(
          "▸ Detecting provider…\n  reading kube-system\n✓ Detecting provider: cilium 1.18.2"));
  EXPECT_THAT(text, HasSubstr("✗ Applying: did not finish"));
  EXPECT_THAT(text, HasSubstr("– Drop log: no Hubble export"));
  EXPECT_THAT(text, ::testing::Not(HasSubstr("\x1b["))); // no colour off a TTY
}

TEST(Reporter, GitLabSectionsAreCollapsible) {
  std::ostringstream err;
  Reporter rep(err, ReporterStyle::gitlab, false, false);
  rep.phase("Detecting provider").done();
  const auto text = err.str();
  EXPECT_THAT(text, HasSubstr("section_start:"));
  EXPECT_THAT(text,
              HasSubstr(":netpol_1_detecting_provider[collapsed=true]\r\x1b[0KDetecting provider"));
  EXPECT_THAT(text, HasSubstr("section_end:"));
}

TEST(Reporter, QuietKeepsWarnings) {
  std::ostringstream err;
  Reporter rep(err, ReporterStyle::plain, true, false);
  rep.phase("x").done();
  rep.warn("provider does not enforce");
  EXPECT_EQ(err.str(), "warning: provider does not enforce\n");
}

} // namespace
} // namespace netpol::report

namespace netpol::report {
namespace {

TEST(Metrics, OpenMetricsTextWithSharedHeaders) {
  MetricsReport m;
  m.add({"netpol_policies_applied", "NetworkPolicies applied in this run", 3, {}});
  m.add({"netpol_flows", "flows in the drop log", 12, {{"verdict", "DROPPED"}}});
  m.add({"netpol_flows", "flows in the drop log", 1.5, {{"verdict", "AU\"DIT"}}});
  EXPECT_EQ(m.to_text(), "# HELP netpol_policies_applied NetworkPolicies applied in this run\n"
                         "# TYPE netpol_policies_applied gauge\n"
                         "netpol_policies_applied 3\n"
                         "# HELP netpol_flows flows in the drop log\n"
                         "# TYPE netpol_flows gauge\n"
                         "netpol_flows{verdict=\"DROPPED\"} 12\n"
                         "netpol_flows{verdict=\"AU\\\"DIT\"} 1.5\n"
                         "# EOF\n");
}

} // namespace
} // namespace netpol::report
