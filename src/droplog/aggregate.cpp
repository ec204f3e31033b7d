#include "droplog/aggregate.hpp"

#include <algorithm>
#include <charconv>
#include <iterator>

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

// 64-bit FNV-1a over the key fields, each followed by a separator, without building the key.
class KeyHash {
public:
  void add(std::string_view s) {
    for (const char c : s)
      byte(static_cast<unsigned char>(c));
    byte(0x1f);
  }
  void add(uint32_t v) {
    for (int i = 0; i < 4; ++i)
      byte(static_cast<unsigned char>(v >> (8 * i)));
  }
  uint64_t value() const {
    // FNV's low bits mix poorly; fold the high half in.
    return m_h ^ (m_h >> 29);
  }

private:
  void byte(unsigned char c) {
    m_h ^= c;
    m_h *= 0x100000001b3ull;
  }
  uint64_t m_h = 0xcbf29ce484222325ull;
};

template <typename Row> uint64_t key_hash(const Row& f) {
  KeyHash h;
  h.add(f.verdict);
  h.add(f.direction);
  h.add(f.source.namespace_name);
  h.add(f.source.workload);
  h.add(f.destination.namespace_name);
  h.add(f.destination.workload);
  h.add(f.port);
  h.add(f.protocol);
  h.add(f.reason);
  for (const auto& p : f.policies)
    h.add(p);
  return h.value();
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

// A table slot holds the row's position + 1 in its lower half (so 0 is an empty slot, and
// the table holds up to 4 billion rows) and the upper half of the row's hash above it.
constexpr uint64_t k_position_mask = 0xffffffffull;

} // namespace

template <typename Key> DropRow* DropAggregator::find(const Key& key, uint64_t hash) {
  if (m_slots.empty()) return nullptr;
  const size_t mask = m_slots.size() - 1;
  const uint64_t tag = hash & ~k_position_mask;
  for (size_t i = hash & mask;; i = (i + 1) & mask) {
    const uint64_t slot = m_slots[i];
    if (slot == 0) return nullptr;
    if ((slot & ~k_position_mask) != tag) continue;
    DropRow& row = m_rows[(slot & k_position_mask) - 1];
    if (same_key(row, key)) return &row;
  }
}

void DropAggregator::insert(uint64_t hash, DropRow row) {
  m_rows.push_back(std::move(row));
  m_hashes.push_back(hash);
  // At most half full: probe runs stay short.
  if (m_rows.size() * 2 > m_slots.size()) {
    m_slots.assign(std::max<size_t>(1024, m_slots.size() * 2), 0);
    for (size_t i = 0; i + 1 < m_rows.size(); ++i)
      place(i);
  }
  place(m_rows.size() - 1);
}

void DropAggregator::place(size_t row) {
  const size_t mask = m_slots.size() - 1;
  const uint64_t hash = m_hashes[row];
  size_t at = hash & mask;
  while (m_slots[at] != 0)
    at = (at + 1) & mask;
  m_slots[at] = (hash & ~k_position_mask) | (row + 1);
}

void DropAggregator::add(const DropFlow& f) {
  const uint64_t hash = key_hash(f);
  if (DropRow* row = find(f, hash)) {
    ++row->count;
    if (f.has_time) widen(*row, f.time, f.time_ns, f.time, f.time_ns);
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
  insert(hash, std::move(row));
}

void DropAggregator::merge(const DropAggregator& other) {
  for (const DropRow& row : other.m_rows) {
    const uint64_t hash = key_hash(row);
    if (DropRow* mine = find(row, hash)) {
      mine->count += row.count;
      widen(*mine, row.first_seen, row.first_ns, row.last_seen, row.last_ns);
    } else {
      insert(hash, row);
    }
  }
}

std::vector<size_t> DropAggregator::sorted_order() const {
  // Sorted as a compact array (not by reaching into the rows at random).
  struct Entry {
    uint64_t count;
    int64_t first_ns;
    size_t row;
  };
  std::vector<Entry> entries(m_rows.size());
  for (size_t i = 0; i < m_rows.size(); ++i)
    entries[i] = Entry{m_rows[i].count, m_rows[i].first_ns, i};
  std::string key_a, key_b;
  std::sort(entries.begin(), entries.end(), [&](const Entry& x, const Entry& y) {
    if (x.count != y.count) return x.count > y.count;
    if (x.first_ns != y.first_ns) return x.first_ns < y.first_ns;
    // Rare (equal counts and first times): the keys are built only here.
    build_key(key_a, m_rows[x.row]);
    build_key(key_b, m_rows[y.row]);
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
    out.push_back(m_rows[i]);
  return out;
}

DropRows DropAggregator::take_rows() {
  const std::vector<size_t> order = sorted_order();
  m_slots = {};
  m_hashes = {};
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
