#include "droplog/evidence.hpp"

#include <algorithm>
#include <utility>

#include <fmt/format.h>

#include "droplog/connections.hpp"
#include "droplog/line_parser.hpp"
#include "droplog/source.hpp"
#include "droplog/summary_json.hpp"
#include "util/json.hpp"
#include "util/log.hpp"
#include "util/strings.hpp"

namespace netpol::droplog {
namespace {

constexpr const char* k_expected = "expected Hubble exporter lines, `hubble observe -o jsonpb`, "
                                   "drop-summary.json or flows-summary.json";

// A summary is read whole (its rows are the distinct connections already); far beyond any
// real one.
constexpr size_t k_max_summary_bytes = 256u << 20;

// One file's lines: a whole JSON document (a summary), or flows line by line, decided by the
// first line that is not blank.
class FileReader {
public:
  FileReader(std::string name, ConnectionAggregator& connections, uint64_t& malformed)
      : m_name(std::move(name)), m_connections(connections), m_malformed(malformed),
        m_parser(Verdicts::connections) {}

  void line(std::string_view line) {
    if (m_too_large) return;
    if (m_mode == Mode::undecided) {
      const std::string_view t = trim(line);
      if (t.empty()) return;
      // A summary as netpol writes it starts with "{" alone; on one line (jq -c) it has
      // "rows" and, unlike a flow event, no "flow" key.
      const bool document = t == "{" || (t.front() == '{' && t.find("\"rows\"") != t.npos &&
                                         t.find("\"flow\"") == t.npos);
      m_mode = document ? Mode::document : Mode::lines;
    }
    if (m_mode == Mode::document) {
      if (m_document.size() + line.size() + 1 > k_max_summary_bytes) {
        m_too_large = true;
        m_document.clear();
        return;
      }
      m_document.append(line);
      m_document += '\n';
      return;
    }
    switch (m_parser.parse(line, m_flow)) {
    case LineOutcome::skipped: return;
    case LineOutcome::malformed: ++m_malformed; return;
    case LineOutcome::flow: break;
    }
    ++m_flow_lines;
    const uint64_t n = m_flow.aggregated() ? m_flow.aggregate_ingress + m_flow.aggregate_egress +
                                                 m_flow.aggregate_unknown
                                           : 1;
    m_connections.add(m_flow, n);
  }

  // After the last line: the summary read, or the check that the file held flows.
  Result<void> finish() {
    const std::string name = log::printable(m_name);
    if (m_too_large) {
      return fail(ErrorCode::usage,
                  fmt::format("{}: a JSON document larger than 256 MiB: not a summary netpol "
                              "wrote; give the flow log itself",
                              name));
    }
    if (m_mode != Mode::document) {
      if (m_flow_lines != 0) return {};
      return fail(ErrorCode::usage, fmt::format("{}: no flows found ({})", name, k_expected));
    }
    auto json = parse_json_strict(m_document, name, ErrorCode::usage);
    if (!json) return fail(json.error());
    if (!json->is_object() || !json->contains("rows") || !(*json)["rows"].is_array()) {
      return fail(ErrorCode::usage, fmt::format("{}: no flows found ({})", name, k_expected));
    }
    // flows-summary.json counts the flows it has no row for (ICMP).
    if (const auto n = json->find("flows_without_port");
        n != json->end() && n->is_number_unsigned()) {
      m_connections.count_without_port(n->get<uint64_t>());
    }
    auto summary = summary_from_json(*json, name);
    if (!summary) return fail(summary.error());
    for (size_t i = 0; i < summary->rows.size(); ++i) {
      DropRow& r = summary->rows[i];
      for (const auto* side : {&r.source, &r.destination}) {
        if (side->workload.empty()) {
          return fail(ErrorCode::usage,
                      fmt::format("{}: /rows/{}/{}: \"workload\" must be a non-empty string: "
                                  "give the summary as netpol wrote it",
                                  name, i, side == &r.source ? "source" : "destination"));
        }
      }
      const auto protocol = model::parse_protocol(r.protocol);
      if (r.port == 0 || !protocol) {
        m_connections.count_without_port(r.count);
        continue;
      }
      ConnectionRow row;
      auto& c = row.connection;
      c.source = {r.source.namespace_name, r.source.workload, r.source.pod};
      c.destination = {r.destination.namespace_name, r.destination.workload, r.destination.pod};
      c.port = static_cast<int>(r.port);
      c.protocol = *protocol;
      c.count = r.count;
      c.first_seen = std::move(r.first_seen);
      c.last_seen = std::move(r.last_seen);
      row.first_ns = r.first_ns;
      row.last_ns = r.last_ns;
      m_connections.add(std::move(row));
    }
    return {};
  }

private:
  enum class Mode { undecided, lines, document };

  std::string m_name;
  ConnectionAggregator& m_connections;
  uint64_t& m_malformed;
  LineParser m_parser;
  DropFlow m_flow;
  Mode m_mode = Mode::undecided;
  std::string m_document;
  bool m_too_large = false;
  uint64_t m_flow_lines = 0;
};

} // namespace

Result<model::FlowEvidence> read_evidence(const std::vector<std::string>& paths) {
  if (std::count(paths.begin(), paths.end(), "-") > 1) {
    return fail(ErrorCode::usage,
                "-: standard input is named more than once: give it once, the others as files");
  }
  ConnectionAggregator connections(false);
  uint64_t malformed = 0;
  for (const auto& path : paths) {
    const std::string name = path == "-" ? "standard input" : path;
    FileReader reader(name, connections, malformed);
    FileSource source(path);
    auto read = source.read([&](std::string_view line) { reader.line(line); });
    if (!read) {
      // FileSource names the file (its usage errors say the fix already); a file that cannot
      // be read is the user's to fix.
      if (read.error().code == ErrorCode::usage) return fail(read.error());
      return fail(ErrorCode::usage, fmt::format("{}: give a readable flow file ({})",
                                                log::printable(read.error().message), k_expected));
    }
    if (auto done = reader.finish(); !done) return fail(done.error());
  }
  model::FlowEvidence evidence;
  for (auto& row : connections.rows())
    evidence.connections.push_back(std::move(row.connection));
  evidence.since = connections.earliest();
  evidence.until = connections.latest();
  evidence.flows_read = connections.flows();
  evidence.flows_without_port = connections.flows_without_port();
  evidence.lines_malformed = malformed;
  evidence.files = paths;
  return evidence;
}

} // namespace netpol::droplog
