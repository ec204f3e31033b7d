#include "droplog/cluster_source.hpp"

#include <algorithm>
#include <mutex>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "droplog/collector.hpp"
#include "droplog/line_parser.hpp"
#include "droplog/timestamp.hpp"
#include "util/parallel.hpp"

namespace netpol::droplog {
namespace {

// Enough for the timestamp that starts a log's first line ("2026-11-26T10:00:00.123456789Z ",
// 31 bytes) with room to spare.
constexpr int64_t k_first_line_bytes = 128;

struct AgentPod {
  std::string namespace_name;
  std::string name;
  bool read_previous = false; // the agent container restarted inside the window
};

// What reading one agent pod gave.
struct AgentRead {
  std::optional<Error> failure; // the current log could not be read
  std::optional<std::string> warning;
  Coverage coverage;
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

// Did `container` restart since `since_ns` (at any time when there is no window start)? Its
// current log then starts at the restart and the older lines are in the previous container's
// log. A finishedAt that is missing or unreadable counts as inside the window: asking for a
// previous log that is not there costs one answer of 400.
bool restarted_since(const nlohmann::json& pod, const std::string& container,
                     std::optional<int64_t> since_ns) {
  const auto statuses =
      pod.value("/status/containerStatuses"_json_pointer, nlohmann::json::array());
  for (const auto& s : statuses) {
    if (!s.is_object() || !s.contains("name") || s["name"] != container) continue;
    const auto restarts = s.value("restartCount", nlohmann::json());
    if (!restarts.is_number_integer() || restarts.get<int64_t>() <= 0) return false;
    if (!since_ns) return true;
    const auto finished =
        s.value("/lastState/terminated/finishedAt"_json_pointer, nlohmann::json());
    if (!finished.is_string()) return true;
    const auto t = parse_rfc3339(finished.get<std::string>());
    return !t || *t > *since_ns;
  }
  return false;
}

} // namespace

Result<SourceReport> ClusterSource::read(const std::function<void(std::string_view)>& on_line) {
  std::optional<int64_t> since_ns;
  if (!m_options.since_time.empty()) {
    since_ns = parse_rfc3339(m_options.since_time);
    if (!since_ns) {
      return fail(ErrorCode::usage,
                  "the drop log's window start '" + m_options.since_time + "' is not RFC 3339");
    }
  }
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
                      pod.value("/metadata/name"_json_pointer, std::string()),
                      restarted_since(pod, m_options.container, since_ns)});
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
  std::vector<AgentRead> reads(agents.size());
  // One agent per index, at most max_parallel at once.
  parallel_for(agents.size(), m_options.max_parallel, [&](size_t i) {
    const AgentPod& agent = agents[i];
    AgentRead& result = reads[i];
    const std::string pod_name = agent.namespace_name + "/" + agent.name;
    result.coverage.source = pod_name;
    std::optional<int64_t> oldest; // of the lines read, previous log first
    // Lines are batched per chunk so the lock is taken once per chunk, not per line.
    std::vector<std::string> batch;
    auto collect = [&](std::string_view line) {
      if (!oldest) oldest = log_line_time(line);
      batch.emplace_back(line);
    };
    auto flush = [&] {
      std::lock_guard<std::mutex> lock(lines_mutex);
      for (const auto& l : batch)
        on_line(l);
      batch.clear();
    };
    auto stream = [&](bool previous) {
      kube::LogOptions options;
      options.container = m_options.container;
      options.timestamps = true;
      options.previous = previous;
      if (!m_options.since_time.empty()) options.since_time = m_options.since_time;
      LineSplitter splitter;
      auto streamed =
          m_api.stream_logs(agent.namespace_name, agent.name, options, [&](std::string_view chunk) {
            splitter.feed(chunk, collect);
            flush();
            return true;
          });
      splitter.finish(collect);
      flush();
      return streamed;
    };

    if (agent.read_previous) {
      auto previous = stream(true);
      if (previous) {
        result.coverage.previous_log = true;
      } else if (previous.error().http_status == 400) {
        spdlog::debug("pod {}: no previous {} log to read ({}); the current one starts at its "
                      "restart",
                      pod_name, m_options.container, previous.error().message);
      } else {
        result.warning = fmt::format("reading the previous log of pod {}: {}", pod_name,
                                     previous.error().message);
      }
    }
    auto current = stream(false);
    if (!current) {
      result.failure = current.error();
      if (!result.coverage.previous_log) {
        result.coverage.gap = since_ns.has_value();
        return;
      }
    }

    result.coverage.oldest_ns = oldest;
    if (!since_ns || (oldest && *oldest <= *since_ns)) return;
    // The first line read is after the window's start: the agent may just have been quiet
    // (the kubelet skips lines before sinceTime), or the log may start later. Its first line
    // tells which.
    kube::LogOptions first;
    first.container = m_options.container;
    first.timestamps = true;
    first.previous = result.coverage.previous_log;
    first.limit_bytes = k_first_line_bytes;
    std::string head;
    auto asked =
        m_api.stream_logs(agent.namespace_name, agent.name, first, [&](std::string_view chunk) {
          head.append(chunk.substr(0, static_cast<size_t>(k_first_line_bytes) - head.size()));
          return head.size() < static_cast<size_t>(k_first_line_bytes);
        });
    if (!asked) {
      spdlog::debug("pod {}: reading the first line of the {}log: {}", pod_name,
                    first.previous ? "previous " : "", asked.error().message);
    } else if (const auto t = log_line_time(std::string_view(head).substr(0, head.find('\n')))) {
      if (!oldest || *t < *oldest) result.coverage.oldest_ns = *t;
    }
    const auto& reach = result.coverage.oldest_ns;
    result.coverage.gap = !reach || *reach > *since_ns;
  });

  size_t failed = 0;
  for (size_t i = 0; i < agents.size(); ++i) {
    auto& r = reads[i];
    if (r.warning) report.warnings.push_back(std::move(*r.warning));
    report.coverage.push_back(std::move(r.coverage));
    if (!r.failure) continue;
    ++failed;
    if (refused(*r.failure)) {
      r.failure =
          forbidden(*r.failure, fmt::format("not allowed to get pods/log in namespace {} ({})",
                                            agents[i].namespace_name, k_grant));
    }
    report.warnings.push_back(fmt::format("reading the log of pod {}/{}: {}",
                                          agents[i].namespace_name, agents[i].name,
                                          r.failure->message));
  }
  if (failed == agents.size()) {
    Error e = *reads.front().failure;
    e.message = fmt::format("no {} log could be read ({} pods): {}", m_options.container,
                            agents.size(), e.message);
    return fail(std::move(e));
  }
  return report;
}

} // namespace netpol::droplog
