// The change preview joined with observed traffic (SPEC §11): which newly denied connections
// were seen, in every view, and --fail-on-breaking's refusal.
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "analyze/live.hpp"
#include "analyze/observed.hpp"
#include "analyze/output.hpp"

namespace netpol::analyze {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

json pod(const std::string& name, const std::string& app, const std::string& ip,
         const std::string& hash = "") {
  json labels = {{"app", app}};
  if (!hash.empty()) labels["pod-template-hash"] = hash;
  if (hash.empty()) labels["statefulset.kubernetes.io/pod-name"] = name;
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata", {{"name", name}, {"namespace", "shop"}, {"labels", labels}}},
          {"spec", {{"containers", json::array({{{"name", "c"}}})}}},
          {"status", {{"phase", "Running"}, {"podIP", ip}, {"podIPs", {{{"ip", ip}}}}}}};
}

// db accepts only web on 5432: api -> db becomes denied on 5432 and on every other port.
json db_policy() {
  return json::parse(R"({"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy",
    "metadata":{"name":"db","namespace":"shop"},
    "spec":{"podSelector":{"matchLabels":{"app":"db"}},"policyTypes":["Ingress"],
            "ingress":[{"from":[{"podSelector":{"matchLabels":{"app":"web"}}}],
                        "ports":[{"port":5432}]}]}})");
}

model::ObservedConnection seen(const std::string& from_workload, const std::string& from_pod,
                               const std::string& to_workload, int port, std::uint64_t count,
                               const std::string& first, const std::string& last) {
  model::ObservedConnection c;
  c.source = {"shop", from_workload, from_pod};
  c.destination = {"shop", to_workload, to_workload + "-0"};
  c.port = port;
  c.count = count;
  c.first_seen = first;
  c.last_seen = last;
  return c;
}

class ObservedJoin : public ::testing::Test {
protected:
  void SetUp() override {
    LiveObjects objects;
    objects.namespaces.push_back(
        {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", "shop"}}}});
    objects.pods = {pod("api-6d4cf56db6-x2k9p", "api", "10.0.0.1", "6d4cf56db6"),
                    pod("db-0", "db", "10.0.0.2"),
                    pod("web-5f7b9c8d4-abcde", "web", "10.0.0.3", "5f7b9c8d4")};
    cluster = std::move(*cluster_from(objects));
    planned = std::move(policies_from({db_policy()})->policies);
    results = analyze_ports(cluster, planned, &base, std::nullopt, EngineOptions{});
    for (const auto& r : results)
      ports.push_back(r.port);

    // api's flows come from a pod of an earlier ReplicaSet: they count for today's api pods.
    evidence.connections = {seen("api", "api-7c9d8b7f6-old11", "db", 5432, 312,
                                 "2026-11-30T08:00:00Z", "2026-12-01T17:30:00Z"),
                            seen("api", "api-7c9d8b7f6-old11", "db", 5432, 8,
                                 "2026-11-29T08:00:00Z", "2026-11-30T09:00:00Z"),
                            seen("web", "web-5f7b9c8d4-abcde", "db", 5432, 40,
                                 "2026-11-30T08:00:00Z", "2026-11-30T08:10:00Z"),
                            seen("web", "web-5f7b9c8d4-abcde", "db", 9187, 3,
                                 "2026-11-30T08:00:00Z", "2026-11-30T08:00:00Z"),
                            seen("gone", "gone-abc", "db", 5432, 99, "", "")};
    evidence.since = "2026-11-29T08:00:00Z";
    evidence.until = "2026-12-01T17:30:00Z";
    evidence.flows_read = 462;
    evidence.files = {"flows.jsonl"};
  }

  size_t index(const std::string& id) const { return *cluster.find_pod(id); }
  const PortResult& result_on(int port) const {
    for (const auto& r : results)
      if (!r.port.other && r.port.port.port == port) return r;
    for (const auto& r : results)
      if (r.port.other) return r;
    throw std::logic_error("no such port");
  }

  Cluster cluster;
  std::vector<Policy> planned;
  std::vector<Policy> base; // no policy in force
  std::vector<PortResult> results;
  std::vector<AnalysedPort> ports;
  model::FlowEvidence evidence;
};

TEST_F(ObservedJoin, FlowsCountForTheWorkloadOnTheirPortAndUnnamedPortsForTheOtherPort) {
  const ObservedIndex index_(cluster, evidence, ports);
  const size_t api = index("shop/api-6d4cf56db6-x2k9p"), db = index("shop/db-0"),
               web = index("shop/web-5f7b9c8d4-abcde");
  const auto& on_5432 = result_on(5432).port;
  const auto api_db = index_.seen(api, db, on_5432);
  EXPECT_EQ(api_db.count, 320u) << "both records of api -> db:5432 add up";
  EXPECT_EQ(api_db.first_seen, "2026-11-29T08:00:00Z");
  EXPECT_EQ(api_db.last_seen, "2026-12-01T17:30:00Z");
  EXPECT_EQ(index_.seen(db, api, on_5432).count, 0u) << "direction matters";
  const auto& other = result_on(-1).port;
  ASSERT_TRUE(other.other);
  EXPECT_EQ(index_.seen(web, db, other).count, 3u) << "9187 is a port no policy names";
  EXPECT_EQ(index_.seen(api, db, other).count, 0u) << "5432 is named: not the other port";
  EXPECT_EQ(index_.flows_joined(), 363u) << "the vanished workload's 99 flows join nothing";
}

TEST_F(ObservedJoin, TheObservedNewlyDeniedConnectionComesFirstInTextJunitAndJson) {
  const ObservedIndex observed(cluster, evidence, ports);
  const auto denied = denied_connections(result_on(5432), observed);
  ASSERT_FALSE(denied.empty());
  EXPECT_EQ(denied.front().from, "shop/api");
  EXPECT_EQ(denied.front().to, "shop/db");
  EXPECT_EQ(denied.front().seen.count, 320u);
  for (size_t i = 1; i < denied.size(); ++i)
    EXPECT_EQ(denied[i].seen.count, 0u) << denied[i].from << " -> " << denied[i].to;

  const std::string text = to_text(cluster, results, planned.size(), &observed);
  EXPECT_THAT(text, HasSubstr("evidence: 462 flows from 1 file, 2026-11-29T08:00:00Z to "
                              "2026-12-01T17:30:00Z"));
  const auto will_break = text.find("will break (newly denied, seen in traffic):\n"
                                    "  shop/api -> shop/db (1 pod pair): seen 320 times between "
                                    "2026-11-29T08:00:00Z and 2026-12-01T17:30:00Z\n");
  const auto never = text.find("newly denied, never seen in traffic:\n  shop/db -> shop/db");
  ASSERT_NE(will_break, std::string::npos) << text;
  ASSERT_NE(never, std::string::npos) << text;
  EXPECT_LT(will_break, never);
  EXPECT_THAT(text, ::testing::Not(HasSubstr("unverified")));

  report::JUnitReport junit("plan");
  add_junit_cases(junit, cluster, results, {}, &observed);
  const std::string xml = junit.to_xml();
  const auto breaking = xml.find("name=\"shop/api -&gt; shop/db TCP/5432\"");
  ASSERT_NE(breaking, std::string::npos) << xml;
  EXPECT_THAT(xml, HasSubstr("will break: seen 320 times between 2026-11-29T08:00:00Z and "
                             "2026-12-01T17:30:00Z"));
  EXPECT_LT(breaking, xml.find("netpol.analyze.connectivity")) << "breaking cases come first";
  EXPECT_THAT(xml, HasSubstr("never seen: shop/db -&gt; shop/db (1 pod pair)"));

  std::ostringstream out;
  write_json(out, cluster, result_on(5432),
             {.connectivity = false, .diff = true, .observed = &observed});
  const auto doc = json::parse(out.str());
  bool found = false;
  for (const auto& pair : doc["newly_denied"]) {
    ASSERT_TRUE(pair.contains("observed")) << pair;
    if (pair["from"] == "shop/api-6d4cf56db6-x2k9p" && pair["to"] == "shop/db-0") {
      EXPECT_EQ(pair["observed"], 320);
      found = true;
    } else {
      EXPECT_EQ(pair["observed"], 0) << pair;
    }
  }
  EXPECT_TRUE(found) << doc.dump();
  EXPECT_EQ(doc["evidence"]["flows_read"], 462);
  EXPECT_EQ(doc["evidence"]["since"], "2026-11-29T08:00:00Z");
  EXPECT_EQ(doc["evidence"]["until"], "2026-12-01T17:30:00Z");
  EXPECT_EQ(doc["evidence"]["files"], json::array({"flows.jsonl"}));
}

TEST_F(ObservedJoin, FailOnBreakingNamesTheBusiestConnection) {
  const ObservedIndex observed(cluster, evidence, ports);
  const auto breaking = will_break(results, observed);
  // web -> db:5432 stays allowed; web -> db:9187 (a port no policy names) does not.
  ASSERT_EQ(breaking.size(), 2u);
  EXPECT_EQ(breaking[0].from, "shop/api");
  EXPECT_EQ(breaking[0].seen.count, 320u);
  EXPECT_EQ(breaking[1].from, "shop/web");
  EXPECT_TRUE(breaking[1].port.other);
  EXPECT_EQ(breaking[1].seen.count, 3u);
  const auto refused = refuse_breaking(breaking);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::check_failed);
  EXPECT_EQ(refused.error().message,
            "the change newly denies 2 connections seen in traffic: shop/api -> shop/db TCP/5432 "
            "(seen 320 times between 2026-11-29T08:00:00Z and 2026-12-01T17:30:00Z) and 1 more "
            "(connectivity.txt)");
  EXPECT_TRUE(refuse_breaking({}));
}

TEST(Seen, TimesCompareAsInstantsNotAsText) {
  Seen s;
  s.add(1, "2026-12-01T10:00:00.5Z", "2026-12-01T10:00:00.5Z");
  s.add(1, "2026-12-01T10:00:00Z", "2026-12-01T10:00:00Z");
  s.add(1, "2026-12-01T11:30:00+02:00", "2026-12-01T11:30:00+02:00"); // 09:30Z
  EXPECT_EQ(s.count, 3u);
  EXPECT_EQ(s.first_seen, "2026-12-01T11:30:00+02:00");
  EXPECT_EQ(s.last_seen, "2026-12-01T10:00:00.5Z");
}

TEST_F(ObservedJoin, WithoutEvidenceTheDiffSaysItIsUnverified) {
  const std::string text = to_text(cluster, results, planned.size(), nullptr);
  EXPECT_THAT(text, HasSubstr("newly denied (unverified: no flow evidence given; --flows tells "
                              "which are used):"));
  report::JUnitReport junit("analyze");
  add_junit_cases(junit, cluster, results, {}, nullptr);
  EXPECT_THAT(junit.to_xml(),
              HasSubstr("would be newly denied (unverified: no flow evidence given)"));
  std::ostringstream out;
  write_json(out, cluster, result_on(5432), {.connectivity = false, .diff = true});
  const auto doc = json::parse(out.str());
  EXPECT_FALSE(doc.contains("evidence"));
  ASSERT_FALSE(doc["newly_denied"].empty());
  EXPECT_FALSE(doc["newly_denied"][0].contains("observed"));
}

} // namespace
} // namespace netpol::analyze
