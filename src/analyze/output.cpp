#include "analyze/output.hpp"

#include <algorithm>
#include <map>
#include <tuple>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "util/log.hpp"

namespace netpol::analyze {
namespace {

// Quoted JSON strings of every pod id, computed once.
std::vector<std::string> quoted_ids(const Cluster& cluster) {
  std::vector<std::string> out;
  out.reserve(cluster.pods().size());
  for (const auto& pod : cluster.pods()) {
    out.push_back(nlohmann::json(pod.id()).dump());
  }
  return out;
}

// Pairs allowed in `a` and not in `b` (b absent: all of a).
template <class F>
void for_each_pair(const ConnectivityMatrix& a, const ConnectivityMatrix* b, F&& f) {
  for (size_t from = 0; from < a.size(); ++from) {
    const PodSet row =
        b ? a.reachable_from(from) - b->reachable_from(from) : a.reachable_from(from);
    for (auto to = row.find_first(); to != PodSet::npos; to = row.find_next(to)) {
      f(from, to);
    }
  }
}

// Collects output in a string and hands it to the stream in chunks of about 1 MB.
class ChunkedWriter {
public:
  explicit ChunkedWriter(std::ostream& out) : m_out(out) { m_buffer.reserve(k_chunk + 4096); }
  ~ChunkedWriter() { flush(); }
  ChunkedWriter(const ChunkedWriter&) = delete;
  ChunkedWriter& operator=(const ChunkedWriter&) = delete;

  ChunkedWriter& operator+=(std::string_view text) {
    m_buffer += text;
    if (m_buffer.size() >= k_chunk) flush();
    return *this;
  }
  ChunkedWriter& operator+=(char c) {
    m_buffer += c;
    return *this;
  }
  void flush() {
    m_out.write(m_buffer.data(), static_cast<std::streamsize>(m_buffer.size()));
    m_buffer.clear();
  }

private:
  static constexpr size_t k_chunk = 1 << 20;
  std::ostream& m_out;
  std::string m_buffer;
};

// The pairs in `a` (less `b`); with `observed`, each carries the flows seen on `port`.
void write_pairs(ChunkedWriter& out, const std::vector<std::string>& ids,
                 const ConnectivityMatrix& a, const ConnectivityMatrix* b,
                 const ObservedIndex* observed = nullptr, const AnalysedPort* port = nullptr) {
  out += '[';
  bool first = true;
  for_each_pair(a, b, [&](size_t from, size_t to) {
    if (!first) out += ',';
    first = false;
    out += "{\"from\":";
    out += ids[from];
    out += ",\"to\":";
    out += ids[to];
    if (observed != nullptr) {
      out += ",\"observed\":";
      out += std::to_string(observed->seen(from, to, *port).count);
    }
    out += '}';
  });
  out += ']';
}

std::string evidence_json(const model::FlowEvidence& evidence) {
  nlohmann::json files = nlohmann::json::array();
  for (const auto& f : evidence.files)
    files.push_back(log::printable(f));
  return nlohmann::json{{"since", evidence.since},
                        {"until", evidence.until},
                        {"flows_read", evidence.flows_read},
                        {"files", files}}
      .dump();
}

struct Workload {
  std::string name; // "ns/workload", escaped for a terminal (log::printable)
  std::vector<size_t> pods;
};

// Names come from --pods-from or the cluster: a control character in one must not reach a
// terminal or connectivity.txt raw.
std::vector<Workload> workloads(const Cluster& cluster) {
  std::map<std::string, std::vector<size_t>> groups;
  const auto& pods = cluster.pods();
  for (size_t i = 0; i < pods.size(); ++i) {
    groups[pods[i].namespace_name + "/" + pods[i].workload].push_back(i);
  }
  std::vector<Workload> out;
  for (auto& [name, members] : groups)
    out.push_back({log::printable(name), std::move(members)});
  return out;
}

std::string pods_word(size_t n) {
  return n == 1 ? "1 pod" : fmt::format("{} pods", n);
}

// Per source workload, the destination workloads with the number of pairs in `a` (less `b`).
std::string grouped_pairs(const std::vector<Workload>& groups, const ConnectivityMatrix& a,
                          const ConnectivityMatrix* b, bool list_empty_sources) {
  std::string out;
  for (const auto& src : groups) {
    std::vector<std::string> reached;
    for (const auto& dst : groups) {
      size_t count = 0;
      for (size_t from : src.pods) {
        for (size_t to : dst.pods) {
          if (a.allowed(from, to) && !(b && b->allowed(from, to))) ++count;
        }
      }
      if (count == 0) continue;
      const size_t total = src.pods.size() * dst.pods.size();
      reached.push_back(count == total && total == 1 ? dst.name
                        : count == total
                            ? fmt::format("{} (all {} pairs)", dst.name, total)
                            : fmt::format("{} ({} of {} pairs)", dst.name, count, total));
    }
    if (reached.empty() && !list_empty_sources) continue;
    out += fmt::format("  {} ({}) -> {}\n", src.name, pods_word(src.pods.size()),
                       reached.empty() ? std::string("nothing")
                                       : fmt::format("{}", fmt::join(reached, ", ")));
  }
  return out;
}

size_t diff_count(const ConnectivityMatrix& a, const ConnectivityMatrix& b) {
  size_t n = 0;
  for (size_t i = 0; i < a.size(); ++i)
    n += (a.reachable_from(i) - b.reachable_from(i)).count();
  return n;
}

} // namespace

std::vector<PortResult> analyze_ports(const Cluster& cluster, const std::vector<Policy>& planned,
                                      const std::vector<Policy>* base,
                                      std::optional<PortProtocol> port, EngineOptions options) {
  std::vector<AnalysedPort> ports;
  if (port) {
    ports.push_back({*port, false});
  } else {
    std::vector<Policy> all = planned;
    if (base != nullptr) all.insert(all.end(), base->begin(), base->end());
    ports = ports_of_interest(cluster, all);
  }
  const Engine planned_engine(cluster, planned, options);
  std::optional<Engine> base_engine;
  if (base != nullptr) base_engine.emplace(cluster, *base, options);
  std::vector<PortResult> results;
  for (const auto& p : ports) {
    PortResult r{p, planned_engine.matrix(p.port), std::nullopt};
    if (base_engine) r.base = base_engine->matrix(p.port);
    results.push_back(std::move(r));
  }
  return results;
}

void write_json_results(std::ostream& out, const Cluster& cluster,
                        const std::vector<PortResult>& results, JsonContent content,
                        bool single_object) {
  if (single_object) {
    write_json(out, cluster, results.front(), content);
    out << "\n";
    return;
  }
  out << "[";
  for (size_t i = 0; i < results.size(); ++i) {
    out << (i == 0 ? "\n" : ",\n");
    write_json(out, cluster, results[i], content);
  }
  out << "\n]\n";
}

std::vector<DeniedConnection> denied_connections(const PortResult& result,
                                                 const ObservedIndex& observed) {
  std::map<std::pair<size_t, size_t>, DeniedConnection> groups;
  for_each_pair(*result.base, &result.planned, [&](size_t from, size_t to) {
    auto [it, added] = groups.try_emplace({observed.workload_id(from), observed.workload_id(to)});
    if (added) {
      it->second.from = log::printable(observed.workload_of(from));
      it->second.to = log::printable(observed.workload_of(to));
      it->second.port = result.port;
      // Evidence is kept per workload pair: any pod pair of the two workloads sees it all.
      it->second.seen = observed.seen(from, to, result.port);
    }
    ++it->second.pairs;
  });
  std::vector<DeniedConnection> out;
  out.reserve(groups.size());
  for (auto& [key, c] : groups)
    out.push_back(std::move(c));
  std::stable_sort(out.begin(), out.end(),
                   [](const DeniedConnection& a, const DeniedConnection& b) {
                     if (a.seen.count != b.seen.count) return a.seen.count > b.seen.count;
                     return std::tie(a.from, a.to) < std::tie(b.from, b.to);
                   });
  return out;
}

std::vector<DeniedConnection> will_break(const std::vector<PortResult>& results,
                                         const ObservedIndex& observed) {
  std::vector<DeniedConnection> out;
  for (const auto& r : results) {
    if (!r.base) continue;
    for (auto& c : denied_connections(r, observed)) {
      if (c.seen.count == 0) break; // observed ones come first
      out.push_back(std::move(c));
    }
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const DeniedConnection& a, const DeniedConnection& b) {
                     return a.seen.count > b.seen.count;
                   });
  return out;
}

Result<void> refuse_breaking(const std::vector<DeniedConnection>& breaking) {
  if (breaking.empty()) return {};
  const auto& first = breaking.front();
  return fail(ErrorCode::check_failed,
              fmt::format("the change newly denies {} {} seen in traffic: {} -> {} {} ({}){}",
                          breaking.size(), breaking.size() == 1 ? "connection" : "connections",
                          first.from, first.to, port_label(first.port), describe_seen(first.seen),
                          breaking.size() > 1
                              ? fmt::format(" and {} more (connectivity.txt)", breaking.size() - 1)
                              : std::string()));
}

std::string describe_seen(const Seen& seen) {
  std::string out = fmt::format("seen {} {}", seen.count, seen.count == 1 ? "time" : "times");
  if (!seen.first_seen.empty() && !seen.last_seen.empty()) {
    out += seen.first_seen == seen.last_seen
               ? fmt::format(" at {}", seen.first_seen)
               : fmt::format(" between {} and {}", seen.first_seen, seen.last_seen);
  }
  return out;
}

std::string port_label(const AnalysedPort& port) {
  std::string label = fmt::format("{}/{}", to_string(port.port.protocol), port.port.port);
  if (port.other) label += " (any port no policy names)";
  return label;
}

void write_json(std::ostream& stream, const Cluster& cluster, const PortResult& result,
                JsonContent content) {
  const auto ids = quoted_ids(cluster);
  ChunkedWriter out(stream);
  out += fmt::format("{{\"port\":{},\"protocol\":\"{}\"", result.port.port.port,
                     to_string(result.port.port.protocol));
  if (content.connectivity) {
    out += ",\"pods\":[";
    for (size_t i = 0; i < ids.size(); ++i) {
      if (i != 0) out += ',';
      out += ids[i];
    }
    out += "],\"allowed\":";
    write_pairs(out, ids, result.planned, nullptr);
  }
  if (content.diff && result.base) {
    out += ",\"newly_denied\":";
    write_pairs(out, ids, *result.base, &result.planned, content.observed, &result.port);
    out += ",\"newly_allowed\":";
    write_pairs(out, ids, result.planned, &*result.base, content.observed, &result.port);
    if (content.observed != nullptr) {
      out += ",\"evidence\":";
      out += evidence_json(content.observed->evidence());
    }
  }
  out += '}';
}

std::string to_text(const Cluster& cluster, const std::vector<PortResult>& results,
                    size_t policy_count, const ObservedIndex* observed) {
  const auto groups = workloads(cluster);
  const size_t n = cluster.pods().size();
  std::string out = fmt::format("{} pods in {} workloads, {} {}\n", n, groups.size(), policy_count,
                                policy_count == 1 ? "policy" : "policies");
  if (observed != nullptr) {
    out += fmt::format("evidence: {} ({} joined pod workloads)\n",
                       describe_window(observed->evidence()), observed->flows_joined());
  }
  for (const auto& r : results) {
    out += fmt::format("\n{}: {} of {} pod pairs allowed\n", port_label(r.port), r.planned.count(),
                       n * n);
    out += grouped_pairs(groups, r.planned, nullptr, true);
    if (r.base) {
      const size_t denied = diff_count(*r.base, r.planned);
      const size_t allowed = diff_count(r.planned, *r.base);
      out += fmt::format("{}: {} pod pairs newly denied, {} newly allowed\n", port_label(r.port),
                         denied, allowed);
      if (denied != 0 && observed != nullptr) {
        const auto connections = denied_connections(r, *observed);
        std::string seen, unseen;
        for (const auto& c : connections) {
          (c.seen.count != 0 ? seen : unseen) += fmt::format(
              "  {} -> {} ({} pod {}){}\n", c.from, c.to, c.pairs, c.pairs == 1 ? "pair" : "pairs",
              c.seen.count != 0 ? ": " + describe_seen(c.seen) : "");
        }
        if (!seen.empty()) out += " will break (newly denied, seen in traffic):\n" + seen;
        if (!unseen.empty()) out += " newly denied, never seen in traffic:\n" + unseen;
      } else if (denied != 0) {
        out += " newly denied (unverified: no flow evidence given; --flows tells which are "
               "used):\n" +
               grouped_pairs(groups, *r.base, &r.planned, false);
      }
      if (allowed != 0) {
        out += " newly allowed:\n" + grouped_pairs(groups, r.planned, &*r.base, false);
      }
    }
  }
  return out;
}

void add_junit_cases(report::JUnitReport& junit, const Cluster& cluster,
                     const std::vector<PortResult>& results,
                     const std::vector<std::string>& warnings, const ObservedIndex* observed) {
  // Observed connections that become denied first: each is a failing case of its own.
  std::vector<std::vector<DeniedConnection>> denied(results.size());
  for (size_t i = 0; observed != nullptr && i < results.size(); ++i) {
    if (!results[i].base) continue;
    denied[i] = denied_connections(results[i], *observed);
    for (const auto& c : denied[i]) {
      if (c.seen.count == 0) break; // observed ones come first
      report::TestCase b;
      b.classname = "netpol.analyze.breaking";
      b.name = fmt::format("{} -> {} {}", c.from, c.to, port_label(c.port));
      b.status = report::CaseStatus::failed;
      b.message = "will break: " + describe_seen(c.seen);
      b.detail =
          fmt::format("{} pod {} newly denied; evidence: {}\n", c.pairs,
                      c.pairs == 1 ? "pair" : "pairs", describe_window(observed->evidence()));
      junit.add(std::move(b));
    }
  }
  for (size_t i = 0; i < results.size(); ++i) {
    const auto& r = results[i];
    const size_t n = r.planned.size();
    report::TestCase c;
    c.classname = "netpol.analyze.connectivity";
    c.name = port_label(r.port);
    c.detail = fmt::format("{} of {} pod pairs allowed", r.planned.count(), n * n);
    junit.add(std::move(c));
    if (r.base) {
      report::TestCase d;
      d.classname = "netpol.analyze.diff";
      // With evidence the observed connections are failing cases of their own (above); this
      // case lists the rest as never seen.
      d.name = port_label(r.port) + (observed != nullptr
                                         ? ": no connection seen in traffic becomes denied"
                                         : ": no connection becomes denied");
      const size_t denied_pairs = diff_count(*r.base, r.planned);
      if (denied_pairs != 0 && observed != nullptr) {
        constexpr size_t k_listed = 200;
        size_t listed = 0;
        for (const auto& conn : denied[i]) {
          if (conn.seen.count != 0) continue;
          if (listed++ < k_listed) {
            d.detail += fmt::format("never seen: {} -> {} ({} pod {})\n", conn.from, conn.to,
                                    conn.pairs, conn.pairs == 1 ? "pair" : "pairs");
          }
        }
        if (listed > k_listed) d.detail += fmt::format("... and {} more\n", listed - k_listed);
      } else if (denied_pairs != 0) {
        d.status = report::CaseStatus::failed;
        d.message = fmt::format("{} pod pairs would be newly denied (unverified: no flow "
                                "evidence given)",
                                denied_pairs);
        constexpr size_t k_listed = 200;
        size_t listed = 0;
        const auto& pods = cluster.pods();
        for_each_pair(*r.base, &r.planned, [&](size_t from, size_t to) {
          if (listed++ < k_listed) d.detail += pods[from].id() + " -> " + pods[to].id() + "\n";
        });
        if (listed > k_listed) d.detail += fmt::format("... and {} more\n", listed - k_listed);
      }
      junit.add(std::move(d));
    }
  }
  for (const auto& w : warnings) {
    report::TestCase c;
    c.classname = "netpol.analyze.policies";
    c.name = w;
    c.status = report::CaseStatus::skipped;
    c.message = "not analysed: " + w;
    junit.add(std::move(c));
  }
}

} // namespace netpol::analyze
