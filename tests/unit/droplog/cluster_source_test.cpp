#include <map>
#include <mutex>
#include <set>

#include <fmt/format.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "droplog/cluster_source.hpp"
#include "droplog/collector.hpp"
#include "unit/droplog/flow_lines.hpp"

namespace netpol::test {
namespace {

using ::testing::HasSubstr;

// Serves a pod list and per-pod logs (in small chunks, to cut lines mid-way); a pod mapped
// to an Error fails. Records what was asked.
class FakeLogApi final : public kube::KubeApi {
public:
  std::vector<nlohmann::json> pods;
  std::map<std::string, std::string> logs; // pod name -> log text
  std::map<std::string, Error> broken;     // pod name -> failure
  std::optional<Error> list_error;
  std::set<std::string> refused_in; // namespaces ("" = every one) whose list is a 403
  std::vector<std::string> listed_in;
  std::vector<kube::LogOptions> asked;
  std::string selector;
  std::mutex mutex;

  // The API server's 403 for user u.
  static Error refusal(const std::string& verb, const std::string& resource,
                       const std::string& ns) {
    Error e(ErrorCode::api,
            fmt::format("{} Pod{}: {} is forbidden: User \"u\" cannot {} resource \"{}\" in API "
                        "group \"\" {}",
                        verb, ns.empty() ? "" : "/" + ns, resource, verb, resource,
                        ns.empty() ? "at the cluster scope" : "in the namespace \"" + ns + "\""));
    e.http_status = 403;
    e.reason = "Forbidden";
    return e;
  }

  static nlohmann::json pod(const std::string& ns, const std::string& name,
                            const std::string& container = "cilium-agent") {
    return {{"apiVersion", "v1"},
            {"kind", "Pod"},
            {"metadata", {{"namespace", ns}, {"name", name}}},
            {"spec", {{"containers", {{{"name", container}}}}}}};
  }

  std::string server() const override { return "https://fake"; }
  Result<nlohmann::json> version() override { return nlohmann::json::object(); }
  Result<std::optional<kube::ResourceInfo>> resolve(const std::string&,
                                                    const std::string&) override {
    return std::optional<kube::ResourceInfo>();
  }
  Result<std::vector<std::string>> api_groups() override { return std::vector<std::string>{}; }
  Result<nlohmann::json> get(const kube::ResourceInfo&, const std::string&,
                             const std::string&) override {
    return fail(ErrorCode::internal, "unused");
  }
  Result<std::vector<nlohmann::json>> list(const kube::ResourceInfo& r, const std::string& ns,
                                           const kube::ListOptions& o) override {
    EXPECT_EQ(r.resource, "pods");
    listed_in.push_back(ns);
    selector = o.label_selector;
    if (list_error) return fail(*list_error);
    if (refused_in.count(ns)) return fail(refusal("list", "pods", ns));
    std::vector<nlohmann::json> out;
    for (const auto& p : pods)
      if (ns.empty() || p["metadata"]["namespace"] == ns) out.push_back(p);
    return out;
  }
  Result<nlohmann::json> apply(const nlohmann::json&, const kube::ApplyOptions&) override {
    return fail(ErrorCode::internal, "unused");
  }
  std::vector<Result<nlohmann::json>> apply_all(const std::vector<nlohmann::json>&,
                                                const kube::ApplyOptions&) override {
    return {};
  }
  Result<void> remove(const kube::ResourceInfo&, const std::string&, const std::string&,
                      const kube::DeleteOptions&) override {
    return fail(ErrorCode::internal, "unused");
  }
  Result<nlohmann::json> create(const nlohmann::json&) override {
    return fail(ErrorCode::internal, "unused");
  }
  Result<nlohmann::json> replace_status(const nlohmann::json&) override {
    return fail(ErrorCode::internal, "unused");
  }
  Result<void> stream_logs(const std::string&, const std::string& pod,
                           const kube::LogOptions& options,
                           const std::function<bool(std::string_view)>& on_data) override {
    {
      std::lock_guard<std::mutex> lock(mutex);
      asked.push_back(options);
    }
    if (auto it = broken.find(pod); it != broken.end()) return fail(it->second);
    const std::string& text = logs[pod];
    for (size_t i = 0; i < text.size(); i += 97) {
      if (!on_data(std::string_view(text).substr(i, 97))) break;
    }
    return {};
  }
  Result<bool> can_i(const kube::AccessCheck&) override { return true; }
  uint64_t request_count() const override { return 0; }
};

std::string agent_log(const std::string& ns) {
  FlowSpec f;
  f.source.ns = ns;
  f.destination.ns = ns;
  return "level=info msg=\"Starting agent\" subsys=daemon\n" + logfmt_line(flow_line(f)) + "\n" +
         flow_line(f) + "\n";
}

TEST(ClusterSource, ReadsEveryAgentPodWithSinceTime) {
  FakeLogApi api;
  api.pods = {FakeLogApi::pod("kube-system", "cilium-a"),
              FakeLogApi::pod("kube-system", "cilium-b"),
              FakeLogApi::pod("kube-system", "anetd-x", "other")};
  api.logs["cilium-a"] = agent_log("shop");
  api.logs["cilium-b"] = agent_log("ci");
  droplog::ClusterSourceOptions options;
  options.since_time = "2026-11-26T10:00:00Z";
  droplog::ClusterSource source(api, options);
  droplog::DropCollector collector(droplog::DropFilter{});
  auto report = source.read([&](std::string_view l) { collector.add_line(l); });
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_EQ(report->description, "2 cilium-agent pods");
  EXPECT_TRUE(report->warnings.empty());
  EXPECT_EQ(api.selector, "k8s-app=cilium");
  ASSERT_EQ(api.asked.size(), 2u);
  for (const auto& o : api.asked) {
    EXPECT_EQ(o.container, "cilium-agent");
    EXPECT_EQ(o.since_time, "2026-11-26T10:00:00Z");
  }
  EXPECT_EQ(collector.counts().lines_read, 6u);
  EXPECT_EQ(collector.counts().flows_matched, 4u);
  EXPECT_EQ(collector.rows().size(), 2u);
}

TEST(ClusterSource, OneFailingPodIsAWarningAllFailingIsAnError) {
  FakeLogApi api;
  api.pods = {FakeLogApi::pod("kube-system", "cilium-a"),
              FakeLogApi::pod("kube-system", "cilium-b"),
              FakeLogApi::pod("kube-system", "cilium-c")};
  api.logs["cilium-a"] = agent_log("shop");
  api.logs["cilium-c"] = agent_log("shop");
  Error gone(ErrorCode::api, "get pods/log kube-system/cilium-b: container is terminated");
  gone.http_status = 400;
  api.broken["cilium-b"] = gone;
  droplog::ClusterSource source(api, {});
  size_t lines = 0;
  auto report = source.read([&](std::string_view) { ++lines; });
  ASSERT_TRUE(report);
  EXPECT_EQ(lines, 6u);
  ASSERT_EQ(report->warnings.size(), 1u);
  EXPECT_THAT(report->warnings[0], HasSubstr("kube-system/cilium-b"));
  EXPECT_THAT(report->warnings[0], HasSubstr("container is terminated"));

  api.broken["cilium-a"] = gone;
  api.broken["cilium-c"] = gone;
  auto none = source.read([](std::string_view) {});
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, ErrorCode::api);
  EXPECT_THAT(none.error().message, HasSubstr("no cilium-agent log could be read (3 pods)"));
}

TEST(ClusterSource, NoAgentPodsIsAWarningAndAListFailureAnError) {
  FakeLogApi api;
  droplog::ClusterSource source(api, {});
  auto report = source.read([](std::string_view) {});
  ASSERT_TRUE(report);
  ASSERT_EQ(report->warnings.size(), 1u);
  EXPECT_THAT(report->warnings[0], HasSubstr("is Cilium installed?"));

  api.list_error = Error(ErrorCode::unreachable, "https://fake: connection refused");
  auto r = source.read([](std::string_view) {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::unreachable);
  EXPECT_THAT(r.error().message, HasSubstr("listing Cilium agent pods"));
}

// A token that may list pods only where the agents run (examples/rbac/drops.yaml) reads them
// there; a namespace given is the only one listed.
TEST(ClusterSource, AgentsAreListedInTheirNamespaceWhenEveryNamespaceIsRefused) {
  FakeLogApi api;
  api.pods = {FakeLogApi::pod("kube-system", "cilium-a"), FakeLogApi::pod("cilium", "cilium-b")};
  api.logs["cilium-a"] = agent_log("shop");
  api.logs["cilium-b"] = agent_log("shop");
  api.refused_in = {""};
  auto report = droplog::ClusterSource(api, {}).read([](std::string_view) {});
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_EQ(api.listed_in, (std::vector<std::string>{"", "kube-system"}));
  EXPECT_EQ(report->description, "1 cilium-agent pod");

  api.listed_in.clear();
  droplog::ClusterSourceOptions detected; // `run`: where detection found Cilium
  detected.fallback_namespace = "cilium";
  ASSERT_TRUE(droplog::ClusterSource(api, detected).read([](std::string_view) {}));
  EXPECT_EQ(api.listed_in, (std::vector<std::string>{"", "cilium"}));

  api.listed_in.clear();
  droplog::ClusterSourceOptions given; // --cilium-namespace
  given.namespace_name = "cilium";
  auto only = droplog::ClusterSource(api, given).read([](std::string_view) {});
  ASSERT_TRUE(only);
  EXPECT_EQ(api.listed_in, (std::vector<std::string>{"cilium"}));
  EXPECT_EQ(only->description, "1 cilium-agent pod");
}

TEST(ClusterSource, ARefusedListOrLogNamesTheMissingRight) {
  FakeLogApi api;
  api.pods = {FakeLogApi::pod("kube-system", "cilium-a")};
  api.refused_in = {"", "kube-system"};
  auto listed = droplog::ClusterSource(api, {}).read([](std::string_view) {});
  ASSERT_FALSE(listed);
  EXPECT_EQ(listed.error().http_status, 403);
  EXPECT_EQ(listed.error().message,
            "listing Cilium agent pods (k8s-app=cilium): not allowed to list pods cluster-wide or "
            "in namespace kube-system: grant `list pods` and `get pods/log` in the namespace the "
            "Cilium agents run in (examples/rbac/drops.yaml grants both; see "
            "docs/cluster-access.md#permissions)");
  ASSERT_FALSE(listed.error().details.empty());
  EXPECT_THAT(listed.error().details[0], HasSubstr("in the namespace \"kube-system\""));

  api.refused_in = {""};
  api.broken["cilium-a"] = FakeLogApi::refusal("get", "pods/log", "kube-system");
  auto read = droplog::ClusterSource(api, {}).read([](std::string_view) {});
  ASSERT_FALSE(read);
  EXPECT_EQ(read.error().message,
            "no cilium-agent log could be read (1 pods): not allowed to get pods/log in namespace "
            "kube-system (examples/rbac/drops.yaml grants both; see "
            "docs/cluster-access.md#permissions)");
}

} // namespace
} // namespace netpol::test
