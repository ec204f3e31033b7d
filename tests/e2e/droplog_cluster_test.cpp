#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "droplog/cluster_source.hpp"
#include "droplog/collector.hpp"
#include "droplog/timestamp.hpp"
#include "support/test_cluster.hpp"
#include "support/test_kubelet.hpp"

namespace netpol::test {
namespace {

using ::testing::HasSubstr;

std::string drop(const std::string& ns, const std::string& time) {
  return R"({"flow":{"time":")" + time +
         R"(","verdict":"DROPPED","IP":{"source":"10.0.1.5","destination":"10.0.2.7"},"l4":{"TCP":{"source_port":40000,"destination_port":5432}},"source":{"namespace":")" +
         ns +
         R"(","labels":["k8s:app=frontend"],"pod_name":"frontend-7d9f8b6c5d-x2x4z"},"destination":{"namespace":")" +
         ns +
         R"(","labels":["k8s:app=db"],"pod_name":"db-0"},"traffic_direction":"INGRESS","drop_reason_desc":"POLICY_DENIED"},"node_name":"n","time":")" +
         time + R"("})";
}

// A line of a container log file as the runtime keeps it: the time it was written first.
std::string at(const std::string& time, const std::string& line) {
  return time + " " + line + "\n";
}

// An agent pod bound to the test kubelet's node; `status` is written as the kubelet would.
void create_agent(kube::KubeApi& api, const std::string& ns, const std::string& name,
                  const std::string& node, const nlohmann::json& container_status = {}) {
  auto created = api.create(
      {{"apiVersion", "v1"},
       {"kind", "Pod"},
       {"metadata",
        {{"name", name}, {"namespace", ns}, {"labels", {{"k8s-app", "cilium"}, {"test", ns}}}}},
       {"spec",
        {{"nodeName", node},
         {"containers", {{{"name", "cilium-agent"}, {"image", "test/cilium"}}}}}}});
  ASSERT_TRUE(created) << created.error().message;
  if (container_status.is_null()) return;
  nlohmann::json status = {{"name", "cilium-agent"},
                           {"ready", true},
                           {"image", "test/cilium"},
                           {"imageID", ""},
                           {"state", {{"running", {{"startedAt", "2026-11-26T10:00:40Z"}}}}}};
  status.update(container_status);
  (*created)["status"] = {{"phase", "Running"}, {"containerStatuses", {status}}};
  auto updated = api.replace_status(*created);
  ASSERT_TRUE(updated) << updated.error().message;
}

droplog::ClusterSourceOptions options_for(const std::string& ns) {
  droplog::ClusterSourceOptions options;
  options.since_time = "2026-11-26T10:00:00Z";
  options.label_selector = "k8s-app=cilium,test=" + ns;
  return options;
}

const droplog::Coverage* coverage_of(const droplog::SourceReport& report, const std::string& pod) {
  for (const auto& c : report.coverage) {
    if (c.source == pod) return &c;
  }
  ADD_FAILURE() << "no coverage for " << pod;
  return nullptr;
}

int64_t t(const char* rfc3339) {
  return droplog::parse_rfc3339(rfc3339).value();
}

// Three agent pods behind the real API server's pods/log proxy: two serve recorded exporter
// lines (raw JSON and inside agent log lines), the third has no log (the kubelet answers 404).
TEST(DropsCluster, ReadsEveryAgentPodThroughTheApiServerAndWarnsAboutTheFailingOne) {
  NETPOL_REQUIRE_TEST_CLUSTER(cluster);
  auto api = cluster->admin();
  const auto ns = cluster->create_namespace("drops");
  TestKubelet kubelet;
  const auto node = ns + "-node";
  kubelet.register_node(*api, node);
  for (const char* pod : {"cilium-a", "cilium-b", "cilium-c"})
    create_agent(*api, ns, pod, node);
  const std::string line = drop("shop", "2026-11-26T10:00:01Z");
  std::string quoted = "\"";
  for (char c : line) {
    if (c == '"' || c == '\\') quoted += '\\';
    quoted += c;
  }
  quoted += "\"";
  // Both logs start before the window; the kubelet leaves the lines before sinceTime out.
  kubelet.set_log(ns, "cilium-a", "cilium-agent",
                  at("2026-11-26T09:30:00Z", "level=info msg=\"Starting\" subsys=daemon") +
                      at("2026-11-26T10:00:01Z", line) + at("2026-11-26T10:00:01.5Z", line));
  kubelet.set_log(ns, "cilium-b", "cilium-agent",
                  at("2026-11-26T09:59:00Z", "level=info msg=" + quoted + " subsys=hubble") +
                      at("2026-11-26T10:00:02Z", "level=info msg=" + quoted + " subsys=hubble") +
                      at("2026-11-26T10:00:02Z", drop("ci", "2026-11-26T10:00:02Z")));

  droplog::ClusterSource source(*api, options_for(ns));
  droplog::DropCollector collector(droplog::DropFilter{{"shop"}, {}, {}});
  auto report = source.read([&](std::string_view l) { collector.add_line(l); });
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_EQ(report->description, "3 cilium-agent pods");
  ASSERT_EQ(report->warnings.size(), 1u);
  EXPECT_THAT(report->warnings[0], HasSubstr(ns + "/cilium-c"));
  EXPECT_EQ(collector.counts().lines_read, 4u);
  EXPECT_EQ(collector.counts().flows_matched, 3u);
  ASSERT_EQ(collector.rows().size(), 1u);
  EXPECT_EQ(collector.rows()[0].count, 3u);
  for (const auto& q : kubelet.requests()) {
    EXPECT_EQ(q.at("timestamps"), "true");
    EXPECT_EQ(q.count("previous"), 0u); // no pod restarted
    // The window's lines, or a log's first line (limitBytes, no sinceTime).
    EXPECT_TRUE(q.count("sinceTime") ? q.at("sinceTime") == "2026-11-26T10:00:00Z"
                                     : q.count("limitBytes") == 1)
        << q.at("path");
  }

  // The quiet start of both logs is not a gap: their first lines are before the window.
  ASSERT_EQ(report->coverage.size(), 3u);
  const auto* a = coverage_of(*report, ns + "/cilium-a");
  const auto* b = coverage_of(*report, ns + "/cilium-b");
  const auto* c = coverage_of(*report, ns + "/cilium-c");
  ASSERT_TRUE(a && b && c);
  EXPECT_EQ(a->oldest_ns, t("2026-11-26T09:30:00Z"));
  EXPECT_FALSE(a->gap);
  EXPECT_EQ(b->oldest_ns, t("2026-11-26T09:59:00Z"));
  EXPECT_FALSE(b->gap);
  EXPECT_EQ(c->oldest_ns, std::nullopt); // unreadable: nothing of the window is covered
  EXPECT_TRUE(c->gap);
}

// Restarts inside the window: the previous container's log is read too (previous=true);
// a log that starts after the window's start is a gap, whether rotated or restarted without a
// previous log left.
TEST(DropsCluster, ReadsThePreviousLogAfterARestartAndReportsWhatIsOutOfReach) {
  NETPOL_REQUIRE_TEST_CLUSTER(cluster);
  auto api = cluster->admin();
  const auto ns = cluster->create_namespace("drops-prev");
  TestKubelet kubelet;
  const auto node = ns + "-node";
  kubelet.register_node(*api, node);
  const nlohmann::json restarted_in_window = {{"restartCount", 1},
                                              {"lastState",
                                               {{"terminated",
                                                 {{"exitCode", 1},
                                                  {"startedAt", "2026-11-26T09:00:00Z"},
                                                  {"finishedAt", "2026-11-26T10:00:30Z"}}}}}};
  nlohmann::json restarted_before = restarted_in_window;
  restarted_before["lastState"]["terminated"]["finishedAt"] = "2026-11-26T09:10:00Z";
  create_agent(*api, ns, "cilium-restarted", node, restarted_in_window);
  create_agent(*api, ns, "cilium-no-previous", node, restarted_in_window);
  create_agent(*api, ns, "cilium-rotated", node, restarted_before);

  // cilium-restarted: a drop before the restart (previous log) and one after it.
  kubelet.set_previous_log(ns, "cilium-restarted", "cilium-agent",
                           at("2026-11-26T09:00:01Z", "level=info msg=\"Starting\" subsys=daemon") +
                               at("2026-11-26T10:00:05Z", drop("shop", "2026-11-26T10:00:05Z")));
  kubelet.set_log(ns, "cilium-restarted", "cilium-agent",
                  at("2026-11-26T10:00:40Z", "level=info msg=\"Starting\" subsys=daemon") +
                      at("2026-11-26T10:00:45Z", drop("shop", "2026-11-26T10:00:45Z")));
  // cilium-no-previous: its previous log is gone (the kubelet answers 400).
  kubelet.set_log(ns, "cilium-no-previous", "cilium-agent",
                  at("2026-11-26T10:00:41Z", "level=info msg=\"Starting\" subsys=daemon") +
                      at("2026-11-26T10:00:50Z", drop("shop", "2026-11-26T10:00:50Z")));
  // cilium-rotated: restarted long before the window; its newest log file starts at 10:02.
  kubelet.set_log(ns, "cilium-rotated", "cilium-agent",
                  at("2026-11-26T10:02:00Z", drop("shop", "2026-11-26T10:02:00Z")));

  droplog::ClusterSource source(*api, options_for(ns));
  droplog::DropCollector collector(droplog::DropFilter{{"shop"}, {}, {}});
  std::vector<std::string> lines;
  auto report = source.read([&](std::string_view l) {
    lines.emplace_back(l);
    collector.add_line(l);
  });
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_TRUE(report->warnings.empty()) << report->warnings.front(); // a 400 is no warning
  EXPECT_EQ(collector.counts().flows_matched, 4u);
  ASSERT_EQ(collector.rows().size(), 1u);
  EXPECT_EQ(collector.rows()[0].first_seen, "2026-11-26T10:00:05Z"); // from the previous log

  // Per pod, the previous log comes first: its lines are the older ones.
  std::vector<std::string> restarted;
  for (const auto& l : lines) {
    if (l.find("10:00:05Z") != std::string::npos || l.find("10:00:45Z") != std::string::npos)
      restarted.push_back(l.substr(0, 20));
  }
  EXPECT_EQ(restarted, (std::vector<std::string>{"2026-11-26T10:00:05Z", "2026-11-26T10:00:45Z"}));

  size_t previous_asked = 0;
  for (const auto& q : kubelet.requests()) {
    if (q.count("previous") == 0) continue;
    ++previous_asked;
    EXPECT_THAT(q.at("path"), ::testing::AnyOf(HasSubstr("/cilium-restarted/"),
                                               HasSubstr("/cilium-no-previous/")));
  }
  // cilium-restarted: its previous log, then that log's first line; cilium-no-previous: one.
  EXPECT_EQ(previous_asked, 3u);

  const auto* r = coverage_of(*report, ns + "/cilium-restarted");
  const auto* n = coverage_of(*report, ns + "/cilium-no-previous");
  const auto* o = coverage_of(*report, ns + "/cilium-rotated");
  ASSERT_TRUE(r && n && o);
  EXPECT_TRUE(r->previous_log);
  EXPECT_EQ(r->oldest_ns, t("2026-11-26T09:00:01Z"));
  EXPECT_FALSE(r->gap);
  EXPECT_FALSE(n->previous_log);
  EXPECT_EQ(n->oldest_ns, t("2026-11-26T10:00:41Z"));
  EXPECT_TRUE(n->gap);
  EXPECT_FALSE(o->previous_log);
  EXPECT_EQ(o->oldest_ns, t("2026-11-26T10:02:00Z"));
  EXPECT_TRUE(o->gap);
}

} // namespace
} // namespace netpol::test
