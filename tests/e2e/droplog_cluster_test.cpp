#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "droplog/cluster_source.hpp"
#include "droplog/collector.hpp"
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

// Three agent pods behind the real API server's pods/log proxy: two serve recorded exporter
// lines (raw JSON and inside agent log lines), the third has no log (the kubelet answers 404).
TEST(DropsCluster, ReadsEveryAgentPodThroughTheApiServerAndWarnsAboutTheFailingOne) {
  NETPOL_REQUIRE_TEST_CLUSTER(cluster);
  auto api = cluster->admin();
  const auto ns = cluster->create_namespace("drops");
  TestKubelet kubelet;
  const auto node = ns + "-node";
  kubelet.register_node(*api, node);
  for (const char* pod : {"cilium-a", "cilium-b", "cilium-c"}) {
    auto created = api->create(
        {{"apiVersion", "v1"},
         {"kind", "Pod"},
         {"metadata",
          {{"name", pod}, {"namespace", ns}, {"labels", {{"k8s-app", "cilium"}, {"test", ns}}}}},
         {"spec",
          {{"nodeName", node},
           {"containers", {{{"name", "cilium-agent"}, {"image", "test/cilium"}}}}}}});
    ASSERT_TRUE(created) << created.error().message;
  }
  const std::string line = drop("shop", "2026-11-26T10:00:01Z");
  std::string quoted = "\"";
  for (char c : line) {
    if (c == '"' || c == '\\') quoted += '\\';
    quoted += c;
  }
  quoted += "\"";
  kubelet.set_log(ns, "cilium-a", "cilium-agent",
                  "level=info msg=\"Starting\" subsys=daemon\n" + line + "\n" + line + "\n");
  kubelet.set_log(ns, "cilium-b", "cilium-agent",
                  "level=info msg=" + quoted + " subsys=hubble\n" +
                      drop("ci", "2026-11-26T10:00:02Z") + "\n");

  droplog::ClusterSourceOptions options;
  options.since_time = "2026-11-26T10:00:00Z";
  options.label_selector = "k8s-app=cilium,test=" + ns;
  droplog::ClusterSource source(*api, options);
  droplog::DropCollector collector(droplog::DropFilter{{"shop"}, {}, {}});
  auto report = source.read([&](std::string_view l) { collector.add_line(l); });
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_EQ(report->description, "3 cilium-agent pods");
  ASSERT_EQ(report->warnings.size(), 1u);
  EXPECT_THAT(report->warnings[0], HasSubstr(ns + "/cilium-c"));
  EXPECT_EQ(collector.counts().lines_read, 5u);
  EXPECT_EQ(collector.counts().flows_matched, 3u);
  ASSERT_EQ(collector.rows().size(), 1u);
  EXPECT_EQ(collector.rows()[0].count, 3u);
  for (const auto& q : kubelet.requests()) {
    EXPECT_EQ(q.at("sinceTime"), "2026-11-26T10:00:00Z");
  }
}

} // namespace
} // namespace netpol::test
