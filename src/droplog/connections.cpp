#include "droplog/connections.hpp"

#include <algorithm>
#include <charconv>
#include <iterator>
#include <utility>

namespace netpol::droplog {

void ConnectionAggregator::build_key(const std::string& verdict,
                                     const model::ObservedConnection& c) {
  const auto field = [&](std::string_view v) {
    m_key.append(v);
    m_key += '\x1f';
  };
  m_key.clear();
  field(m_by_verdict ? std::string_view(verdict) : std::string_view());
  field(c.source.namespace_name);
  field(c.source.workload);
  field(c.destination.namespace_name);
  field(c.destination.workload);
  char digits[16];
  const auto end = std::to_chars(std::begin(digits), std::end(digits), c.port).ptr;
  field(std::string_view(digits, static_cast<size_t>(end - digits)));
  m_key.append(model::to_string(c.protocol));
}

void ConnectionAggregator::widen(ConnectionRow& row, const std::string& first, int64_t first_ns,
                                 const std::string& last, int64_t last_ns) {
  auto& c = row.connection;
  if (!first.empty() && (c.first_seen.empty() || first_ns < row.first_ns)) {
    c.first_seen = first;
    row.first_ns = first_ns;
  }
  if (!last.empty() && (c.last_seen.empty() || last_ns > row.last_ns)) {
    c.last_seen = last;
    row.last_ns = last_ns;
  }
  if (!first.empty() && (m_earliest.empty() || first_ns < m_earliest_ns)) {
    m_earliest = first;
    m_earliest_ns = first_ns;
  }
  if (!last.empty() && (m_latest.empty() || last_ns > m_latest_ns)) {
    m_latest = last;
    m_latest_ns = last_ns;
  }
}

void ConnectionAggregator::add(const DropFlow& flow, uint64_t count) {
  const auto protocol = model::parse_protocol(flow.protocol);
  if (flow.port == 0 || !protocol) {
    m_without_port += count;
    return;
  }
  model::ObservedConnection& c = m_scratch;
  c.source.namespace_name = flow.source.namespace_name;
  c.source.workload = flow.source.workload;
  c.destination.namespace_name = flow.destination.namespace_name;
  c.destination.workload = flow.destination.workload;
  c.port = static_cast<int>(flow.port);
  c.protocol = *protocol;
  build_key(flow.verdict, c);
  m_flows += count;
  static const std::string k_no_time;
  const std::string& time = flow.has_time ? flow.time : k_no_time;
  if (const auto it = m_index.find(m_key); it != m_index.end()) {
    ConnectionRow& row = m_rows[it->second];
    row.connection.count += count;
    widen(row, time, flow.time_ns, time, flow.time_ns);
    return;
  }
  ConnectionRow row;
  row.verdict = m_by_verdict ? flow.verdict : std::string();
  row.connection = c;
  row.connection.source.pod = flow.source.pod;
  row.connection.destination.pod = flow.destination.pod;
  row.connection.count = count;
  widen(row, time, flow.time_ns, time, flow.time_ns);
  m_index.emplace(m_key, static_cast<uint32_t>(m_rows.size()));
  m_rows.push_back(std::move(row));
}

void ConnectionAggregator::add(ConnectionRow row) {
  if (!m_by_verdict) row.verdict.clear();
  build_key(row.verdict, row.connection);
  m_flows += row.connection.count;
  if (const auto it = m_index.find(m_key); it != m_index.end()) {
    ConnectionRow& mine = m_rows[it->second];
    mine.connection.count += row.connection.count;
    if (mine.connection.source.pod.empty()) mine.connection.source.pod = row.connection.source.pod;
    if (mine.connection.destination.pod.empty()) {
      mine.connection.destination.pod = row.connection.destination.pod;
    }
    widen(mine, row.connection.first_seen, row.first_ns, row.connection.last_seen, row.last_ns);
    return;
  }
  const std::string first = std::move(row.connection.first_seen);
  const std::string last = std::move(row.connection.last_seen);
  row.connection.first_seen.clear();
  row.connection.last_seen.clear();
  const int64_t first_ns = row.first_ns, last_ns = row.last_ns;
  widen(row, first, first_ns, last, last_ns);
  m_index.emplace(m_key, static_cast<uint32_t>(m_rows.size()));
  m_rows.push_back(std::move(row));
}

void ConnectionAggregator::merge(const ConnectionAggregator& other) {
  for (const ConnectionRow& row : other.m_rows)
    add(row);
  m_without_port += other.m_without_port;
}

std::vector<ConnectionRow> ConnectionAggregator::rows() const {
  // The keys are in the index; sorted through positions, so no row is copied twice.
  std::vector<std::pair<const std::string*, uint32_t>> order;
  order.reserve(m_index.size());
  for (const auto& [key, at] : m_index)
    order.emplace_back(&key, at);
  std::sort(order.begin(), order.end(), [&](const auto& a, const auto& b) {
    const uint64_t ca = m_rows[a.second].connection.count;
    const uint64_t cb = m_rows[b.second].connection.count;
    if (ca != cb) return ca > cb;
    return *a.first < *b.first;
  });
  std::vector<ConnectionRow> out;
  out.reserve(order.size());
  for (const auto& entry : order)
    out.push_back(m_rows[entry.second]);
  return out;
}

} // namespace netpol::droplog
