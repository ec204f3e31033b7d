// analyze's results in the forms SPEC §11 and §5 name: JSON (stdout and connectivity.json),
// text grouped by workload (stdout and connectivity.txt) and the JUnit cases of
// junit-analyze.xml. Pure formatting: no I/O.
#pragma once

#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "analyze/cluster.hpp"
#include "analyze/engine.hpp"
#include "analyze/observed.hpp"
#include "report/junit.hpp"
#include "util/error.hpp"

namespace netpol::analyze {

// The analysis of one port: allowed pairs under the planned policies and, for a diff, under
// the base policies.
struct PortResult {
  AnalysedPort port;
  ConnectivityMatrix planned;
  std::optional<ConnectivityMatrix> base;
};

// Analyses `port`, or when it is absent every port of ports_of_interest() over the planned and
// base policies together. `base` (may be null) adds the matrix to diff against.
std::vector<PortResult> analyze_ports(const Cluster& cluster, const std::vector<Policy>& planned,
                                      const std::vector<Policy>* base,
                                      std::optional<PortProtocol> port, EngineOptions options);

struct JsonContent {
  bool connectivity = true; // "pods" and "allowed"
  bool diff = false;        // "newly_denied" and "newly_allowed"
  // With evidence: every diff pair carries "observed": N and the object names the window
  // ("evidence": {"since","until","flows_read","files"}).
  const ObservedIndex* observed = nullptr;
};

// A connection the change newly denies, by workload pair and port, with the traffic seen on
// it (seen.count 0: never observed, or no evidence given).
struct DeniedConnection {
  std::string from; // "ns/workload"
  std::string to;
  AnalysedPort port;
  size_t pairs = 0; // pod pairs newly denied
  Seen seen;
};

// The newly denied pod pairs of `result` (which has a base) grouped by workload pair:
// observed ones first (most flows first), then the others by name.
std::vector<DeniedConnection> denied_connections(const PortResult& result,
                                                 const ObservedIndex& observed);

// Every connection seen in traffic that `results` newly deny, over all ports, most flows first.
std::vector<DeniedConnection> will_break(const std::vector<PortResult>& results,
                                         const ObservedIndex& observed);

// --fail-on-breaking: ErrorCode::check_failed naming the first connection of `breaking` and
// how many more; success when it is empty.
Result<void> refuse_breaking(const std::vector<DeniedConnection>& breaking);

// "seen 312 times between 2026-11-26T10:00:00Z and 2026-11-26T10:07:12Z".
std::string describe_seen(const Seen& seen);

// Writes one object for `result` to `out` (no newline), keys in this order:
// {"port":80,"protocol":"TCP","pods":["ns/name",...],"allowed":[{"from":"ns/a","to":"ns/b"},...],
//  "newly_denied":[...],"newly_allowed":[...],"evidence":{...}}; pods and pairs in "ns/name" order.
//  Streamed in
// chunks, not built as a JSON tree or one string: 4,000 pods can mean 600 MB of pairs.
void write_json(std::ostream& out, const Cluster& cluster, const PortResult& result,
                JsonContent content);

// Results as JSON: one object (write_json, then a newline) when `single_object` (stdout with
// --port), otherwise an array of one object per port (connectivity.json is always one).
void write_json_results(std::ostream& out, const Cluster& cluster,
                        const std::vector<PortResult>& results, JsonContent content,
                        bool single_object = false);

// The text view: per port, each source workload and the workloads it may reach ("all pods"
// or "k of n pod pairs"); with a diff, the newly denied and newly allowed workload pairs. With
// evidence (`observed` not null) the newly denied connections seen in traffic come first
// ("will break"), then those never seen; without, the diff says it is unverified.
std::string to_text(const Cluster& cluster, const std::vector<PortResult>& results,
                    size_t policy_count, const ObservedIndex* observed = nullptr);

// JUnit cases: one per port (passed, with the count of allowed pairs); with a diff, one per
// port that fails when pairs become denied (listing them); one skipped case per policy warning.
// With evidence, each newly denied connection seen in traffic is a failing case of its own
// ("will break: seen N times between ..."), listed first, and the per-port case lists the
// unobserved ones and passes.
void add_junit_cases(report::JUnitReport& junit, const Cluster& cluster,
                     const std::vector<PortResult>& results,
                     const std::vector<std::string>& warnings,
                     const ObservedIndex* observed = nullptr);

// "TCP/80", or "TCP/65535 (any port no policy names)" for the other port.
std::string port_label(const AnalysedPort& port);

} // namespace netpol::analyze
