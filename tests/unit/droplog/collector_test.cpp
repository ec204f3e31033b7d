#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "droplog/collector.hpp"
#include "droplog/timestamp.hpp"
#include "support/paths.hpp"
#include "unit/droplog/flow_lines.hpp"

namespace netpol::test {
namespace {

using droplog::DropCollector;
using droplog::DropFilter;
using droplog::DropRow;
using droplog::LineSplitter;

std::vector<std::string> read_lines(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);)
    lines.push_back(line);
  return lines;
}

void expect_counts_add_up(const DropCollector& c) {
  const auto& n = c.counts();
  EXPECT_EQ(n.lines_read, n.lines_matched + n.lines_skipped + n.lines_malformed);
}

TEST(Collector, SampleAndMalformedCorpusCountsAddUp) {
  DropCollector c(DropFilter{});
  std::vector<std::string> kept;
  DropCollector with_sink(DropFilter{}, [&](std::string_view j) { kept.emplace_back(j); });
  for (const auto& path : {"hubble/hubble-flows-sample.jsonl", "hubble-malformed/malformed.txt"}) {
    for (const auto& line : read_lines(testdata(path))) {
      c.add_line(line);
      with_sink.add_line(line);
    }
  }
  const auto malformed = read_lines(testdata("hubble-malformed/malformed.txt")).size();
  EXPECT_EQ(c.counts().lines_read, 52 + malformed);
  EXPECT_EQ(c.counts().flows_matched, 2u);
  EXPECT_EQ(c.counts().lines_skipped, 50u);
  EXPECT_EQ(c.counts().lines_malformed, malformed);
  expect_counts_add_up(c);
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_EQ(kept[1], read_lines(testdata("hubble/hubble-flows-sample.jsonl"))[1]);
}

TEST(Collector, NamespaceFilterMatchesSourceOrDestination) {
  FlowSpec into_shop; // shop -> shop
  FlowSpec from_shop;
  from_shop.destination = PeerSpec{"payments", "ledger-0", {"k8s:app=ledger"}, "10.0.3.3"};
  FlowSpec elsewhere;
  elsewhere.source = PeerSpec{"ci", "runner-0", {"k8s:app=runner"}, "10.0.4.4"};
  elsewhere.destination = PeerSpec{"payments", "ledger-0", {"k8s:app=ledger"}, "10.0.3.3"};

  DropCollector shop(DropFilter{{"shop"}, {}, {}});
  DropCollector payments(DropFilter{{"payments"}, {}, {}});
  DropCollector both(DropFilter{{"shop", "ci"}, {}, {}});
  DropCollector all(DropFilter{});
  for (auto* c : {&shop, &payments, &both, &all}) {
    for (const auto& f : {into_shop, from_shop, elsewhere})
      c->add_line(flow_line(f));
    expect_counts_add_up(*c);
  }
  EXPECT_EQ(shop.counts().flows_matched, 2u);
  EXPECT_EQ(shop.counts().lines_skipped, 1u);
  EXPECT_EQ(payments.counts().flows_matched, 2u);
  EXPECT_EQ(both.counts().flows_matched, 3u);
  EXPECT_EQ(all.counts().flows_matched, 3u);
}

TEST(Collector, TimeWindowIsInclusiveAndFlowsWithoutTimeAreKept) {
  const auto t = [](const char* s) { return *droplog::parse_rfc3339(s); };
  DropCollector c(DropFilter{{}, t("2026-11-26T10:00:00Z"), t("2026-11-26T11:00:00Z")});
  for (const char* time :
       {"2026-11-26T09:59:59.999999999Z", "2026-11-26T10:00:00Z", "2026-11-26T10:30:00Z",
        "2026-11-26T11:00:00Z", "2026-11-26T11:00:00.000000001Z"}) {
    FlowSpec f;
    f.time = time;
    c.add_line(flow_line(f));
  }
  auto no_time = nlohmann::json::parse(flow_line(FlowSpec{}));
  no_time["flow"].erase("time");
  no_time.erase("time");
  c.add_line(no_time.dump());
  EXPECT_EQ(c.counts().flows_matched, 4u);
  EXPECT_EQ(c.counts().lines_skipped, 2u);
  EXPECT_EQ(c.earliest_ns(), t("2026-11-26T10:00:00Z"));
  EXPECT_EQ(c.latest_ns(), t("2026-11-26T11:00:00Z"));
}

TEST(Collector, BlankLinesAreNotCounted) {
  DropCollector c(DropFilter{});
  c.add_line("");
  c.add_line("\r");
  EXPECT_EQ(c.counts().lines_read, 0u);
}

TEST(Collector, MergeAddsCountsAndRows) {
  DropCollector a(DropFilter{}), b(DropFilter{});
  a.add_line(flow_line(FlowSpec{}));
  b.add_line(flow_line(FlowSpec{}));
  b.add_line("garbage");
  a.merge(b);
  EXPECT_EQ(a.counts().lines_read, 3u);
  ASSERT_EQ(a.rows().size(), 1u);
  EXPECT_EQ(a.rows()[0].count, 2u);
}

TEST(Collector, AggregatedEventsCountTheirFlowsByDirection) {
  std::vector<std::string> kept;
  DropCollector c(DropFilter{{"shop"}, {}, {}}, [&](std::string_view j) { kept.emplace_back(j); });
  FlowSpec drop; // shop/frontend -> shop/db:5432, INGRESS
  c.add_line(flow_line(drop));
  c.add_line(aggregated_line(drop, {{"ingress_flow_count", 5}}));
  // Aggregated on fields without the direction: the counts say which direction.
  c.add_line(aggregated_line(drop, {{"ingress_flow_count", 2}, {"egress_flow_count", 3}},
                             {"verdict", "IP", "l4", "source", "destination", "drop_reason_desc"}));
  FlowSpec other = drop;
  other.source.ns = "ci";
  other.destination.ns = "ci";
  c.add_line(aggregated_line(other, {{"ingress_flow_count", 100}})); // not the namespace
  expect_counts_add_up(c);
  EXPECT_EQ(c.counts().lines_read, 4u);
  EXPECT_EQ(c.counts().lines_matched, 3u);
  EXPECT_EQ(c.counts().flows_matched, 1u + 5u + 5u);
  EXPECT_EQ(c.counts().lines_skipped, 1u);
  EXPECT_EQ(kept.size(), 3u); // drop-log.jsonl: one event per line, as received
  const auto rows = c.rows();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].direction, "INGRESS");
  EXPECT_EQ(rows[0].count, 1u + 5u + 2u);
  EXPECT_EQ(rows[1].direction, "EGRESS");
  EXPECT_EQ(rows[1].count, 3u);
  uint64_t in_rows = 0;
  for (const auto& r : rows)
    in_rows += r.count;
  EXPECT_EQ(in_rows, c.counts().flows_matched);
}

TEST(Collector, OldestReadIsTheOldestDropReadKeptOrNot) {
  DropCollector c(DropFilter{{"shop"}, droplog::parse_rfc3339("2026-11-26T09:00:00Z"), {}});
  EXPECT_EQ(c.oldest_read_ns(), 0);
  FlowSpec late;
  late.time = "2026-11-26T09:30:00Z";
  FlowSpec early; // outside the window, still read
  early.time = "2026-11-26T08:15:00Z";
  FlowSpec forwarded; // not a drop: its time is never parsed
  forwarded.verdict = "FORWARDED";
  forwarded.time = "2026-11-26T07:00:00Z";
  for (const auto* f : {&late, &early, &forwarded})
    c.add_line(flow_line(*f));
  EXPECT_EQ(c.oldest_read_ns(), *droplog::parse_rfc3339("2026-11-26T08:15:00Z"));
  EXPECT_EQ(c.earliest_ns(), *droplog::parse_rfc3339("2026-11-26T09:30:00Z"));
  DropCollector other(DropFilter{});
  FlowSpec earlier;
  earlier.time = "2026-11-26T06:00:00Z";
  other.add_line(flow_line(earlier));
  c.merge(other);
  EXPECT_EQ(c.oldest_read_ns(), *droplog::parse_rfc3339("2026-11-26T06:00:00Z"));
}

TEST(LineSplitter, ChunkBoundariesDoNotChangeTheLines) {
  const std::string text = "first\nsecond line\n\nfourth\r\nlast without newline";
  const std::vector<std::string> expected = {"first", "second line", "", "fourth\r",
                                             "last without newline"};
  for (size_t chunk = 1; chunk <= text.size(); ++chunk) {
    LineSplitter splitter;
    std::vector<std::string> got;
    auto on_line = [&](std::string_view l) { got.emplace_back(l); };
    for (size_t i = 0; i < text.size(); i += chunk)
      splitter.feed(std::string_view(text).substr(i, chunk), on_line);
    splitter.finish(on_line);
    EXPECT_EQ(got, expected) << "chunk size " << chunk;
  }
}

TEST(LineSplitter, OverlongLinesAreCutAndTheRestDropped) {
  LineSplitter splitter(8);
  std::vector<std::string> got;
  auto on_line = [&](std::string_view l) { got.emplace_back(l); };
  splitter.feed("0123456789abc", on_line);
  splitter.feed("def\nok\n0123", on_line);
  splitter.feed("456789\nx", on_line);
  splitter.finish(on_line);
  EXPECT_EQ(got, (std::vector<std::string>{"01234567", "ok", "01234567", "x"}));
}

} // namespace
} // namespace netpol::test
