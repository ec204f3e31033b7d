#include "droplog/aggregate.hpp"

#include <algorithm>
#include <charconv>
#include <iterator>

#include <absl/hash/hash.h>

namespace netpol::droplog {
namespace {

// The row key as one string: the fields with separators. Rows are grouped by equal fields;
// this string is only their tie-break order (and the bytes their hash is taken over).
template <typename Row> void build_key(std::string& key, const Row& f) {
  const auto field = [&](std::string_view v) {
    key.append(v);
    key += '\x1f';
  };
  key.clear();
  field(f.verdict);
  field(f.direction);
  field(f.source.namespace_name);
  field(f.source.workload);
  field(f.destination.namespace_name);
  field(f.destination.workload);
  char digits[16];
  const auto end = std::to_chars(std::begin(digits), std::end(digits), f.port).ptr;
  field(std::string_view(digits, static_cast<size_t>(end - digits)));
  field(f.protocol);
  field(f.reason);
  for (const auto& p : f.policies) {
    key.append(p);
    key += '\x1e';
  }
}

template <typename Row> size_t key_hash(const Row& f) {
  return absl::HashOf(f.verdict, f.direction, f.source.namespace_name, f.source.workload,
                      f.destination.namespace_name, f.destination.workload, f.port, f.protocol,
                      f.reason, f.policies);
}

template <typename A, typename B> bool same_key(const A& a, const B& b) {
  return a.port == b.port && a.source.workload == b.source.workload &&
         a.destination.workload == b.destination.workload &&
         a.source.namespace_name == b.source.namespace_name &&
         a.destination.namespace_name == b.destination.namespace_name && a.verdict == b.verdict &&
         a.direction == b.direction && a.protocol == b.protocol && a.reason == b.reason &&
         a.policies == b.policies;
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

DropAggregator::DropAggregator()
    : m_rows(std::make_unique<DropRows>()),
      m_index(0, KeyHash{m_rows.get()}, KeyEqual{m_rows.get()}) {}

size_t DropAggregator::KeyHash::operator()(uint32_t row) const {
  return key_hash((*rows)[row]);
}
size_t DropAggregator::KeyHash::operator()(const DropFlow& flow) const {
  return key_hash(flow);
}
size_t DropAggregator::KeyHash::operator()(const DropRow& row) const {
  return key_hash(row);
}
bool DropAggregator::KeyEqual::operator()(uint32_t a, uint32_t b) const {
  return a == b || same_key((*rows)[a], (*rows)[b]);
}
bool DropAggregator::KeyEqual::operator()(const DropFlow& flow, uint32_t row) const {
  return same_key((*rows)[row], flow);
}
bool DropAggregator::KeyEqual::operator()(const DropRow& other, uint32_t row) const {
  return same_key((*rows)[row], other);
}

void DropAggregator::insert(DropRow row) {
  m_rows->push_back(std::move(row));
  m_index.insert(static_cast<uint32_t>(m_rows->size() - 1));
}

void DropAggregator::add(const DropFlow& f) {
  if (auto it = m_index.find(f); it != m_index.end()) {
    DropRow& row = (*m_rows)[*it];
    row.count += f.count;
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
  row.count = f.count;
  if (f.has_time) widen(row, f.time, f.time_ns, f.time, f.time_ns);
  insert(std::move(row));
}

void DropAggregator::merge(const DropAggregator& other) {
  for (const DropRow& row : *other.m_rows) {
    if (auto it = m_index.find(row); it != m_index.end()) {
      DropRow& mine = (*m_rows)[*it];
      mine.count += row.count;
      widen(mine, row.first_seen, row.first_ns, row.last_seen, row.last_ns);
    } else {
      insert(row);
    }
  }
}

std::vector<size_t> DropAggregator::sorted_order() const {
  const DropRows& rows = *m_rows;
  // Sorted as a compact array (not by reaching into the rows at random).
  struct Entry {
    uint64_t count;
    int64_t first_ns;
    size_t row;
  };
  std::vector<Entry> entries(rows.size());
  for (size_t i = 0; i < rows.size(); ++i)
    entries[i] = Entry{rows[i].count, rows[i].first_ns, i};
  std::string key_a, key_b;
  std::sort(entries.begin(), entries.end(), [&](const Entry& x, const Entry& y) {
    if (x.count != y.count) return x.count > y.count;
    if (x.first_ns != y.first_ns) return x.first_ns < y.first_ns;
    // Rare (equal counts and first times): the keys are built only here.
    build_key(key_a, rows[x.row]);
    build_key(key_b, rows[y.row]);
    return key_a < key_b;
  });
  std::vector<size_t> order(entries.size());
  for (size_t i = 0; i < entries.size(); ++i)
    order[i] = entries[i].row;
  return order;
}

DropRows DropAggregator::rows() const {
  DropRows out;
  for (size_t i : sorted_order())
    out.push_back((*m_rows)[i]);
  return out;
}

DropRows DropAggregator::take_rows() {
  const std::vector<size_t> order = sorted_order();
  m_index.clear();
  DropRows& rows = *m_rows;
  // Puts the rows in order in place (following the permutation's cycles), so no second
  // vector of rows exists even for a moment: row i becomes the old row order[i].
  std::vector<bool> placed(order.size());
  for (size_t i = 0; i < order.size(); ++i) {
    if (placed[i]) continue;
    DropRow first = std::move(rows[i]);
    size_t at = i;
    while (true) {
      placed[at] = true;
      const size_t from = order[at];
      if (from == i) {
        rows[at] = std::move(first);
        break;
      }
      rows[at] = std::move(rows[from]);
      at = from;
    }
  }
  DropRows out = std::move(rows);
  rows.clear();
  return out;
}

} // namespace netpol::droplog
