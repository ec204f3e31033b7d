#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "droplog/flow.hpp"
#include "droplog/line_parser.hpp"
#include "droplog/timestamp.hpp"
#include "support/paths.hpp"
#include "unit/droplog/flow_lines.hpp"

namespace netpol::test {
namespace {

using droplog::DropFlow;
using droplog::LineOutcome;
using droplog::LineParser;

std::vector<std::string> read_lines(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);)
    lines.push_back(line);
  return lines;
}

TEST(LineParser, RealSamplesYieldTheTwoDropsAndSkipTheRest) {
  const auto lines = read_lines(testdata("hubble/hubble-flows-sample.jsonl"));
  ASSERT_EQ(lines.size(), 52u);
  LineParser parser;
  DropFlow flow;
  std::vector<DropFlow> flows;
  int skipped = 0;
  for (const auto& line : lines) {
    switch (parser.parse(line, flow)) {
    case LineOutcome::flow: flows.push_back(flow); break;
    case LineOutcome::skipped: ++skipped; break;
    case LineOutcome::malformed: ADD_FAILURE() << "malformed: " << line; break;
    }
  }
  EXPECT_EQ(skipped, 50);
  ASSERT_EQ(flows.size(), 2u);

  const DropFlow& icmp = flows[0];
  EXPECT_EQ(icmp.verdict, "DROPPED");
  EXPECT_EQ(icmp.reason, "INVALID_SOURCE_IP");
  EXPECT_EQ(icmp.protocol, "ICMPv6");
  EXPECT_EQ(icmp.port, 0u);
  EXPECT_EQ(icmp.source.ip, "fe80::64d8:8aff:fe72:fc14");
  EXPECT_EQ(icmp.source.workload, "fe80::64d8:8aff:fe72:fc14");
  EXPECT_EQ(icmp.direction, "UNKNOWN"); // masked out by the export's field mask

  const DropFlow& tcp = flows[1];
  EXPECT_EQ(tcp.reason, "POLICY_DENIED");
  EXPECT_EQ(tcp.source.namespace_name, "default");
  EXPECT_EQ(tcp.source.pod, "xwing");
  EXPECT_EQ(tcp.source.workload, "xwing");
  EXPECT_EQ(tcp.destination.pod, "deathstar-7848d6c4d5-th9v2");
  EXPECT_EQ(tcp.destination.workload, "deathstar");
  EXPECT_EQ(tcp.destination.ip, "10.244.1.5");
  EXPECT_EQ(tcp.protocol, "TCP");
  EXPECT_EQ(tcp.port, 80u);
  EXPECT_EQ(tcp.time, "2023-08-21T12:12:18.510175415Z");
  ASSERT_TRUE(tcp.has_time);
  EXPECT_EQ(tcp.time_ns, *droplog::parse_rfc3339("2023-08-21T12:12:18.510175415Z"));
}

TEST(LineParser, EventJsonIsTheLineAsReceived) {
  const auto line = read_lines(testdata("hubble/hubble-flows-sample.jsonl"))[1];
  LineParser parser;
  DropFlow flow;
  ASSERT_EQ(parser.parse(line, flow), LineOutcome::flow);
  EXPECT_EQ(parser.event_json(), line);
}

TEST(LineParser, LogfmtShapeGivesTheSameFlowAndUnescapedJson) {
  const auto json = read_lines(testdata("hubble/hubble-flows-sample.jsonl"))[1];
  LineParser parser;
  DropFlow raw, wrapped;
  ASSERT_EQ(parser.parse(json, raw), LineOutcome::flow);
  ASSERT_EQ(parser.parse(logfmt_line(json), wrapped), LineOutcome::flow);
  EXPECT_EQ(parser.event_json(), json);
  EXPECT_EQ(wrapped.destination.workload, raw.destination.workload);
  EXPECT_EQ(wrapped.port, raw.port);
  EXPECT_EQ(wrapped.time_ns, raw.time_ns);
}

TEST(LineParser, LogfmtEscapesAreDecoded) {
  FlowSpec spec;
  spec.source.labels = {"k8s:app=café \"quoted\""};
  const std::string json = flow_line(spec);
  // Go escapes non-ASCII as \u in %q; a tab as \t.
  std::string quoted = go_quote(json);
  const std::string cafe = "café";
  quoted.replace(quoted.find(cafe), cafe.size(), "caf\\u00e9");
  LineParser parser;
  DropFlow flow;
  ASSERT_EQ(parser.parse("level=info msg=" + quoted, flow), LineOutcome::flow);
  ASSERT_EQ(flow.source.labels.size(), 1u);
  EXPECT_EQ(flow.source.labels[0].second, "café \"quoted\"");
  EXPECT_EQ(parser.event_json(), json);
}

TEST(LineParser, WhitespaceAtTheEndOfALogfmtMessageStaysOutOfTheEvent) {
  const std::string json = flow_line(FlowSpec{});
  LineParser parser;
  DropFlow flow;
  // Go's %q of a message that ends in a newline, then a space: the event is still one
  // JSON object on one line of drop-log.jsonl.
  ASSERT_EQ(parser.parse("level=info msg=" + go_quote(json + "\n "), flow), LineOutcome::flow);
  EXPECT_EQ(parser.event_json(), json);
}

TEST(LineParser, KubeletTimestampPrefixAndCrlfAreIgnored) {
  LineParser parser;
  DropFlow flow;
  const std::string json = flow_line(FlowSpec{});
  EXPECT_EQ(parser.parse("2026-11-26T10:00:00.123456789Z " + json + "\r", flow), LineOutcome::flow);
  EXPECT_EQ(parser.event_json(), json);
  EXPECT_EQ(parser.parse("2026-11-26T10:00:00.123456789Z " + logfmt_line(json), flow),
            LineOutcome::flow);
}

TEST(LineParser, BareFlowFromLegacyJsonOutput) {
  const std::string event = flow_line(FlowSpec{});
  const auto flow_only = nlohmann::json::parse(event)["flow"].dump();
  LineParser parser;
  DropFlow flow;
  ASSERT_EQ(parser.parse(flow_only, flow), LineOutcome::flow);
  EXPECT_EQ(flow.destination.workload, "db");
}

TEST(LineParser, ProtojsonSpacesAfterColonsAndCommas) {
  std::string line = flow_line(FlowSpec{});
  std::string spaced;
  bool in_string = false;
  for (char c : line) {
    spaced += c;
    if (c == '"') in_string = !in_string;
    if (!in_string && (c == ':' || c == ',')) spaced += ' ';
  }
  LineParser parser;
  DropFlow flow;
  ASSERT_EQ(parser.parse(spaced, flow), LineOutcome::flow);
  EXPECT_EQ(flow.port, 5432u);
}

TEST(LineParser, AuditPolicyVerdictIsKept) {
  FlowSpec spec;
  spec.verdict = "AUDIT";
  spec.reason = "";
  LineParser parser;
  DropFlow flow;
  ASSERT_EQ(parser.parse(flow_line(spec), flow), LineOutcome::flow);
  EXPECT_EQ(flow.verdict, "AUDIT");
  EXPECT_EQ(flow.reason, "");
}

TEST(LineParser, OtherVerdictsAndEventsAreSkipped) {
  LineParser parser;
  DropFlow flow;
  for (const char* verdict : {"FORWARDED", "REDIRECTED", "ERROR", "TRACED", "TRANSLATED"}) {
    FlowSpec spec;
    spec.verdict = verdict;
    EXPECT_EQ(parser.parse(flow_line(spec), flow), LineOutcome::skipped) << verdict;
    EXPECT_EQ(parser.parse(logfmt_line(flow_line(spec)), flow), LineOutcome::skipped) << verdict;
  }
  for (
      const char* line : {
          R"({"node_status":{"state_change":"NODE_CONNECTED","node_names":["n1"]},"time":"2026-11-26T10:00:00Z"})",
          R"({"lost_events":{"source":"HUBBLE_RING_BUFFER","num_events_lost":"12"}})",
          R"(time="2026-11-26T10:00:00Z" level=info msg="Policy imported via API, recalculating..." policyAddRequest=2 subsys=daemon)",
          R"(level=warning msg="Unable to update ipcache map entry on pod add" error="DROPPED is just a word here")",
          "   ",
          "Hubble exporter started",
      }) {
    EXPECT_EQ(parser.parse(line, flow), LineOutcome::skipped) << line;
  }
}

TEST(LineParser, VerdictInsideALabelDoesNotFoolThePrefilter) {
  FlowSpec spec;
  spec.verdict = "FORWARDED";
  spec.source.labels = {"k8s:note=verdict", "k8s:x=\"verdict\":\"DROPPED\""};
  LineParser parser;
  DropFlow flow;
  EXPECT_EQ(parser.parse(flow_line(spec), flow), LineOutcome::skipped);
}

TEST(LineParser, EveryLineOfTheMalformedCorpusIsMalformed) {
  const auto lines = read_lines(testdata("hubble-malformed/malformed.txt"));
  ASSERT_GE(lines.size(), 30u);
  LineParser parser;
  DropFlow flow;
  for (size_t i = 0; i < lines.size(); ++i) {
    EXPECT_EQ(parser.parse(lines[i], flow), LineOutcome::malformed) << "line " << i + 1;
  }
  // The parser recovers: the next good line parses.
  EXPECT_EQ(parser.parse(flow_line(FlowSpec{}), flow), LineOutcome::flow);
}

TEST(LineParser, DenyingPoliciesAndNumericReasons) {
  FlowSpec spec;
  spec.reason = "";
  spec.direction = "EGRESS";
  spec.denied_by = {"shop/deny-egress", "shop/default-deny", "shop/deny-egress"};
  auto json = nlohmann::json::parse(flow_line(spec));
  json["flow"]["drop_reason"] = 181;
  LineParser parser;
  DropFlow flow;
  ASSERT_EQ(parser.parse(json.dump(), flow), LineOutcome::flow);
  EXPECT_EQ(flow.direction, "EGRESS");
  EXPECT_EQ(flow.reason, "POLICY_DENY");
  EXPECT_EQ(flow.policies, (std::vector<std::string>{"shop/default-deny", "shop/deny-egress"}));
  json["flow"]["drop_reason"] = 250; // a reason newer than this build
  ASSERT_EQ(parser.parse(json.dump(), flow), LineOutcome::flow);
  EXPECT_EQ(flow.reason, "250");
}

TEST(LineParser, LabelsKeepPodLabelsOnlyAndReservedIdentitiesNameNonPods) {
  FlowSpec spec;
  spec.source = PeerSpec{"", "", {"reserved:world"}, "203.0.113.9"};
  spec.destination.labels = {"k8s:app=db",
                             "k8s:io.kubernetes.pod.namespace=shop",
                             "k8s:io.cilium.k8s.policy.serviceaccount=db",
                             "k8s:io.cilium.k8s.namespace.labels.team=a",
                             "k8s:tier=data",
                             "container:id=x"};
  LineParser parser;
  DropFlow flow;
  ASSERT_EQ(parser.parse(flow_line(spec), flow), LineOutcome::flow);
  EXPECT_EQ(flow.source.reserved, "world");
  EXPECT_EQ(flow.source.workload, "203.0.113.9");
  using Labels = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(flow.destination.labels, (Labels{{"app", "db"}, {"tier", "data"}}));

  spec.source = PeerSpec{"", "", {"reserved:host"}, "172.18.0.2"};
  ASSERT_EQ(parser.parse(flow_line(spec), flow), LineOutcome::flow);
  EXPECT_EQ(flow.source.workload, "host");
}

TEST(LineParser, AggregatedExporterEventsCarryTheirFlowCounts) {
  LineParser parser;
  DropFlow flow;
  ASSERT_EQ(parser.parse(flow_line(FlowSpec{}), flow), LineOutcome::flow);
  EXPECT_FALSE(flow.aggregated());
  EXPECT_EQ(flow.count, 1u);

  const auto line = aggregated_line(FlowSpec{}, {{"ingress_flow_count", 7}});
  ASSERT_EQ(parser.parse(line, flow), LineOutcome::flow);
  EXPECT_TRUE(flow.aggregated());
  EXPECT_EQ(flow.aggregate_ingress, 7u);
  EXPECT_EQ(flow.aggregate_egress, 0u);
  EXPECT_EQ(flow.aggregate_unknown, 0u);
  EXPECT_EQ(flow.direction, "INGRESS");
  EXPECT_EQ(parser.event_json(), line); // drop-log.jsonl keeps the event as received
  // Inside an agent log line, and after the kubelet's time.
  ASSERT_EQ(parser.parse("2026-11-26T10:00:00Z " + logfmt_line(line), flow), LineOutcome::flow);
  EXPECT_EQ(flow.aggregate_ingress, 7u);

  // Projected on fields that leave the direction out: the counts are split by direction.
  ASSERT_EQ(parser.parse(aggregated_line(FlowSpec{},
                                         {{"ingress_flow_count", 2},
                                          {"egress_flow_count", 3},
                                          {"unknown_direction_flow_count", 4}},
                                         {"verdict", "source", "destination"}),
                         flow),
            LineOutcome::flow);
  EXPECT_EQ(flow.direction, "UNKNOWN");
  EXPECT_EQ(flow.source.workload, "frontend");
  EXPECT_EQ(flow.port, 0u);
  EXPECT_EQ(flow.aggregate_ingress + flow.aggregate_egress + flow.aggregate_unknown, 9u);

  // The next ordinary line starts from one flow again.
  ASSERT_EQ(parser.parse(flow_line(FlowSpec{}), flow), LineOutcome::flow);
  EXPECT_FALSE(flow.aggregated());

  // Counts of the wrong type or past uint32 are not an exporter's.
  for (const char* bad : {R"({"ingress_flow_count":-1})", R"({"ingress_flow_count":"x"})",
                          R"({"egress_flow_count":4294967296})", R"([1])", R"(7)"}) {
    EXPECT_EQ(parser.parse(aggregated_line(FlowSpec{}, nlohmann::ordered_json::parse(bad)), flow),
              LineOutcome::malformed)
        << bad;
  }
}

TEST(LineParser, LogLineTimeIsTheKubeletsPrefix) {
  EXPECT_EQ(droplog::log_line_time("2026-11-26T10:00:00.5Z {\"flow\":{}}"),
            droplog::parse_rfc3339("2026-11-26T10:00:00.5Z"));
  EXPECT_EQ(droplog::log_line_time("2026-11-26T10:00:00.123456789Z level=info msg=x"),
            droplog::parse_rfc3339("2026-11-26T10:00:00.123456789Z"));
  EXPECT_EQ(droplog::log_line_time("{\"time\":\"2026-11-26T10:00:00Z\"}"), std::nullopt);
  EXPECT_EQ(droplog::log_line_time("2026-11-26 is a date"), std::nullopt);
  EXPECT_EQ(droplog::log_line_time(""), std::nullopt);
}

} // namespace
} // namespace netpol::test
