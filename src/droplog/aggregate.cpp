#include "droplog/aggregate.hpp"

#include <algorithm>
#include <numeric>

namespace netpol::droplog {
namespace {

void append_field(std::string& key, std::string_view field) {
  key.append(field);
  key += '\x1f';
}

void build_key(std::string& key, const DropFlow& f) {
  key.clear();
  append_field(key, f.verdict);
  append_field(key, f.direction);
  append_field(key, f.source.namespace_name);
  append_field(key, f.source.workload);
  append_field(key, f.destination.namespace_name);
  append_field(key, f.destination.workload);
  append_field(key, std::to_string(f.port));
  append_field(key, f.protocol);
  append_field(key, f.reason);
  for (const auto& p : f.policies) {
    key.append(p);
    key += '\x1e';
  }
}

void widen(DropRow& row, const std::string& first, int64_t first_ns, const std::string& last,
           int64_t last_ns) {
  if (first.empty()) return;
  if (row.first_seen.empty() || first_ns < row.first_ns) {
    row.first_seen = first;
    row.first_ns = first_ns;
  }
  if (row.last_seen.empty() || last_ns > row.last_ns) {
    row.last_seen = last;
    row.last_ns = last_ns;
  }
}

} // namespace

void DropAggregator::add(const DropFlow& f) {
  build_key(m_key, f);
  auto it = m_index.find(m_key);
  if (it != m_index.end()) {
    DropRow& row = m_rows[it->second];
    ++row.count;
    if (f.has_time) widen(row, f.time, f.time_ns, f.time, f.time_ns);
    return;
  }
  DropRow row;
  row.verdict = f.verdict;
  row.direction = f.direction;
  row.source = f.source;
  row.destination = f.destination;
  row.port = f.port;
  row.protocol = f.protocol;
  row.reason = f.reason;
  row.policies = f.policies;
  row.count = 1;
  if (f.has_time) widen(row, f.time, f.time_ns, f.time, f.time_ns);
  const auto inserted = m_index.emplace(m_key, m_rows.size()).first;
  m_keys.push_back(&inserted->first);
  m_rows.push_back(std::move(row));
}

void DropAggregator::add_row(const std::string& key, const DropRow& row) {
  auto it = m_index.find(key);
  if (it == m_index.end()) {
    const auto inserted = m_index.emplace(key, m_rows.size()).first;
    m_keys.push_back(&inserted->first);
    m_rows.push_back(row);
    return;
  }
  DropRow& mine = m_rows[it->second];
  mine.count += row.count;
  widen(mine, row.first_seen, row.first_ns, row.last_seen, row.last_ns);
}

void DropAggregator::merge(const DropAggregator& other) {
  for (size_t i = 0; i < other.m_rows.size(); ++i) {
    add_row(*other.m_keys[i], other.m_rows[i]);
  }
}

std::vector<size_t> DropAggregator::sorted_order() const {
  std::vector<size_t> order(m_rows.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const DropRow& x = m_rows[a];
    const DropRow& y = m_rows[b];
    if (x.count != y.count) return x.count > y.count;
    if (x.first_ns != y.first_ns) return x.first_ns < y.first_ns;
    return *m_keys[a] < *m_keys[b];
  });
  return order;
}

DropRows DropAggregator::rows() const {
  DropRows out;
  for (size_t i : sorted_order())
    out.push_back(m_rows[i]);
  return out;
}

DropRows DropAggregator::take_rows() {
  const std::vector<size_t> order = sorted_order();
  m_index.clear();
  m_keys.clear();
  m_keys.shrink_to_fit();
  // Puts the rows in order in place (following the permutation's cycles), so no second
  // vector of rows exists even for a moment: row i becomes the old row order[i].
  std::vector<bool> placed(order.size());
  for (size_t i = 0; i < order.size(); ++i) {
    if (placed[i]) continue;
    DropRow first = std::move(m_rows[i]);
    size_t at = i;
    while (true) {
      placed[at] = true;
      const size_t from = order[at];
      if (from == i) {
        m_rows[at] = std::move(first);
        break;
      }
      m_rows[at] = std::move(m_rows[from]);
      at = from;
    }
  }
  DropRows out = std::move(m_rows);
  m_rows.clear();
  return out;
}

} // namespace netpol::droplog
