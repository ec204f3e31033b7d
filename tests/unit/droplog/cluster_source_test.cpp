#include <map>
#include <mutex>
#include <set>

#include <fmt/format.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "droplog/cluster_source.hpp"
#include "droplog/collector.hpp"
#include "support/kubelet_log.hpp"
#include "unit/droplog/flow_lines.hpp"
#include "util/time.hpp"

namespace netpol::test {
namespace {

using ::testing::HasSubstr;

// Serves a pod list and per-pod logs (in small chunks, to cut lines mid-way) as the kubelet
// would (serve_container_log: timestamps, sinceTime, limitBytes); a pod mapped to an Error
// fails. A previous=true request for a pod without a previous log is answered 400. Records
// what was asked.
class FakeLogApi final : public kube::KubeApi {
public:
  std::vector<nlohmann::json> pods;
  std::map<std::string, std::string> logs;          // pod name -> log text
  std::map<std::string, std::string> previous_logs; // pod name -> previous container's log
  std::map<std::string, Error> broken;              // pod name -> failure
  std::map<std::string, Error> broken_previous;     // pod name -> failure of previous=true
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
    std::string stored;
    if (options.previous) {
      if (auto it = broken_previous.find(pod); it != broken_previous.end()) {
        return fail(it->second);
      }
      auto it = previous_logs.find(pod);
      if (it == previous_logs.end()) {
        Error e(ErrorCode::api, "read previous log of Pod/kube-system/" + pod +
                                    ": previous terminated container \"cilium-agent\" in pod "
                                    "\"" +
                                    pod + "\" not found");
        e.http_status = 400;
        return fail(e);
      }
      stored = it->second;
    } else {
      if (auto it = broken.find(pod); it != broken.end()) return fail(it->second);
      stored = logs[pod];
    }
    std::map<std::string, std::string> params;
    if (options.timestamps) params["timestamps"] = "true";
    if (options.since_time) params["sinceTime"] = *options.since_time;
    if (options.limit_bytes) params["limitBytes"] = std::to_string(*options.limit_bytes);
    const std::string text = serve_container_log(stored, params);
    for (size_t i = 0; i < text.size(); i += 97) {
      if (!on_data(std::string_view(text).substr(i, 97))) break;
    }
    return {};
  }
  Result<bool> can_i(const kube::AccessCheck&) override { return true; }
  uint64_t request_count() const override { return 0; }
};

// Three lines written at `time` (the window's start in the tests below): an agent's start, a
// drop in logfmt and the same drop as raw JSON.
std::string agent_log(const std::string& ns, const std::string& time = "2026-11-26T10:00:00Z") {
  FlowSpec f;
  f.source.ns = ns;
  f.destination.ns = ns;
  return time + " level=info msg=\"Starting agent\" subsys=daemon\n" + time + " " +
         logfmt_line(flow_line(f)) + "\n" + time + " " + flow_line(f) + "\n";
}

// An agent pod whose cilium-agent container restarted once, its previous instance ending at
// `finished`.
nlohmann::json restarted_pod(const std::string& name, const std::string& finished) {
  auto p = FakeLogApi::pod("kube-system", name);
  p["status"]["containerStatuses"] = {
      {{"name", "cilium-agent"},
       {"restartCount", 1},
       {"lastState", {{"terminated", {{"exitCode", 1}, {"finishedAt", finished}}}}}}};
  return p;
}

int64_t t(const char* rfc3339) {
  return parse_rfc3339(rfc3339).value();
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
  // The first lines are at the window's start: nothing more to ask.
  ASSERT_EQ(api.asked.size(), 2u);
  for (const auto& o : api.asked) {
    EXPECT_EQ(o.container, "cilium-agent");
    EXPECT_EQ(o.since_time, "2026-11-26T10:00:00Z");
    EXPECT_TRUE(o.timestamps);
    EXPECT_FALSE(o.previous);
  }
  EXPECT_EQ(collector.counts().lines_read, 6u);
  EXPECT_EQ(collector.counts().flows_matched, 4u);
  EXPECT_EQ(collector.rows().size(), 2u);
  ASSERT_EQ(report->coverage.size(), 2u);
  EXPECT_EQ(report->coverage[0].source, "kube-system/cilium-a");
  EXPECT_EQ(report->coverage[0].oldest_ns, t("2026-11-26T10:00:00Z"));
  EXPECT_FALSE(report->coverage[0].gap);
  EXPECT_FALSE(report->coverage[1].gap);
}

TEST(ClusterSource, AQuietAgentIsCoveredALogThatStartsLateIsAGap) {
  FakeLogApi api;
  api.pods = {FakeLogApi::pod("kube-system", "cilium-quiet"),
              FakeLogApi::pod("kube-system", "cilium-rotated"),
              FakeLogApi::pod("kube-system", "cilium-untimed")};
  // Running since 09:00 but silent until 10:05: the kubelet serves from 10:05 on.
  api.logs["cilium-quiet"] = "2026-11-26T09:00:00Z level=info msg=\"Starting agent\"\n" +
                             agent_log("shop", "2026-11-26T10:05:00Z");
  // Rotated: the newest log file starts at 10:20.
  api.logs["cilium-rotated"] = agent_log("shop", "2026-11-26T10:20:00.5Z");
  // Lines without the kubelet's time (not a real kubelet): nothing to tell.
  api.logs["cilium-untimed"] = "level=info msg=\"Starting agent\"\n";
  droplog::ClusterSourceOptions options;
  options.since_time = "2026-11-26T10:00:00Z";
  droplog::ClusterSource source(api, options);
  auto report = source.read([](std::string_view) {});
  ASSERT_TRUE(report) << report.error().message;
  ASSERT_EQ(report->coverage.size(), 3u);
  const auto& quiet = report->coverage[0];
  const auto& rotated = report->coverage[1];
  const auto& untimed = report->coverage[2];
  EXPECT_EQ(quiet.source, "kube-system/cilium-quiet");
  EXPECT_EQ(quiet.oldest_ns, t("2026-11-26T09:00:00Z"));
  EXPECT_FALSE(quiet.gap);
  EXPECT_EQ(rotated.oldest_ns, t("2026-11-26T10:20:00.5Z"));
  EXPECT_TRUE(rotated.gap);
  EXPECT_EQ(untimed.oldest_ns, std::nullopt);
  EXPECT_TRUE(untimed.gap);
  // Per pod the window, then the log's first line: a few bytes, from the start of the log.
  ASSERT_EQ(api.asked.size(), 6u);
  size_t first_lines = 0;
  for (const auto& o : api.asked) {
    if (!o.limit_bytes) continue;
    ++first_lines;
    EXPECT_EQ(o.since_time, std::nullopt);
    EXPECT_TRUE(o.timestamps);
    EXPECT_LE(*o.limit_bytes, 256);
  }
  EXPECT_EQ(first_lines, 3u);

  // Without a window start the whole retained log is read: nothing can be missing.
  api.asked.clear();
  droplog::ClusterSource whole(api, {});
  auto all = whole.read([](std::string_view) {});
  ASSERT_TRUE(all);
  EXPECT_EQ(api.asked.size(), 3u);
  for (const auto& c : all->coverage)
    EXPECT_FALSE(c.gap) << c.source;
  EXPECT_EQ(all->coverage[1].oldest_ns, t("2026-11-26T10:20:00.5Z"));
}

TEST(ClusterSource, ARestartInTheWindowReadsThePreviousLogFirst) {
  FakeLogApi api;
  api.pods = {restarted_pod("cilium-a", "2026-11-26T10:03:00Z"),
              restarted_pod("cilium-b", "2026-11-26T10:03:00Z"),
              restarted_pod("cilium-c", "2026-11-26T09:30:00Z"),
              restarted_pod("cilium-d", "2026-11-26T10:03:00Z")};
  api.pods[3]["status"]["containerStatuses"][0]["restartCount"] = 0; // never restarted
  api.previous_logs["cilium-a"] =
      agent_log("before", "2026-11-26T09:00:00Z") + agent_log("before", "2026-11-26T10:01:00Z");
  api.logs["cilium-a"] = agent_log("after", "2026-11-26T10:03:10Z");
  // cilium-b: no previous log left (400), cilium-c restarted before the window.
  api.logs["cilium-b"] = agent_log("after", "2026-11-26T10:03:10Z");
  api.logs["cilium-c"] = agent_log("after", "2026-11-26T09:30:10Z");
  api.logs["cilium-d"] = agent_log("after", "2026-11-26T09:00:00Z");
  droplog::ClusterSourceOptions options;
  options.since_time = "2026-11-26T10:00:00Z";
  options.max_parallel = 1;
  droplog::ClusterSource source(api, options);
  std::vector<std::string> namespaces;
  droplog::DropCollector collector(droplog::DropFilter{});
  auto report = source.read([&](std::string_view l) {
    collector.add_line(l);
    if (l.find("before") != std::string_view::npos) namespaces.push_back("before");
    if (l.find("after") != std::string_view::npos) namespaces.push_back("after");
  });
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_TRUE(report->warnings.empty()) << report->warnings.front(); // a 400 is no warning
  // cilium-a's previous lines (inside the window) come before its current ones.
  ASSERT_GE(namespaces.size(), 4u);
  EXPECT_EQ(namespaces[0], "before");
  EXPECT_EQ(namespaces[1], "before");
  EXPECT_EQ(namespaces[2], "after");
  // cilium-a: 2 before and 2 after the restart; cilium-b: 2; c and d: nothing in the window.
  EXPECT_EQ(collector.counts().flows_matched, 6u);

  ASSERT_FALSE(api.asked.empty());
  EXPECT_TRUE(api.asked[0].previous); // one thread: cilium-a's previous log first
  EXPECT_TRUE(api.asked[0].timestamps);
  EXPECT_EQ(api.asked[0].since_time, "2026-11-26T10:00:00Z");
  size_t previous = 0;
  for (const auto& o : api.asked)
    previous += o.previous;
  // cilium-a: the previous log's window and first line; cilium-b: one refused request.
  EXPECT_EQ(previous, 3u);

  ASSERT_EQ(report->coverage.size(), 4u);
  EXPECT_TRUE(report->coverage[0].previous_log);
  EXPECT_EQ(report->coverage[0].oldest_ns, t("2026-11-26T09:00:00Z"));
  EXPECT_FALSE(report->coverage[0].gap);
  EXPECT_FALSE(report->coverage[1].previous_log);
  EXPECT_EQ(report->coverage[1].oldest_ns, t("2026-11-26T10:03:10Z"));
  EXPECT_TRUE(report->coverage[1].gap);
  EXPECT_FALSE(report->coverage[2].previous_log);
  EXPECT_FALSE(report->coverage[2].gap);
  EXPECT_FALSE(report->coverage[3].gap);

  // Any other failure of the previous log is a warning naming the pod; its current log is
  // still read.
  Error gone(ErrorCode::api, "read previous log of Pod/kube-system/cilium-a: forbidden");
  gone.http_status = 403;
  api.broken_previous["cilium-a"] = gone;
  auto warned = source.read([](std::string_view) {});
  ASSERT_TRUE(warned);
  ASSERT_EQ(warned->warnings.size(), 1u);
  EXPECT_THAT(warned->warnings[0], HasSubstr("previous log of pod kube-system/cilium-a"));
  EXPECT_FALSE(warned->coverage[0].previous_log);
  EXPECT_TRUE(warned->coverage[0].gap);
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
