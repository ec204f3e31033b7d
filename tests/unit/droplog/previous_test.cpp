// "Only what is new": reading a previous run's drop-summary.json, the comparison key, the
// marks in every view, and where --previous-summary auto looks.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "droplog/collector.hpp"
#include "droplog/previous.hpp"
#include "droplog/views.hpp"
#include "support/temp_dir.hpp"
#include "unit/droplog/flow_lines.hpp"

namespace netpol::test {
namespace {

using droplog::PreviousRun;
using droplog::PreviousSource;
using ::testing::HasSubstr;
using ::testing::Not;

// Two rows: frontend → db (DROPPED by shop/deny-all) and world → web:443 (AUDIT).
droplog::DropSummary current() {
  droplog::DropCollector c(droplog::DropFilter{{"shop"}, {}, {}});
  FlowSpec db;
  db.denied_by = {"shop/deny-all"};
  for (int i = 0; i < 3; ++i)
    c.add_line(flow_line(db));
  FlowSpec web;
  web.verdict = "AUDIT";
  web.reason = "";
  web.source = PeerSpec{"", "", {"reserved:world"}, "203.0.113.9"};
  web.destination = PeerSpec{"shop", "web-6f7d8c9b5-abcde", {"k8s:app=web"}, "10.0.2.8"};
  web.port = 443;
  c.add_line(flow_line(web));
  droplog::DropSummary s;
  s.since = "2026-11-26T10:00:00Z";
  s.until = "2026-11-26T10:07:12Z";
  s.namespaces = {"shop"};
  s.counts = c.counts();
  s.rows = c.rows();
  return s;
}

// The previous run saw frontend → db as AUDIT (audit mode), from other pods and IPs, with no
// policy named: the same flow.
const char* const k_previous = R"({"since":"2026-11-25T10:00:00Z","until":"2026-11-25T10:05:00Z",
  "namespaces":["shop"],"rows":[{"verdict":"AUDIT","direction":"INGRESS",
  "source":{"namespace":"shop","workload":"frontend","pod":"frontend-aaaa-bbbbb","labels":{},"ip":"10.0.9.9"},
  "destination":{"namespace":"shop","workload":"db","pod":"db-1","labels":{},"ip":"10.0.9.8"},
  "port":5432,"protocol":"TCP","reason":null,"policies":[],"count":40,
  "first_seen":null,"last_seen":null}]})";

droplog::Previous previous_of(const std::string& text, const std::string& source = "prev.json") {
  auto parsed = droplog::parse_previous_summary(text, source);
  EXPECT_TRUE(parsed) << parsed.error().message;
  droplog::Previous p;
  p.run.source = source;
  p.run.until = parsed->until;
  p.run.rows = parsed->rows.size();
  for (const auto& r : parsed->rows)
    p.keys.push_back(droplog::row_key(r));
  return p;
}

std::string streamed_json(const droplog::DropSummary& s) {
  std::string out;
  droplog::write_summary_json(s, [&](std::string_view t) { out += t; });
  return out;
}

TEST(PreviousSummary, ARowIsNewOnlyWhenNoPreviousRowHasItsFlow) {
  auto s = current();
  droplog::mark_new_rows(s, previous_of(k_previous));
  ASSERT_EQ(s.rows.size(), 2u);
  EXPECT_EQ(s.rows[0].verdict, "DROPPED");
  EXPECT_FALSE(s.rows[0].is_new) << "verdict, reason, policies, pods and IPs are not compared";
  EXPECT_TRUE(s.rows[1].is_new);
  EXPECT_EQ(s.new_rows, 1u);

  // Another port, protocol, direction or workload is another flow.
  for (auto change : std::vector<std::function<void(droplog::DropRow&)>>{
           [](droplog::DropRow& r) { r.port = 5433; },
           [](droplog::DropRow& r) { r.protocol = "UDP"; },
           [](droplog::DropRow& r) { r.direction = "EGRESS"; },
           [](droplog::DropRow& r) { r.source.workload = "api"; },
           [](droplog::DropRow& r) { r.destination.namespace_name = "prod"; }}) {
    auto t = current();
    change(t.rows[0]);
    droplog::mark_new_rows(t, previous_of(k_previous));
    EXPECT_TRUE(t.rows[0].is_new);
  }
}

TEST(PreviousSummary, EveryViewMarksTheNewRows) {
  auto s = current();
  droplog::mark_new_rows(s, previous_of(k_previous));

  const auto j = droplog::summary_to_json(s);
  EXPECT_EQ(j["previous"], nlohmann::ordered_json::parse(
                               R"({"source":"prev.json","until":"2026-11-25T10:05:00Z",
                                   "rows":1,"status":"read"})"));
  EXPECT_EQ(j["new_rows"], 1);
  EXPECT_EQ(j["rows"][0]["new"], false);
  EXPECT_EQ(j["rows"][1]["new"], true);
  // The streamed file is the same JSON, byte for byte, and reads back as a previous summary.
  EXPECT_EQ(streamed_json(s), j.dump(2) + "\n");
  EXPECT_TRUE(droplog::parse_previous_summary(streamed_json(s), "again"));

  const std::string text = droplog::render_text(s);
  EXPECT_THAT(text, HasSubstr("1 of 2 rows are new since the previous run (prev.json, until "
                              "2026-11-25T10:05:00Z, 1 row)"));
  EXPECT_THAT(text, HasSubstr("\nNEW  VERDICT"));
  EXPECT_THAT(text, HasSubstr("\n     DROPPED"));
  EXPECT_THAT(text, HasSubstr("\nnew  AUDIT"));

  const std::string html = droplog::render_html(s);
  EXPECT_THAT(html, HasSubstr("AUDIT</span> <span class=\"new\">new</span></td>"));
  EXPECT_THAT(html, HasSubstr("DROPPED</span></td>"));
  EXPECT_THAT(html, HasSubstr(".new { font-weight"));
  EXPECT_THAT(html, HasSubstr("<p class=\"previous\">1 of 2 rows are new"));
  EXPECT_THAT(html, Not(HasSubstr("<link"))); // still self-contained
  EXPECT_THAT(html, Not(HasSubstr(" src=")));

  const auto junit = droplog::render_junit(s);
  std::vector<std::string> names;
  for (const auto& c : junit.cases())
    names.push_back(c.name);
  ASSERT_EQ(names.size(), 3u);
  EXPECT_EQ(names[0], "compared with the previous run");
  EXPECT_THAT(names[1],
              HasSubstr("new: AUDIT INGRESS 203.0.113.9 → shop/web:443/TCP")); // new first
  EXPECT_THAT(names[2], testing::StartsWith("DROPPED INGRESS shop/frontend"));
  EXPECT_THAT(junit.cases()[1].message, testing::StartsWith("new since the previous run: 1 flow"));
}

TEST(PreviousSummary, WithoutAPreviousRunEveryRowIsNew) {
  auto s = current();
  droplog::Previous none;
  none.run.state = PreviousRun::State::not_found;
  none.run.source = "https://gitlab.example/api/v4/x";
  droplog::mark_new_rows(s, none);
  EXPECT_EQ(s.new_rows, 2u);
  const auto j = droplog::summary_to_json(s);
  EXPECT_EQ(j["previous"]["status"], "none");
  EXPECT_EQ(j["previous"]["rows"], 0);
  EXPECT_EQ(j["rows"][0]["new"], true);
  EXPECT_THAT(droplog::render_text(s), HasSubstr("2 of 2 rows are new since the previous run (no "
                                                 "previous run: every row is new"));
}

TEST(PreviousSummary, AnUnreadablePreviousSummaryMarksNothingAndSaysSo) {
  auto s = current();
  droplog::Previous unknown;
  unknown.run.state = PreviousRun::State::unknown;
  unknown.run.source = "https://gitlab.example/api/v4/x";
  unknown.run.problem = "HTTP 500";
  droplog::mark_new_rows(s, unknown);
  const auto j = droplog::summary_to_json(s);
  EXPECT_EQ(j["previous"]["status"], "unknown");
  EXPECT_EQ(j["previous"]["problem"], "HTTP 500");
  EXPECT_TRUE(j["new_rows"].is_null());
  EXPECT_FALSE(j["rows"][0].contains("new"));
  EXPECT_EQ(streamed_json(s), j.dump(2) + "\n");
  const std::string text = droplog::render_text(s);
  EXPECT_THAT(text, HasSubstr("new-ness unknown: the previous run's drop summary could not be "
                              "read (https://gitlab.example/api/v4/x: HTTP 500)"));
  EXPECT_THAT(text, Not(HasSubstr("NEW")));
  EXPECT_THAT(droplog::render_html(s), HasSubstr("new-ness unknown"));
  EXPECT_EQ(droplog::render_junit(s).cases()[0].status, report::CaseStatus::skipped);
}

TEST(PreviousSummary, WithoutOneEveryViewIsAsBefore) {
  const auto s = current();
  EXPECT_THAT(droplog::render_text(s), Not(HasSubstr("NEW")));
  EXPECT_THAT(droplog::render_html(s), Not(HasSubstr("class=\"new\"")));
  EXPECT_THAT(droplog::render_html(s), Not(HasSubstr("previous")));
  EXPECT_FALSE(droplog::summary_to_json(s).contains("previous"));
  EXPECT_FALSE(droplog::summary_to_json(s)["rows"][0].contains("new"));
}

TEST(PreviousSummary, ABadSummaryIsNamedWithWhatIsWrongWhere) {
  auto error = [](const std::string& text) {
    auto r = droplog::parse_previous_summary(text, "last/drop-summary.json");
    EXPECT_FALSE(r);
    if (r) return std::string();
    EXPECT_EQ(r.error().code, ErrorCode::usage);
    return r.error().message;
  };
  EXPECT_THAT(error("{\"rows\": [}"), HasSubstr("last/drop-summary.json:1"));
  EXPECT_THAT(error("[]"), HasSubstr("last/drop-summary.json: not a drop summary (no \"rows\""));
  EXPECT_THAT(error(R"({"until": 5, "rows": []})"), HasSubstr("\"until\" must be a time or null"));
  const std::string row =
      R"({"verdict":"DROPPED","direction":"INGRESS","source":{"namespace":"a","workload":"b"},
          "destination":{"namespace":"a","workload":"c"},"port":80,"protocol":"TCP"})";
  EXPECT_TRUE(droplog::parse_previous_summary("{\"rows\":[" + row + "]}", "x"));
  auto with = [&](const std::string& from, const std::string& to) {
    std::string r = row;
    r.replace(r.find(from), from.size(), to);
    return error("{\"rows\":[" + row + "," + r + "]}");
  };
  EXPECT_THAT(with("\"workload\":\"b\"", "\"workload\":\"\""),
              HasSubstr("last/drop-summary.json: /rows/1/source: \"workload\" must be a non-empty "
                        "string"));
  EXPECT_THAT(with("\"port\":80", "\"port\":70000"),
              HasSubstr("/rows/1: \"port\" must be a port number (1-65535) or null"));
  EXPECT_THAT(with("\"direction\":\"INGRESS\",", ""),
              HasSubstr("/rows/1: \"direction\" must be a non-empty string"));
  EXPECT_THAT(with("\"protocol\":\"TCP\"", "\"protocol\":6"),
              HasSubstr("/rows/1: \"protocol\" must be a string or null"));
  EXPECT_THAT(
      with("\"destination\":{\"namespace\":\"a\",\"workload\":\"c\"}", "\"destination\":[]"),
      HasSubstr("/rows/1: \"destination\" must be an object"));
  EXPECT_THAT(error(R"({"rows":[{"a":1,"a":2}]})"), HasSubstr("duplicate key"));
}

TEST(PreviousSummary, AFileThatCannotBeReadIsAUsageError) {
  TempDir dir;
  PreviousSource source;
  source.kind = PreviousSource::Kind::file;
  source.path = dir.file("missing.json");
  auto missing = droplog::load_previous(source);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::usage);
  EXPECT_THAT(missing.error().message, HasSubstr("--previous-summary: " + source.path));
  source.path = dir.write("bad.json", "{\"rows\": 3}");
  auto bad = droplog::load_previous(source);
  ASSERT_FALSE(bad);
  EXPECT_THAT(bad.error().message, HasSubstr(source.path + ": not a drop summary"));
  source.path = dir.write("good.json", k_previous);
  auto good = droplog::load_previous(source);
  ASSERT_TRUE(good) << good.error().message;
  EXPECT_EQ(good->run.state, PreviousRun::State::read);
  EXPECT_EQ(good->run.rows, 1u);
  EXPECT_EQ(good->run.until, "2026-11-25T10:05:00Z");
}

MapEnvironment gitlab_job() {
  MapEnvironment env;
  env.set("CI_JOB_TOKEN", "glcbt-secret");
  env.set("CI_API_V4_URL", "https://gitlab.example.com/api/v4/");
  env.set("CI_PROJECT_ID", "1234");
  env.set("CI_COMMIT_REF_NAME", "feature/a b");
  env.set("CI_JOB_NAME", "rollout 10%:network-policy");
  env.set("CI_PROJECT_DIR", "/builds/group/project");
  return env;
}

TEST(PreviousSummary, AutoIsTheDefaultInAGitLabJobAndNamesTheArtifact) {
  auto source = droplog::previous_source("", false, "netpol-report", gitlab_job());
  ASSERT_TRUE(source) << source.error().message;
  EXPECT_EQ(source->kind, PreviousSource::Kind::artifact);
  EXPECT_EQ(source->url,
            "https://gitlab.example.com/api/v4/projects/1234/jobs/artifacts/feature%2Fa%20b/raw/"
            "netpol-report/drop-summary.json?job=rollout%2010%25%3Anetwork-policy");
  EXPECT_THAT(source->url, Not(HasSubstr("secret")));
  EXPECT_EQ(source->fetch.job_token, "glcbt-secret");
  // An output directory inside the project, given absolute, is the artifact's relative path;
  // each segment encoded.
  auto nested =
      droplog::previous_source("auto", true, "/builds/group/project/out/a b/", gitlab_job());
  ASSERT_TRUE(nested);
  EXPECT_THAT(nested->url, HasSubstr("/raw/out/a%20b/drop-summary.json?job="));
}

TEST(PreviousSummary, OutsideAJobTheDefaultIsNoneAndAutoSaysWhatIsMissing) {
  MapEnvironment env = gitlab_job();
  env.set("CI_JOB_TOKEN", "");
  auto source = droplog::previous_source("", false, "netpol-report", env);
  ASSERT_TRUE(source);
  EXPECT_EQ(source->kind, PreviousSource::Kind::none);
  auto asked = droplog::previous_source("auto", true, "netpol-report", env);
  ASSERT_FALSE(asked);
  EXPECT_EQ(asked.error().code, ErrorCode::config);
  EXPECT_THAT(asked.error().message, HasSubstr("--previous-summary auto: CI_JOB_TOKEN not set"));
  auto none = droplog::previous_source("none", true, "netpol-report", gitlab_job());
  ASSERT_TRUE(none);
  EXPECT_EQ(none->kind, PreviousSource::Kind::none);
  auto file = droplog::previous_source("last.json", true, "netpol-report", gitlab_job());
  ASSERT_TRUE(file);
  EXPECT_EQ(file->kind, PreviousSource::Kind::file);
  EXPECT_EQ(file->path, "last.json");
}

} // namespace
} // namespace netpol::test
