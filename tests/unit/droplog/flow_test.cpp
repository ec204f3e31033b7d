#include <cstdint>

#include <gtest/gtest.h>

#include "droplog/flow.hpp"
#include "util/time.hpp"

namespace netpol::test {
namespace {

using droplog::derive_workload;
using droplog::FlowEndpoint;

FlowEndpoint pod(std::string name, std::vector<std::pair<std::string, std::string>> labels = {}) {
  FlowEndpoint e;
  e.namespace_name = "shop";
  e.pod = std::move(name);
  e.labels = std::move(labels);
  return e;
}

TEST(Workload, ControllerSuffixesAreStripped) {
  EXPECT_EQ(derive_workload(pod("deathstar-7848d6c4d5-th9v2")), "deathstar"); // Deployment
  EXPECT_EQ(derive_workload(pod("reviews-v1-545db77b95-s6jb8")), "reviews-v1");
  EXPECT_EQ(derive_workload(pod("frontend-7d9f-abcde")), "frontend"); // SPEC §8.1 example
  EXPECT_EQ(derive_workload(pod("db-0")), "db");                      // StatefulSet
  EXPECT_EQ(derive_workload(pod("web-12")), "web");
  EXPECT_EQ(derive_workload(pod("cilium-x7k2p")), "cilium"); // DaemonSet
  EXPECT_EQ(derive_workload(pod("migrate-4vz8q")), "migrate");
}

TEST(Workload, NamesWithoutAGeneratedSuffixFallBackToLabelsThenThePodName) {
  EXPECT_EQ(derive_workload(pod("xwing")), "xwing");
  EXPECT_EQ(derive_workload(pod("nginx-proxy")), "nginx-proxy"); // "proxy" has vowels
  EXPECT_EQ(derive_workload(pod("my-cache", {{"app", "cache"}})), "cache");
  EXPECT_EQ(derive_workload(pod("my-cache", {{"app", "x"}, {"app.kubernetes.io/name", "y"}})), "y");
}

TEST(Workload, ReportedWorkloadWins) {
  auto e = pod("api-6b9c7d8f9-abcde");
  e.reported_workload = "api-server";
  EXPECT_EQ(derive_workload(e), "api-server");
}

TEST(Workload, NonPods) {
  FlowEndpoint host;
  host.reserved = "host";
  host.ip = "172.18.0.2";
  EXPECT_EQ(derive_workload(host), "host");
  FlowEndpoint world;
  world.reserved = "world";
  world.ip = "203.0.113.9";
  EXPECT_EQ(derive_workload(world), "203.0.113.9");
  world.ip.clear();
  EXPECT_EQ(derive_workload(world), "world");
  EXPECT_EQ(derive_workload(FlowEndpoint{}), "unknown");
}

TEST(DropReason, NamesFromTheProtoAndNumbersForUnknownOnes) {
  EXPECT_EQ(droplog::drop_reason_name(130), "INVALID_SOURCE_MAC");
  EXPECT_EQ(droplog::drop_reason_name(133), "POLICY_DENIED");
  EXPECT_EQ(droplog::drop_reason_name(158), "SERVICE_BACKEND_NOT_FOUND");
  EXPECT_EQ(droplog::drop_reason_name(159), "159");
  EXPECT_EQ(droplog::drop_reason_name(160), "NO_TUNNEL_OR_ENCAPSULATION_ENDPOINT");
  EXPECT_EQ(droplog::drop_reason_name(181), "POLICY_DENY");
  EXPECT_EQ(droplog::drop_reason_name(189), "AUTH_REQUIRED");
  EXPECT_EQ(droplog::drop_reason_name(205), "DROP_PUNT_PROXY");
  EXPECT_EQ(droplog::drop_reason_name(206), "206");
  EXPECT_EQ(droplog::drop_reason_name(207), "DROP_FRAG_NOT_FOUND_WORLD");
  EXPECT_EQ(droplog::drop_reason_name(208), "208");
  EXPECT_EQ(droplog::drop_reason_name(1), "1");
}

TEST(Timestamp, ParsesRfc3339WithFractionsAndOffsets) {
  EXPECT_EQ(parse_rfc3339("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(parse_rfc3339("1970-01-01T00:00:01.5Z"), 1'500'000'000);
  EXPECT_EQ(parse_rfc3339("2026-11-26T10:00:00Z"), 1'795'687'200'000'000'000);
  EXPECT_EQ(parse_rfc3339("2026-11-26T12:00:00+02:00"), parse_rfc3339("2026-11-26T10:00:00Z"));
  EXPECT_EQ(parse_rfc3339("2023-08-21T12:12:18.510175415Z").value() % 1'000'000'000, 510175415);
  for (const char* bad : {"", "2026-11-26", "2026-11-26T10:00:00", "2026-13-01T00:00:00Z",
                          "2026-11-26T10:00:00.Z", "2026-11-26T10:00:00Zjunk", "yesterday"}) {
    EXPECT_FALSE(parse_rfc3339(bad).has_value()) << bad;
  }
}

TEST(Timestamp, YearsPastTheNanosecondRangeAreRejectedNotWrapped) {
  // int64 nanoseconds end at 2262-04-11T23:47:16.854775807Z (found by the line fuzzer).
  EXPECT_EQ(parse_rfc3339("2262-04-11T23:47:16.854775807Z"), INT64_MAX);
  EXPECT_FALSE(parse_rfc3339("2262-04-11T23:47:16.854775808Z").has_value());
  EXPECT_FALSE(parse_rfc3339("9999-12-31T23:59:59Z").has_value());
  EXPECT_FALSE(parse_rfc3339("0001-01-01T00:00:00Z").has_value());
  EXPECT_TRUE(parse_rfc3339("1700-01-01T00:00:00Z").has_value());
}

TEST(Timestamp, FormatRoundTrips) {
  for (const char* t : {"2026-11-26T10:00:00Z", "2023-08-21T12:12:18.510175415Z",
                        "1999-12-31T23:59:59.5Z", "2024-02-29T00:00:00Z"}) {
    EXPECT_EQ(format_rfc3339(*parse_rfc3339(t)), t);
  }
}

} // namespace
} // namespace netpol::test
