#include "droplog/cluster_source.hpp"

#include <algorithm>
#include <mutex>

#include <fmt/format.h>

#include "droplog/collector.hpp"
#include "util/parallel.hpp"

namespace netpol::droplog {
namespace {

struct AgentPod {
  std::string namespace_name;
  std::string name;
};

bool has_container(const nlohmann::json& pod, const std::string& container) {
  const auto containers = pod.value("/spec/containers"_json_pointer, nlohmann::json::array());
  return std::any_of(containers.begin(), containers.end(), [&](const nlohmann::json& c) {
    return c.is_object() && c.value("name", "") == container;
  });
}

constexpr const char* k_grant = "examples/rbac/drops.yaml grants both; see "
                                "docs/cluster-access.md#permissions";

// A missing right: a 403 for a user the server knows (for system:anonymous it is the
// credentials that were refused, not a right).
bool refused(const Error& e) {
  return kube::is_forbidden(e) && !kube::is_anonymous(e);
}

// A 403 as the right that is missing, the server's words kept as a detail.
Error forbidden(const Error& server, std::string missing) {
  Error e = server;
  e.message = std::move(missing);
  e.details.insert(e.details.begin(), server.message);
  return e;
}

} // namespace

Result<SourceReport> ClusterSource::read(const std::function<void(std::string_view)>& on_line) {
  kube::ListOptions list;
  list.label_selector = m_options.label_selector;
  std::string where = m_options.namespace_name;
  auto pods = m_api.list(kube::resources::pods, where, list);
  // A token that may list pods only where the agents run (least privilege) reads them there.
  const bool cluster_wide_refused = where.empty() && !pods && refused(pods.error());
  if (cluster_wide_refused && !m_options.fallback_namespace.empty()) {
    where = m_options.fallback_namespace;
    pods = m_api.list(kube::resources::pods, where, list);
  }
  if (!pods) {
    Error e = pods.error();
    if (refused(e)) {
      e = forbidden(e,
                    fmt::format("not allowed to list pods {}{}: grant `list pods` and `get "
                                "pods/log` in the namespace the Cilium agents run in ({})",
                                cluster_wide_refused ? "cluster-wide or " : "",
                                where.empty() ? "cluster-wide" : "in namespace " + where, k_grant));
    }
    return fail(e.wrap("listing Cilium agent pods (" + list.label_selector + ")"));
  }
  std::vector<AgentPod> agents;
  for (const auto& pod : *pods) {
    if (!has_container(pod, m_options.container)) continue; // e.g. GKE's anetd has other names
    agents.push_back({pod.value("/metadata/namespace"_json_pointer, std::string()),
                      pod.value("/metadata/name"_json_pointer, std::string())});
  }
  std::sort(agents.begin(), agents.end(),
            [](const AgentPod& a, const AgentPod& b) { return a.name < b.name; });

  SourceReport report;
  report.description =
      fmt::format("{} {} pod{}", agents.size(), m_options.container, agents.size() == 1 ? "" : "s");
  if (agents.empty()) {
    report.warnings.push_back(fmt::format("no pod with label {} and container {}: is Cilium "
                                          "installed?",
                                          m_options.label_selector, m_options.container));
    return report;
  }

  std::mutex lines_mutex; // on_line is never called concurrently
  std::vector<std::optional<Error>> failures(agents.size());
  // One agent per index, at most max_parallel at once.
  parallel_for(agents.size(), m_options.max_parallel, [&](size_t i) {
    const AgentPod& agent = agents[i];
    kube::LogOptions options;
    options.container = m_options.container;
    if (!m_options.since_time.empty()) options.since_time = m_options.since_time;
    LineSplitter splitter;
    // Lines are batched per chunk so the lock is taken once per chunk, not per line.
    std::vector<std::string> batch;
    auto collect = [&](std::string_view line) { batch.emplace_back(line); };
    auto flush = [&] {
      std::lock_guard<std::mutex> lock(lines_mutex);
      for (const auto& l : batch)
        on_line(l);
      batch.clear();
    };
    auto streamed =
        m_api.stream_logs(agent.namespace_name, agent.name, options, [&](std::string_view chunk) {
          splitter.feed(chunk, collect);
          flush();
          return true;
        });
    splitter.finish(collect);
    flush();
    if (!streamed) failures[i] = streamed.error();
  });

  size_t failed = 0;
  for (size_t i = 0; i < agents.size(); ++i) {
    if (!failures[i]) continue;
    ++failed;
    if (refused(*failures[i])) {
      failures[i] =
          forbidden(*failures[i], fmt::format("not allowed to get pods/log in namespace {} ({})",
                                              agents[i].namespace_name, k_grant));
    }
    report.warnings.push_back(fmt::format("reading the log of pod {}/{}: {}",
                                          agents[i].namespace_name, agents[i].name,
                                          failures[i]->message));
  }
  if (failed == agents.size()) {
    Error e = *failures.front();
    e.message = fmt::format("no {} log could be read ({} pods): {}", m_options.container,
                            agents.size(), e.message);
    return fail(std::move(e));
  }
  return report;
}

} // namespace netpol::droplog
