#include "analyze/observed.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "util/time.hpp"

namespace netpol::analyze {

namespace {

// a < b for RFC 3339 times: as instants when both parse ("10:00:00.5Z" is after "10:00:00Z",
// whatever the text says), else as text.
bool earlier(const std::string& a, const std::string& b) {
  const auto ta = parse_rfc3339(a), tb = parse_rfc3339(b);
  return ta && tb ? *ta < *tb : a < b;
}

} // namespace

void Seen::add(std::uint64_t flows, const std::string& first, const std::string& last) {
  count += flows;
  // An empty time is unknown.
  if (!first.empty() && (first_seen.empty() || earlier(first, first_seen))) first_seen = first;
  if (!last.empty() && (last_seen.empty() || earlier(last_seen, last))) last_seen = last;
}

ObservedIndex::ObservedIndex(const Cluster& cluster, const model::FlowEvidence& evidence,
                             const std::vector<AnalysedPort>& ports)
    : m_evidence(evidence) {
  std::map<std::string, size_t, std::less<>> ids;
  const auto id_of = [&](std::string name) {
    auto [it, added] = ids.try_emplace(std::move(name), m_names.size());
    if (added) m_names.push_back(it->first);
    return it->second;
  };
  for (const auto& pod : cluster.pods())
    m_pod_workload.push_back(id_of(pod.namespace_name + "/" + pod.workload));
  for (const auto& p : ports) {
    if (!p.other) m_named.push_back(p.port);
  }
  std::sort(m_named.begin(), m_named.end());

  const auto endpoint_id = [&](const model::ObservedEndpoint& e) -> std::optional<size_t> {
    if (e.namespace_name.empty()) return std::nullopt;
    if (!e.pod.empty()) {
      if (auto pod = cluster.find_pod(e.namespace_name + "/" + e.pod)) return m_pod_workload[*pod];
    }
    if (auto it = ids.find(e.namespace_name + "/" + e.workload); it != ids.end()) return it->second;
    return std::nullopt;
  };
  for (const auto& c : evidence.connections) {
    const auto from = endpoint_id(c.source);
    const auto to = endpoint_id(c.destination);
    if (!from || !to || c.count == 0) continue;
    auto& entries = m_seen[{*from, *to}];
    const PortProtocol port{c.port, c.protocol};
    auto it = std::find_if(entries.begin(), entries.end(),
                           [&](const PortSeen& e) { return e.port == port; });
    if (it == entries.end()) it = entries.insert(entries.end(), PortSeen{port, {}});
    it->seen.add(c.count, c.first_seen, c.last_seen);
    m_joined += c.count;
  }
}

Seen ObservedIndex::seen(size_t from, size_t to, const AnalysedPort& port) const {
  Seen out;
  const auto it = m_seen.find({m_pod_workload[from], m_pod_workload[to]});
  if (it == m_seen.end()) return out;
  for (const auto& e : it->second) {
    const bool counts = port.other ? e.port.protocol == port.port.protocol &&
                                         !std::binary_search(m_named.begin(), m_named.end(), e.port)
                                   : e.port == port.port;
    if (counts) out.add(e.seen.count, e.seen.first_seen, e.seen.last_seen);
  }
  return out;
}

std::string describe_window(const model::FlowEvidence& evidence) {
  std::string out = fmt::format("{} {} from {} {}", evidence.flows_read,
                                evidence.flows_read == 1 ? "flow" : "flows", evidence.files.size(),
                                evidence.files.size() == 1 ? "file" : "files");
  if (!evidence.since.empty() || !evidence.until.empty()) {
    out += fmt::format(", {} to {}", evidence.since.empty() ? "?" : evidence.since,
                       evidence.until.empty() ? "?" : evidence.until);
  }
  return out;
}

} // namespace netpol::analyze
