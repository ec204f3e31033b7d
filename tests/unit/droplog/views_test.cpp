#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "droplog/collector.hpp"
#include "droplog/timestamp.hpp"
#include "droplog/views.hpp"
#include "unit/droplog/flow_lines.hpp"

namespace netpol::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

droplog::DropSummary sample_summary() {
  droplog::DropCollector c(droplog::DropFilter{{"shop"}, {}, {}});
  FlowSpec db;
  db.denied_by = {"shop/deny-all"};
  for (int i = 0; i < 12; ++i)
    c.add_line(flow_line(db));
  FlowSpec audit;
  audit.verdict = "AUDIT";
  audit.reason = "";
  audit.source = PeerSpec{"", "", {"reserved:world"}, "203.0.113.9"};
  audit.destination = PeerSpec{"shop", "web-6f7d8c9b5-abcde", {"k8s:app=web"}, "10.0.2.8"};
  audit.port = 443;
  c.add_line(flow_line(audit));
  c.add_line("not a flow");
  droplog::DropSummary s;
  s.since = "2026-11-26T10:00:00Z";
  s.until = "2026-11-26T10:07:12Z";
  s.namespaces = {"shop"};
  s.counts = c.counts();
  s.rows = c.rows();
  return s;
}

TEST(Views, SummaryJsonHasExactlyTheSpecShape) {
  const auto j = droplog::summary_to_json(sample_summary());
  std::vector<std::string> keys;
  for (const auto& [k, v] : j.items())
    keys.push_back(k);
  // SPEC §8.1's keys in its order, then lines_matched and coverage, then the rows.
  EXPECT_EQ(keys, (std::vector<std::string>{"since", "until", "namespaces", "lines_read",
                                            "flows_matched", "lines_skipped", "lines_malformed",
                                            "lines_matched", "coverage", "rows"}));
  EXPECT_EQ(j["lines_read"], 14);
  EXPECT_EQ(j["flows_matched"], 13);
  EXPECT_EQ(j["lines_skipped"], 1);
  EXPECT_EQ(j["lines_matched"], 13);
  EXPECT_EQ(j["coverage"], nlohmann::ordered_json::array());
  ASSERT_EQ(j["rows"].size(), 2u);
  const auto& row = j["rows"][0];
  keys.clear();
  for (const auto& [k, v] : row.items())
    keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"verdict", "direction", "source", "destination", "port",
                                            "protocol", "reason", "policies", "count", "first_seen",
                                            "last_seen"}));
  EXPECT_EQ(row["source"],
            nlohmann::ordered_json::parse(
                R"({"namespace":"shop","workload":"frontend","pod":"frontend-7d9f8b6c5d-x2x4z",
                                   "labels":{"app":"frontend"},"ip":"10.0.1.5"})"));
  EXPECT_EQ(row["port"], 5432);
  EXPECT_EQ(row["protocol"], "TCP");
  EXPECT_EQ(row["reason"], "POLICY_DENIED");
  EXPECT_EQ(row["policies"], nlohmann::json::array({"shop/deny-all"}));
  EXPECT_EQ(row["count"], 12);
  EXPECT_EQ(row["first_seen"], "2026-11-26T10:00:00Z");
  const auto& world = j["rows"][1]["source"];
  EXPECT_TRUE(world["namespace"].is_null());
  EXPECT_TRUE(world["pod"].is_null());
  EXPECT_EQ(world["workload"], "203.0.113.9");
  EXPECT_TRUE(j["rows"][1]["reason"].is_null());
}

TEST(Views, SummaryJsonRoundTrips) {
  const auto s = sample_summary();
  auto back = droplog::summary_from_json(nlohmann::json::parse(droplog::summary_to_json(s).dump()),
                                         "drop-summary.json");
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(droplog::summary_to_json(*back)["rows"], droplog::summary_to_json(s)["rows"]);
}

std::string streamed(void (*write)(const droplog::DropSummary&, const droplog::TextSink&),
                     const droplog::DropSummary& s) {
  std::string out;
  write(s, [&](std::string_view piece) { out += piece; });
  return out;
}

TEST(Views, StreamedSummaryJsonIsTheDumpByteForByte) {
  auto s = sample_summary();
  // What the row writer must escape and shape like nlohmann: quotes, backslashes, control
  // characters, UTF-8, a repeated label key (first place, last value), several policies.
  s.rows[0].source.labels = {{"app", "fr\"ont\\end"},
                             {"tier", "a\tb\x01"
                                      "c"},
                             {"app", "é→"}};
  s.rows[0].policies = {"shop/a", "shop/b"};
  s.rows[1].destination.labels.clear();
  s.rows[1].port = 0;
  s.rows[1].protocol.clear();
  EXPECT_EQ(streamed(droplog::write_summary_json, s), droplog::summary_to_json(s).dump(2) + "\n");
  droplog::DropSummary empty;
  EXPECT_EQ(streamed(droplog::write_summary_json, empty),
            droplog::summary_to_json(empty).dump(2) + "\n");
  s.coverage = {{"kube-system/cilium-a", 1'764'151'200'000'000'000, true, false},
                {"kube-system/cilium-b", std::nullopt, false, true}};
  EXPECT_EQ(streamed(droplog::write_summary_json, s), droplog::summary_to_json(s).dump(2) + "\n");
}

// Two agents: one reaching back before the window, one whose log starts after it.
droplog::DropSummary summary_with_a_gap() {
  auto s = sample_summary();
  s.coverage = {
      {"kube-system/cilium-a", droplog::parse_rfc3339("2026-11-26T09:00:00Z"), true, false},
      {"kube-system/cilium-b", droplog::parse_rfc3339("2026-11-26T10:03:00.25Z"), false, true}};
  return s;
}

TEST(Views, CoverageIsInTheSummaryAndEveryViewSaysWhereItHasAGap) {
  const auto s = summary_with_a_gap();
  const auto j = droplog::summary_to_json(s);
  EXPECT_EQ(j["coverage"], nlohmann::ordered_json::parse(R"([
      {"source":"kube-system/cilium-a","oldest_line":"2026-11-26T09:00:00Z","previous_log":true,
       "gap":false},
      {"source":"kube-system/cilium-b","oldest_line":"2026-11-26T10:03:00.25Z",
       "previous_log":false,"gap":true}])"));

  const std::string gap = "kube-system/cilium-b reaches back to 2026-11-26T10:03:00.25Z only: "
                          "flows between 2026-11-26T10:00:00Z and then may be missing";
  EXPECT_EQ(droplog::coverage_gaps(s), std::vector<std::string>{gap});
  const auto text = droplog::render_text(s);
  // The header line stays the first line; the notice follows it.
  EXPECT_EQ(text.substr(0, text.find('\n')),
            "13 flows dropped or audited in namespace shop from 2026-11-26T10:00:00Z to "
            "2026-11-26T10:07:12Z (14 lines read, 1 skipped, 0 malformed)");
  EXPECT_THAT(text, HasSubstr("\nCoverage: 1 of 2 sources does not reach back to "
                              "2026-11-26T10:00:00Z: flows before its oldest line may be "
                              "missing\n  " +
                              gap + "\n"));
  EXPECT_THAT(droplog::render_html(s),
              HasSubstr("<p class=\"coverage\">Coverage: 1 of 2 sources does not reach back"));

  const auto junit = droplog::render_junit(s);
  ASSERT_EQ(junit.cases().size(), 3u); // the coverage case and the two rows
  const auto& coverage = junit.cases().front();
  EXPECT_EQ(coverage.name, "drop log covers the window");
  EXPECT_EQ(coverage.status, report::CaseStatus::skipped);
  EXPECT_EQ(coverage.message, "1 of 2 sources does not reach back to 2026-11-26T10:00:00Z: flows "
                              "before its oldest line may be missing");
  EXPECT_EQ(coverage.detail, gap + "\n");

  // No gap: a passing case, and no notice in the views.
  auto covered = s;
  covered.coverage[1].gap = false;
  EXPECT_THAT(droplog::render_text(covered), Not(HasSubstr("Coverage")));
  EXPECT_THAT(droplog::render_html(covered), Not(HasSubstr("class=\"coverage\"")));
  const auto passed = droplog::render_junit(covered).cases().front();
  EXPECT_EQ(passed.status, report::CaseStatus::passed);
  EXPECT_EQ(passed.message, "2 sources reach back to 2026-11-26T10:00:00Z");

  // A source nothing could be read from; more gaps than the text views list.
  auto many = s;
  many.coverage.clear();
  for (int i = 0; i < 25; ++i)
    many.coverage.push_back({"kube-system/cilium-" + std::to_string(i), std::nullopt, false, true});
  EXPECT_EQ(droplog::coverage_gaps(many)[0],
            "kube-system/cilium-0: no line with a time could be read: flows from "
            "2026-11-26T10:00:00Z on may be missing");
  const auto listed = droplog::render_text(many);
  EXPECT_THAT(listed, HasSubstr("Coverage: 25 of 25 sources do not reach back"));
  EXPECT_THAT(listed, HasSubstr("kube-system/cilium-19:"));
  EXPECT_THAT(listed, Not(HasSubstr("kube-system/cilium-20:")));
  EXPECT_THAT(listed, HasSubstr("  ... and 5 more (drop-summary.json lists every source)\n"));
}

TEST(Views, AggregatedEventsShowTheirMatchedLinesInTheHeader) {
  auto s = sample_summary();
  s.counts.flows_matched = 40; // 13 lines standing for 40 flows
  EXPECT_THAT(droplog::render_text(s),
              HasSubstr("40 flows dropped or audited in namespace shop from 2026-11-26T10:00:00Z "
                        "to 2026-11-26T10:07:12Z (14 lines read, 13 matched (aggregated), 1 "
                        "skipped, 0 malformed)"));
}

TEST(Views, SummaryFromJsonNamesTheBadField) {
  auto bad = nlohmann::json::parse(R"({"rows":[{"verdict":"DROPPED","port":"http"}]})");
  auto r = droplog::summary_from_json(bad, "s.json");
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().message, HasSubstr("s.json: /rows/0"));
  EXPECT_FALSE(droplog::summary_from_json(nlohmann::json::array(), "s.json"));
}

TEST(Views, TextTableShowsEveryRowInOrder) {
  const auto text = droplog::render_text(sample_summary());
  EXPECT_THAT(text, HasSubstr("13 flows dropped or audited in namespace shop"));
  const auto first = text.find("DROPPED  INGRESS    shop/frontend → shop/db:5432/TCP");
  const auto second = text.find("AUDIT    INGRESS    203.0.113.9 → shop/web:443/TCP");
  ASSERT_NE(first, std::string::npos) << text;
  ASSERT_NE(second, std::string::npos) << text;
  EXPECT_LT(first, second);
  EXPECT_THAT(text, HasSubstr("shop/deny-all"));
}

TEST(Views, TextTableForTheJobLogStopsAtMaxRows) {
  const auto s = sample_summary();
  std::string text;
  droplog::write_text(
      s, [&](std::string_view t) { text += t; }, 1);
  EXPECT_THAT(text, HasSubstr("shop/frontend → shop/db:5432/TCP"));
  EXPECT_THAT(text, Not(HasSubstr("203.0.113.9 → shop/web:443/TCP")));
  EXPECT_THAT(text, HasSubstr("... 1 more rows (" + std::to_string(s.rows[1].count) +
                              " flows): see drop-log.txt"));
}

TEST(Views, HtmlIsSelfContainedEscapedAndSortable) {
  auto s = sample_summary();
  s.rows[0].source.workload = "<script>alert(1)</script>";
  const auto html = droplog::render_html(s);
  EXPECT_THAT(html, HasSubstr("<!DOCTYPE html>"));
  EXPECT_THAT(html, Not(HasSubstr("<script>alert(1)")));
  EXPECT_THAT(html, HasSubstr("&lt;script&gt;alert(1)"));
  for (const char* external : {"src=", "href=", "http://", "https://", "@import", "url("}) {
    EXPECT_THAT(html, Not(HasSubstr(external))) << external;
  }
  EXPECT_THAT(html, HasSubstr("addEventListener('click'"));
  EXPECT_THAT(html, HasSubstr("data-sort=\"00000000000000000012\""));
}

TEST(Views, JunitFoldsRowsPastTheCapIntoOneCase) {
  auto s = sample_summary();
  const droplog::DropRow row = s.rows[0];
  s.rows.clear();
  for (size_t i = 0; i < droplog::k_junit_max_rows + 3; ++i) {
    s.rows.push_back(row);
    s.rows.back().port = static_cast<uint32_t>(1000 + i);
    s.rows.back().count = 2;
  }
  const auto junit = droplog::render_junit(s);
  ASSERT_EQ(junit.cases().size(), droplog::k_junit_max_rows + 1);
  EXPECT_THAT(junit.cases()[droplog::k_junit_max_rows - 1].name, HasSubstr(":1999/TCP"));
  const auto& rest = junit.cases().back();
  EXPECT_EQ(rest.status, report::CaseStatus::failed);
  EXPECT_EQ(rest.name, "3 more rows not shown");
  EXPECT_THAT(rest.message, HasSubstr("3 more rows not shown (6 flows)"));
  // The other views keep every row.
  EXPECT_THAT(droplog::render_text(s), HasSubstr(":2002/TCP"));
  EXPECT_THAT(droplog::render_html(s), HasSubstr("<td data-sort=\"02002\">2002</td>"));
}

TEST(Views, JunitFailsEveryRowAndPassesWhenThereAreNone) {
  const auto xml = droplog::render_junit(sample_summary()).to_xml();
  EXPECT_THAT(xml, HasSubstr("tests=\"2\" failures=\"2\""));
  EXPECT_THAT(xml, HasSubstr("classname=\"netpol.drops.shop\""));
  EXPECT_THAT(xml, HasSubstr("12 flows dropped (POLICY_DENIED, policy shop/deny-all)"));
  EXPECT_THAT(xml, HasSubstr("would have been dropped (audit mode)"));

  droplog::DropSummary empty;
  empty.namespaces = {"shop"};
  const auto ok = droplog::render_junit(empty).to_xml();
  EXPECT_THAT(ok, HasSubstr("tests=\"1\" failures=\"0\""));
  EXPECT_THAT(ok, HasSubstr("name=\"no dropped or audited flows\""));
}

} // namespace
} // namespace netpol::test
