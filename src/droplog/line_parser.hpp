// Reads one line of a Cilium agent log, a Hubble exporter file or `hubble observe -o jsonpb`
// output and, when it is a dropped or audited flow (or, with Verdicts::connections, any
// connection attempt), reduces it to a DropFlow.
//
// Accepted line shapes (research: Hubble exporter and observer output):
//   {"flow":{...},"node_name":"...","time":"..."}      exporter / GetFlowsResponse (jsonpb)
//   {"time":"...","verdict":"DROPPED",...}             a bare Flow (hubble observe -o json, legacy)
//   time=... level=info msg="{\"flow\":{...}}" ...     exporter event inside an agent log line
// each optionally preceded by the RFC 3339 timestamp that `pods/log?timestamps=true` adds.
// An aggregated exporter event (Cilium 1.19+ `fieldAggregate`) has the same shape plus
// flow.aggregate, the number of flows it stands for (DropFlow::aggregate_*).
//
// The parser is built for hundreds of MB per second: a line is fully parsed only when a
// cheap scan finds a "verdict" key whose value is DROPPED or AUDIT. So:
//   - flow:      a DROPPED/AUDIT flow, parsed into `flow`; event_json() is its JSON object;
//   - skipped:   anything else that is not evidently broken (agent log lines, other verdicts,
//                node_status / lost_events events);
//   - malformed: a line that claims a DROPPED/AUDIT verdict but is not a valid Hubble flow
//                event, or a JSON object line cut short (no closing brace). Never fatal.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "droplog/flow.hpp"

namespace netpol::droplog {

enum class LineOutcome { flow, skipped, malformed };

// Which flows a parser reads: the drop log's (DROPPED, AUDIT), or every connection attempt
// (FORWARDED and REDIRECTED too: flows-summary.json, flow evidence). Other verdicts (TRACED,
// TRANSLATED, ERROR) are observation points or failures, not attempts, and are skipped.
enum class Verdicts { drops, connections };

// The time of the "2026-11-26T10:00:00.123456789Z " prefix `pods/log?timestamps=true` puts
// before a line (the time the container runtime received it), in nanoseconds since the epoch;
// nullopt when the line has no such prefix.
std::optional<int64_t> log_line_time(std::string_view line);

class LineParser {
public:
  explicit LineParser(Verdicts verdicts = Verdicts::drops);
  ~LineParser();
  LineParser(const LineParser&) = delete;
  LineParser& operator=(const LineParser&) = delete;

  // Classifies `line` (without its '\n'; a trailing '\r' is ignored). On `flow`, `flow`
  // holds the parsed flow (its previous content is replaced). Not thread-safe: one parser
  // per thread.
  LineOutcome parse(std::string_view line, DropFlow& flow);

  // The event as a JSON object (the whole exporter event, unescaped when it came inside a
  // logfmt msg=), valid until the next parse(); set after a `flow` outcome.
  std::string_view event_json() const { return m_event_json; }

  // With Verdicts::connections: a FORWARDED or REDIRECTED line that contains none of
  // `needles` is skipped unparsed (a collector of some namespaces' flows passes their names:
  // a flow of those namespaces names one). Empty: every such line is parsed.
  void connections_only_with(std::vector<std::string> needles) { m_needles = std::move(needles); }

  // The last line's outcome as a Verdicts::drops parser classifies it (the same as parse()'s
  // for such a parser): a Verdicts::connections parser counts the drop log exactly as before.
  LineOutcome drop_outcome() const { return m_drop_outcome; }

private:
  LineOutcome parse_line(std::string_view line, DropFlow& flow);

  struct Impl;
  std::unique_ptr<Impl> m_impl;
  std::string_view m_event_json;
  bool m_connections = false;
  std::vector<std::string> m_needles;
  LineOutcome m_drop_outcome = LineOutcome::skipped;
  bool m_drop_scan = false;    // the scan found DROPPED or AUDIT
  bool m_cut_short = false;    // a JSON line without its closing brace
  bool m_verdict_read = false; // the flow's fields were read (its verdict is known)
};

} // namespace netpol::droplog
