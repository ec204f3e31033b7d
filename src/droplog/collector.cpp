#include "droplog/collector.hpp"

#include <algorithm>
#include <cstring>
#include <utility>

#include <spdlog/spdlog.h>

#include "util/log.hpp"

namespace netpol::droplog {
namespace {

constexpr uint64_t k_malformed_shown = 20;

} // namespace

DropCounts& DropCounts::operator+=(const DropCounts& o) {
  lines_read += o.lines_read;
  flows_matched += o.flows_matched;
  lines_skipped += o.lines_skipped;
  lines_malformed += o.lines_malformed;
  lines_matched += o.lines_matched;
  return *this;
}

DropCollector::DropCollector(DropFilter filter, std::function<void(std::string_view)> on_match,
                             bool connections)
    : m_filter(std::move(filter)), m_on_match(std::move(on_match)),
      m_parser(connections ? Verdicts::connections : Verdicts::drops),
      m_with_connections(connections) {
  // A connection of none of the selected namespaces is not kept: not parsed either.
  if (connections) m_parser.connections_only_with(m_filter.namespaces);
}

bool DropCollector::selected(const DropFlow& f) const {
  if (f.has_time) {
    if (m_filter.since_ns && f.time_ns < *m_filter.since_ns) return false;
    if (m_filter.until_ns && f.time_ns > *m_filter.until_ns) return false;
  }
  if (m_filter.namespaces.empty()) return true;
  auto in = [&](const std::string& ns) {
    return !ns.empty() && std::find(m_filter.namespaces.begin(), m_filter.namespaces.end(), ns) !=
                              m_filter.namespaces.end();
  };
  return in(f.source.namespace_name) || in(f.destination.namespace_name);
}

// The flow just parsed, whatever its verdict, as connection attempts (an aggregated event's
// flows, all directions together).
void DropCollector::add_connection() {
  if (!selected(m_flow)) return;
  const uint64_t n = m_flow.aggregated() ? m_flow.aggregate_ingress + m_flow.aggregate_egress +
                                               m_flow.aggregate_unknown
                                         : 1;
  m_connections.add(m_flow, n);
}

void DropCollector::add_line(std::string_view line) {
  if (line.empty() || (line.size() == 1 && line[0] == '\r')) return;
  ++m_counts.lines_read;
  LineOutcome outcome = m_parser.parse(line, m_flow);
  if (m_with_connections) {
    if (outcome == LineOutcome::flow) add_connection();
    // The drop log counts the line as a drops-only parser would have.
    outcome = m_parser.drop_outcome();
  }
  switch (outcome) {
  case LineOutcome::skipped: ++m_counts.lines_skipped; return;
  case LineOutcome::malformed:
    ++m_counts.lines_malformed;
    // Counted, never fatal (SPEC §8); the first few are shown at debug level, so a log that
    // reads as "all malformed" can be looked into.
    if (m_counts.lines_malformed <= k_malformed_shown) {
      spdlog::debug("drop log: line {} is not a Hubble flow event (cut short, not JSON, or "
                    "no flow in it): {}{}",
                    m_counts.lines_read, log::printable(line.substr(0, 160)),
                    line.size() > 160 ? "…" : "");
    }
    return;
  case LineOutcome::flow: break;
  }
  if (m_flow.has_time && (m_oldest_read_ns == 0 || m_flow.time_ns < m_oldest_read_ns)) {
    m_oldest_read_ns = m_flow.time_ns;
  }
  if (!selected(m_flow)) {
    ++m_counts.lines_skipped;
    return;
  }
  ++m_counts.lines_matched;
  if (m_flow.has_time) {
    if (m_earliest_ns == 0 || m_flow.time_ns < m_earliest_ns) m_earliest_ns = m_flow.time_ns;
    if (m_latest_ns == 0 || m_flow.time_ns > m_latest_ns) m_latest_ns = m_flow.time_ns;
  }
  if (!m_flow.aggregated()) {
    ++m_counts.flows_matched;
    m_rows.add(m_flow);
  } else {
    // The exporter counts an aggregated event's flows by their own direction: one row per
    // direction that has flows, whatever direction the event's flow names (its first flow's,
    // or none when traffic_direction is not an aggregation field).
    const std::pair<const char*, uint64_t> by_direction[] = {{"INGRESS", m_flow.aggregate_ingress},
                                                             {"EGRESS", m_flow.aggregate_egress},
                                                             {"UNKNOWN", m_flow.aggregate_unknown}};
    for (const auto& [direction, n] : by_direction) {
      if (n == 0) continue;
      m_flow.direction = direction;
      m_flow.count = n;
      m_counts.flows_matched += n;
      m_rows.add(m_flow);
    }
  }
  if (m_on_match) m_on_match(m_parser.event_json());
}

void DropCollector::merge(const DropCollector& other) {
  m_counts += other.m_counts;
  m_rows.merge(other.m_rows);
  m_connections.merge(other.m_connections);
  if (other.m_earliest_ns != 0 && (m_earliest_ns == 0 || other.m_earliest_ns < m_earliest_ns)) {
    m_earliest_ns = other.m_earliest_ns;
  }
  m_latest_ns = std::max(m_latest_ns, other.m_latest_ns);
  if (other.m_oldest_read_ns != 0 &&
      (m_oldest_read_ns == 0 || other.m_oldest_read_ns < m_oldest_read_ns)) {
    m_oldest_read_ns = other.m_oldest_read_ns;
  }
}

void LineSplitter::feed(std::string_view chunk,
                        const std::function<void(std::string_view)>& on_line) {
  while (!chunk.empty()) {
    const void* nl = std::memchr(chunk.data(), '\n', chunk.size());
    if (nl == nullptr) {
      if (m_discarding) return;
      const size_t room = m_max_line - m_carry.size();
      if (chunk.size() <= room) {
        m_carry.append(chunk);
        return;
      }
      m_carry.append(chunk.substr(0, room));
      on_line(m_carry);
      m_carry.clear();
      m_discarding = true;
      return;
    }
    const size_t len = static_cast<size_t>(static_cast<const char*>(nl) - chunk.data());
    if (m_discarding) {
      m_discarding = false;
    } else if (m_carry.empty()) {
      on_line(chunk.substr(0, std::min(len, m_max_line)));
    } else {
      m_carry.append(chunk.substr(0, std::min(len, m_max_line - m_carry.size())));
      on_line(m_carry);
      m_carry.clear();
    }
    chunk.remove_prefix(len + 1);
  }
}

void LineSplitter::finish(const std::function<void(std::string_view)>& on_line) {
  if (!m_carry.empty() && !m_discarding) on_line(m_carry);
  m_carry.clear();
  m_discarding = false;
}

} // namespace netpol::droplog
