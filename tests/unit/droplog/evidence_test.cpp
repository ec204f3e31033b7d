#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "droplog/collector.hpp"
#include "droplog/evidence.hpp"
#include "support/paths.hpp"
#include "support/run_cli.hpp"
#include "unit/droplog/flow_lines.hpp"

namespace netpol::test {
namespace {

using model::FlowEvidence;
using model::ObservedConnection;
using ::testing::HasSubstr;

class Evidence : public ::testing::Test {
protected:
  void SetUp() override {
    std::string templ =
        (std::filesystem::temp_directory_path() / "netpol-evidence-XXXXXX").string();
    ASSERT_NE(::mkdtemp(templ.data()), nullptr);
    m_dir = templ;
  }
  void TearDown() override { std::filesystem::remove_all(m_dir); }

  std::string write(const std::string& name, const std::vector<std::string>& lines) {
    const auto path = m_dir / name;
    std::ofstream out(path);
    for (const auto& l : lines)
      out << l << "\n";
    return path.string();
  }
  std::string report(const std::string& name) const { return (m_dir / "report" / name).string(); }
  std::string read_report(const std::string& name) const {
    std::ifstream in(report(name));
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  std::filesystem::path m_dir;
};

FlowEvidence read_ok(const std::vector<std::string>& paths) {
  auto e = droplog::read_evidence(paths);
  EXPECT_TRUE(e.has_value()) << (e ? "" : e.error().message);
  return e ? *e : FlowEvidence{};
}

const ObservedConnection* find(const FlowEvidence& e, const std::string& from,
                               const std::string& to, int port) {
  for (const auto& c : e.connections) {
    if (c.source.namespace_name + "/" + c.source.workload == from &&
        c.destination.namespace_name + "/" + c.destination.workload == to && c.port == port) {
      return &c;
    }
  }
  return nullptr;
}

FlowSpec api_to_db(const std::string& verdict, const std::string& pod, const std::string& time) {
  FlowSpec s;
  s.verdict = verdict;
  s.time = time;
  s.source = PeerSpec{"shop", pod, {"k8s:app=api"}, "10.0.1.5"};
  s.destination = PeerSpec{"shop", "db-0", {"k8s:app=db"}, "10.0.2.7"};
  s.port = 5432;
  if (verdict != "DROPPED") s.reason.clear();
  return s;
}

TEST_F(Evidence, TheRealCapturesCountEveryVerdictAndSkipIcmp) {
  const auto e = read_ok({testdata("hubble/hubble-flows-sample.jsonl").string()});
  // 52 flows: 48 FORWARDED, 2 REDIRECTED, 2 DROPPED; 19 are forwarded replies (is_reply, or
  // the older reply), not connection attempts; 5 of the rest are ICMP (no port).
  EXPECT_EQ(e.flows_read, 28u);
  EXPECT_EQ(e.flows_without_port, 5u);
  EXPECT_EQ(e.lines_malformed, 0u);
  EXPECT_EQ(e.since, "2021-06-16T16:52:13.136893596Z"); // the first line is a reply
  EXPECT_EQ(e.until, "2023-08-21T12:12:18.510175415Z");
  EXPECT_EQ(e.files, std::vector<std::string>{testdata("hubble/hubble-flows-sample.jsonl")});
  uint64_t sum = 0;
  for (const auto& c : e.connections)
    sum += c.count;
  EXPECT_EQ(sum, 28u);
  // The exporter's DROPPED line (field-masked, no labels): the workload from the pod name.
  const auto* drop = find(e, "default/xwing", "default/deathstar", 80);
  ASSERT_NE(drop, nullptr);
  EXPECT_EQ(drop->count, 1u);
  EXPECT_EQ(drop->protocol, model::Protocol::tcp);
  EXPECT_EQ(drop->destination.pod, "deathstar-7848d6c4d5-th9v2");
  EXPECT_EQ(drop->first_seen, "2023-08-21T12:12:18.510175415Z");
  // FORWARDED jsonpb flows; sorted by count, highest first.
  const auto* forwarded = find(e, "bookinfo/productpage-v1", "bookinfo/reviews-v2", 9080);
  ASSERT_NE(forwarded, nullptr);
  EXPECT_GE(forwarded->count, 5u);
  for (size_t i = 1; i < e.connections.size(); ++i)
    EXPECT_GE(e.connections[i - 1].count, e.connections[i].count);
}

TEST_F(Evidence, EveryLineShapeAndAggregatedEvents) {
  const auto raw =
      flow_line(api_to_db("FORWARDED", "api-7d9f8b6c5d-x2x4z", "2026-11-26T10:00:01Z"));
  const auto dropped =
      flow_line(api_to_db("DROPPED", "api-7d9f8b6c5d-x2x4z", "2026-11-26T10:00:02Z"));
  const auto audit = flow_line(api_to_db("AUDIT", "api-7d9f8b6c5d-x2x4z", "2026-11-26T10:00:03Z"));
  const auto path =
      write("mixed.log",
            {raw, logfmt_line(dropped), "2026-11-26T10:00:03.5Z " + audit,
             aggregated_line(api_to_db("FORWARDED", "api-7d9f8b6c5d-x2x4z", "2026-11-26T10:00:04Z"),
                             {{"ingress_flow_count", 7}, {"egress_flow_count", 3}}),
             "level=info msg=\"Starting Hubble\" subsys=hubble"});
  const auto e = read_ok({path});
  ASSERT_EQ(e.connections.size(), 1u);
  const auto& c = e.connections[0];
  EXPECT_EQ(c.count, 13u); // 1 + 1 + 1 + 10
  EXPECT_EQ(e.flows_read, 13u);
  EXPECT_EQ(c.source.workload, "api");
  EXPECT_EQ(c.destination.workload, "db");
  EXPECT_EQ(c.first_seen, "2026-11-26T10:00:01Z");
  EXPECT_EQ(c.last_seen, "2026-11-26T10:00:04Z");
  EXPECT_EQ(e.since, "2026-11-26T10:00:01Z");
  EXPECT_EQ(e.until, "2026-11-26T10:00:04Z");
}

// A reply goes from the server back to the client's ephemeral port: counted as a connection it
// would read as db opening connections to api.
TEST_F(Evidence, RepliesAreNotConnectionAttempts) {
  auto request = api_to_db("FORWARDED", "api-7d9f8b6c5d-x2x4z", "2026-11-26T10:00:00Z");
  FlowSpec reply;
  reply.verdict = "FORWARDED";
  reply.time = "2026-11-26T10:00:00.001Z";
  reply.source = request.destination;
  reply.destination = request.source;
  reply.port = 40112;
  reply.reason.clear();
  auto line = flow_line(reply);
  const auto at = line.find("\"verdict\"");
  ASSERT_NE(at, std::string::npos);
  line.insert(at, "\"is_reply\":true,");
  auto old_style = line;
  old_style.replace(old_style.find("\"is_reply\""), 10, "\"reply\"");
  const auto e = read_ok({write("replies.log", {flow_line(request), line, old_style})});
  ASSERT_EQ(e.connections.size(), 1u);
  EXPECT_EQ(e.connections[0].source.workload, "api");
  EXPECT_EQ(e.flows_read, 1u);
}

TEST_F(Evidence, OneConnectionPerWorkloadPairPortAndProtocol) {
  // Two pods of one Deployment and a pod of its earlier ReplicaSet, in both directions of
  // observation and with different verdicts: one connection.
  auto ingress = api_to_db("FORWARDED", "api-7d9f8b6c5d-x2x4z", "2026-11-26T10:00:00Z");
  auto egress = api_to_db("DROPPED", "api-7d9f8b6c5d-abcde", "2026-11-26T10:00:01Z");
  egress.direction = "EGRESS";
  auto older = api_to_db("AUDIT", "api-5c6b7d8f9-qwert", "2026-11-26T09:00:00Z");
  auto udp = api_to_db("FORWARDED", "api-7d9f8b6c5d-x2x4z", "2026-11-26T10:00:00Z");
  udp.protocol = "UDP";
  auto other_port = api_to_db("FORWARDED", "api-7d9f8b6c5d-x2x4z", "2026-11-26T10:00:00Z");
  other_port.port = 5433;
  const auto e = read_ok({write("key.log", {flow_line(ingress), flow_line(egress), flow_line(older),
                                            flow_line(udp), flow_line(other_port)})});
  ASSERT_EQ(e.connections.size(), 3u);
  const auto& c = e.connections[0];
  EXPECT_EQ(c.count, 3u);
  EXPECT_EQ(c.port, 5432);
  EXPECT_EQ(c.protocol, model::Protocol::tcp);
  EXPECT_EQ(c.source.pod, "api-7d9f8b6c5d-x2x4z"); // the first flow's pod, one example
  EXPECT_EQ(c.first_seen, "2026-11-26T09:00:00Z");
  EXPECT_EQ(c.last_seen, "2026-11-26T10:00:01Z");
  EXPECT_EQ(e.connections[1].count, 1u);
  EXPECT_EQ(e.connections[2].count, 1u);
}

TEST_F(Evidence, IcmpAndMalformedLinesAreCountedNeverFatal) {
  auto icmp = api_to_db("DROPPED", "api-7d9f8b6c5d-x2x4z", "2026-11-26T10:00:00Z");
  icmp.protocol = "ICMPv4";
  const auto good =
      flow_line(api_to_db("FORWARDED", "api-7d9f8b6c5d-x2x4z", "2026-11-26T10:00:00Z"));
  const auto e = read_ok({write("icmp.log", {flow_line(icmp), good, good.substr(0, 80),
                                             R"({"flow":{"verdict":"FORWARDED","time":7}})"})});
  EXPECT_EQ(e.flows_read, 1u);
  EXPECT_EQ(e.flows_without_port, 1u);
  EXPECT_EQ(e.lines_malformed, 2u);
  ASSERT_EQ(e.connections.size(), 1u);

  // Only ICMP: the lines are flows, so the file is no error, but no connection comes of it.
  const auto only = read_ok({write("only-icmp.log", {flow_line(icmp)})});
  EXPECT_TRUE(only.connections.empty());
  EXPECT_EQ(only.flows_without_port, 1u);
}

TEST_F(Evidence, BadFilesAreUsageErrorsNamingTheFile) {
  const auto missing = (m_dir / "nope.jsonl").string();
  auto e = droplog::read_evidence({missing});
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().code, ErrorCode::usage);
  EXPECT_THAT(e.error().message, HasSubstr(missing));
  EXPECT_THAT(e.error().message, HasSubstr("give a readable flow file"));

  e = droplog::read_evidence({m_dir.string()});
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().code, ErrorCode::usage);
  EXPECT_THAT(e.error().message, HasSubstr("not a regular file or FIFO"));

  const std::string expected = ": no flows found (expected Hubble exporter lines, `hubble observe "
                               "-o jsonpb`, drop-summary.json or flows-summary.json)";
  for (const auto& [name, lines] : std::vector<std::pair<std::string, std::vector<std::string>>>{
           {"empty.log", {}},
           {"agent.log", {"level=info msg=\"Starting Hubble\" subsys=hubble", "", "{}"}},
           {"broken.log", {"{\"flow\":{\"verdict\":\"FORWARDED\""}},
           {"other.json", {"{", "  \"items\": []", "}"}}}) {
    const auto path = write(name, lines);
    e = droplog::read_evidence({path});
    ASSERT_FALSE(e) << name;
    EXPECT_EQ(e.error().code, ErrorCode::usage) << name;
    EXPECT_EQ(e.error().message, path + expected);
  }

  // A summary of the wrong shape says where.
  const auto bad_row =
      write("bad-summary.json",
            {"{", R"("rows": [{"verdict": "DROPPED", "source": {"workload": ""},)",
             R"("destination": {"workload": "db"}, "port": 80, "protocol": "TCP"}])", "}"});
  e = droplog::read_evidence({bad_row});
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().code, ErrorCode::usage);
  EXPECT_THAT(e.error().message, HasSubstr(bad_row + ": /rows/0/source: \"workload\""));
  const auto not_json = write("cut.json", {"{", "  \"rows\": ["});
  e = droplog::read_evidence({not_json});
  ASSERT_FALSE(e);
  EXPECT_THAT(e.error().message, HasSubstr(not_json + ":"));

  e = droplog::read_evidence({"-", "-"});
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().code, ErrorCode::usage);
  EXPECT_THAT(e.error().message, HasSubstr("standard input is named more than once"));
}

TEST_F(Evidence, FlowsSummaryAndDropSummaryReadBackAsTheLogItself) {
  auto forwarded = api_to_db("FORWARDED", "api-7d9f8b6c5d-x2x4z", "2026-11-26T10:00:01Z");
  auto dropped = api_to_db("DROPPED", "api-7d9f8b6c5d-x2x4z", "2026-11-26T10:00:05Z");
  auto web = api_to_db("FORWARDED", "api-7d9f8b6c5d-x2x4z", "2026-11-26T10:00:02Z");
  web.destination = PeerSpec{"shop", "web-6c9f8b6c5d-qq2x4", {"k8s:app=web"}, "10.0.2.9"};
  web.port = 8080;
  auto world = api_to_db("DROPPED", "api-7d9f8b6c5d-x2x4z", "2026-11-26T10:00:03Z");
  world.destination = PeerSpec{"", "", {"reserved:world"}, "203.0.113.7"};
  world.port = 443;
  world.direction = "EGRESS";
  auto icmp = dropped;
  icmp.protocol = "ICMPv4";
  const auto log =
      write("flows.log", {flow_line(forwarded), flow_line(forwarded), flow_line(web),
                          flow_line(dropped), flow_line(world), flow_line(icmp), "not a flow"});
  auto r =
      run_cli({"--output-dir", (m_dir / "report").string(), "drops", "-A", "--from-file", log});
  ASSERT_EQ(r.exit_code, 0) << r.err;

  const auto flows = nlohmann::json::parse(read_report("flows-summary.json"));
  EXPECT_EQ(flows["lines_read"], 7);
  EXPECT_EQ(flows["flows"], 5);
  EXPECT_EQ(flows["flows_without_port"], 1);
  EXPECT_EQ(flows["namespaces"], nlohmann::json::array());
  ASSERT_EQ(flows["rows"].size(), 4u); // by verdict: FORWARDED and DROPPED api -> db apart
  EXPECT_EQ(flows["rows"][0], nlohmann::json::parse(R"({"verdict":"FORWARDED",
              "source":{"namespace":"shop","workload":"api","pod":"api-7d9f8b6c5d-x2x4z"},
              "destination":{"namespace":"shop","workload":"db","pod":"db-0"},
              "port":5432,"protocol":"TCP","count":2,
              "first_seen":"2026-11-26T10:00:01Z","last_seen":"2026-11-26T10:00:01Z"})"));
  bool world_row = false;
  for (const auto& row : flows["rows"]) {
    if (row["destination"]["workload"] == "203.0.113.7") {
      world_row = true;
      EXPECT_TRUE(row["destination"]["namespace"].is_null());
      EXPECT_TRUE(row["destination"]["pod"].is_null());
    }
  }
  EXPECT_TRUE(world_row);
  // The drop log itself is unchanged: only the DROPPED flows.
  const auto drops = nlohmann::json::parse(read_report("drop-summary.json"));
  EXPECT_EQ(drops["flows_matched"], 3);
  EXPECT_EQ(drops["lines_skipped"], 4);

  const auto direct = read_ok({log});
  const auto from_flows = read_ok({report("flows-summary.json")});
  const auto from_drops = read_ok({report("drop-summary.json")});
  auto same = [](const FlowEvidence& a, const FlowEvidence& b) {
    ASSERT_EQ(a.connections.size(), b.connections.size());
    for (size_t i = 0; i < a.connections.size(); ++i) {
      const auto& x = a.connections[i];
      const auto& y = b.connections[i];
      EXPECT_EQ(x.source, y.source);
      EXPECT_EQ(x.destination, y.destination);
      EXPECT_EQ(x.port, y.port);
      EXPECT_EQ(x.protocol, y.protocol);
      EXPECT_EQ(x.count, y.count);
      EXPECT_EQ(x.first_seen, y.first_seen);
      EXPECT_EQ(x.last_seen, y.last_seen);
    }
    EXPECT_EQ(a.since, b.since);
    EXPECT_EQ(a.until, b.until);
    EXPECT_EQ(a.flows_read, b.flows_read);
    EXPECT_EQ(a.flows_without_port, b.flows_without_port);
  };
  same(direct, from_flows);
  ASSERT_EQ(direct.connections.size(), 3u);
  EXPECT_EQ(direct.connections[0].count, 3u); // api -> db: FORWARDED twice, DROPPED once
  EXPECT_EQ(from_flows.files, std::vector<std::string>{report("flows-summary.json")});

  // drop-summary.json holds the dropped flows only: api -> db once, api -> world.
  ASSERT_EQ(from_drops.connections.size(), 2u);
  EXPECT_EQ(from_drops.flows_read, 2u);
  EXPECT_EQ(from_drops.flows_without_port, 1u);
  EXPECT_NE(find(from_drops, "shop/api", "/203.0.113.7", 443), nullptr);
  EXPECT_NE(find(from_drops, "shop/api", "shop/db", 5432), nullptr);

  // Several files add up.
  const auto both = read_ok({log, report("flows-summary.json")});
  EXPECT_EQ(both.flows_read, 2 * direct.flows_read);
  EXPECT_EQ(both.flows_without_port, 2 * direct.flows_without_port);
  EXPECT_EQ(both.connections.size(), direct.connections.size());
}

TEST_F(Evidence, DropsWritesFlowsSummaryOnAFailurePath) {
  auto r = run_cli({"--output-dir", (m_dir / "report").string(), "drops", "--from-file",
                    (m_dir / "nope").string()});
  EXPECT_EQ(r.exit_code, 1);
  const auto flows = nlohmann::json::parse(read_report("flows-summary.json"));
  EXPECT_EQ(flows["rows"], nlohmann::json::array());
  EXPECT_EQ(flows["flows"], 0);

  // A failure before any flow is read leaves the stand-in every owed report gets.
  r = run_cli({"--output-dir", (m_dir / "report2").string(), "drops", "--from-file", "x",
               "--previous-summary", (m_dir / "nope.json").string()});
  EXPECT_EQ(r.exit_code, 2);
  std::ifstream in(m_dir / "report2" / "flows-summary.json");
  ASSERT_TRUE(in.good());
  const auto stand_in = nlohmann::json::parse(in);
  EXPECT_TRUE(stand_in.contains("error"));
}

TEST(EvidenceCollector, ForwardedFlowsLeaveTheDropCountsAsTheyWere) {
  const auto lines = {
      flow_line(api_to_db("FORWARDED", "api-7d9f8b6c5d-x2x4z", "2026-11-26T10:00:00Z")),
      flow_line(api_to_db("DROPPED", "api-7d9f8b6c5d-x2x4z", "2026-11-26T10:00:00Z")),
      // A broken FORWARDED line: skipped by the drop log (never parsed there).
      std::string(R"({"flow":{"verdict":"FORWARDED","time":7}})"),
      // The first "verdict" says DROPPED, the flow's is FORWARDED: not a drop.
      std::string(R"({"verdict":"DROPPED","flow":{"verdict":"FORWARDED","time":"bad"}})"),
  };
  droplog::DropCollector plain(droplog::DropFilter{});
  droplog::DropCollector with(droplog::DropFilter{}, {}, true);
  for (const auto& l : lines) {
    plain.add_line(l);
    with.add_line(l);
  }
  EXPECT_EQ(plain.counts().lines_read, with.counts().lines_read);
  EXPECT_EQ(plain.counts().lines_skipped, with.counts().lines_skipped);
  EXPECT_EQ(plain.counts().lines_malformed, with.counts().lines_malformed);
  EXPECT_EQ(plain.counts().flows_matched, with.counts().flows_matched);
  EXPECT_EQ(plain.rows().size(), with.rows().size());
  EXPECT_EQ(plain.connections().size(), 0u);
  EXPECT_EQ(with.connections().flows(), 2u);
  EXPECT_EQ(with.connections().size(), 2u); // by verdict
}

} // namespace
} // namespace netpol::test

namespace netpol::test {
namespace {

TEST(EvidenceCollector, ConnectionsOfTheSelectedNamespacesOnly) {
  auto in_shop = api_to_db("FORWARDED", "api-7d9f8b6c5d-x2x4z", "2026-11-26T10:00:00Z");
  auto to_shop = in_shop;
  to_shop.source = PeerSpec{"ci", "runner-0", {"k8s:app=runner"}, "10.0.4.4"};
  auto elsewhere = in_shop;
  elsewhere.source = PeerSpec{"ci", "runner-0", {"k8s:app=runner"}, "10.0.4.4"};
  elsewhere.destination = PeerSpec{"ci", "cache-0", {"k8s:app=cache"}, "10.0.4.5"};
  // "shop" in a label only: parsed, and not kept either.
  auto label_only = elsewhere;
  label_only.source.labels = {"k8s:app=shop"};
  droplog::DropCollector c(droplog::DropFilter{{"shop"}, std::nullopt, std::nullopt}, {}, true);
  for (const auto& s : {in_shop, to_shop, elsewhere, label_only})
    c.add_line(logfmt_line(flow_line(s)));
  EXPECT_EQ(c.connections().flows(), 2u);
  EXPECT_EQ(c.counts().lines_skipped, 4u);
  EXPECT_EQ(c.counts().lines_read, 4u);
}

} // namespace
} // namespace netpol::test
