#include <gtest/gtest.h>

#include "droplog/aggregate.hpp"
#include "droplog/line_parser.hpp"
#include "unit/droplog/flow_lines.hpp"

namespace netpol::test {
namespace {

using droplog::DropAggregator;
using droplog::DropFlow;

DropFlow parse(const FlowSpec& spec) {
  droplog::LineParser parser;
  DropFlow flow;
  EXPECT_EQ(parser.parse(flow_line(spec), flow), droplog::LineOutcome::flow);
  return flow;
}

TEST(Aggregate, PodsOfOneWorkloadShareARow) {
  DropAggregator agg;
  FlowSpec a;
  FlowSpec b;
  b.source.pod = "frontend-7d9f8b6c5d-q9wnm"; // another replica
  b.source.ip = "10.0.1.6";
  FlowSpec c;
  c.source.pod = "frontend-6c8d7b5f4-zzt5x"; // a new ReplicaSet of the same Deployment
  agg.add(parse(a));
  agg.add(parse(b));
  agg.add(parse(c));
  const auto rows = agg.rows();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].count, 3u);
  EXPECT_EQ(rows[0].source.workload, "frontend");
  EXPECT_EQ(rows[0].source.pod, "frontend-7d9f8b6c5d-x2x4z"); // the first example is kept
}

TEST(Aggregate, EveryKeyFieldSplitsRows) {
  const FlowSpec base;
  std::vector<FlowSpec> variants(9, base);
  variants[1].verdict = "AUDIT";
  variants[2].direction = "EGRESS";
  variants[3].source = PeerSpec{"shop", "cart-0", {"k8s:app=cart"}, "10.0.1.9"};
  variants[4].destination = PeerSpec{"shop", "cache-0", {"k8s:app=cache"}, "10.0.2.9"};
  variants[5].port = 5433;
  variants[6].protocol = "UDP";
  variants[7].reason = "POLICY_DENY";
  variants[8].denied_by = {"shop/deny-db"};
  DropAggregator agg;
  for (const auto& v : variants)
    agg.add(parse(v));
  EXPECT_EQ(agg.rows().size(), variants.size());
  // The same destination workload in another namespace is another workload.
  FlowSpec other_ns;
  other_ns.destination.ns = "shop-staging";
  agg.add(parse(other_ns));
  EXPECT_EQ(agg.rows().size(), variants.size() + 1);
}

TEST(Aggregate, RowsSortByCountAndSeenTimesSpanTheRowWhateverTheOrder) {
  DropAggregator agg;
  FlowSpec rare;
  rare.port = 22;
  agg.add(parse(rare));
  for (const char* t : {"2026-11-26T10:05:00Z", "2026-11-26T10:01:00Z", "2026-11-26T10:09:00Z"}) {
    FlowSpec f;
    f.time = t;
    agg.add(parse(f));
  }
  const auto rows = agg.rows();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].count, 3u);
  EXPECT_EQ(rows[0].port, 5432u);
  EXPECT_EQ(rows[0].first_seen, "2026-11-26T10:01:00Z");
  EXPECT_EQ(rows[0].last_seen, "2026-11-26T10:09:00Z");
  EXPECT_EQ(rows[1].count, 1u);
}

TEST(Aggregate, TakeRowsIsRowsWithoutTheCopy) {
  DropAggregator agg;
  for (int i = 0; i < 40; ++i) {
    FlowSpec f;
    f.port = 8000 + (i * 7) % 13; // counts 4 and 3, first seen in a shuffled order
    f.time = "2026-11-26T10:" + std::to_string(10 + (i * 11) % 40) + ":00Z";
    agg.add(parse(f));
  }
  const auto copied = agg.rows();
  const auto taken = agg.take_rows();
  ASSERT_EQ(taken.size(), 13u);
  ASSERT_EQ(copied.size(), taken.size());
  for (size_t i = 0; i < taken.size(); ++i) {
    EXPECT_EQ(taken[i].port, copied[i].port) << i;
    EXPECT_EQ(taken[i].count, copied[i].count) << i;
    EXPECT_EQ(taken[i].first_seen, copied[i].first_seen) << i;
  }
  EXPECT_EQ(agg.size(), 0u);
}

TEST(Aggregate, MergeMatchesAddingEverythingToOne) {
  DropAggregator one, left, right;
  for (int i = 0; i < 10; ++i) {
    FlowSpec f;
    f.port = 8000 + i % 3;
    f.time = "2026-11-26T10:0" + std::to_string(i) + ":00Z";
    one.add(parse(f));
    (i % 2 ? left : right).add(parse(f));
  }
  left.merge(right);
  const auto a = one.rows();
  const auto b = left.rows();
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].port, b[i].port);
    EXPECT_EQ(a[i].count, b[i].count);
    EXPECT_EQ(a[i].first_seen, b[i].first_seen);
    EXPECT_EQ(a[i].last_seen, b[i].last_seen);
  }
}

} // namespace
} // namespace netpol::test
