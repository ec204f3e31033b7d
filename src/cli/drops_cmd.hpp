// `netpol drops`: collects dropped and audited flows into the drop log (SPEC §8).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>

#include "cli/command.hpp"
#include "droplog/collector.hpp"

namespace netpol::cli {

Command drops_command();

// --from-file, --since, -A/--all-namespaces, --fail-on-drops (shared with `run`).
void describe_drops_options(po::options_description& options);

struct DropsOutcome {
  droplog::DropCounts counts;
  size_t rows = 0;      // aggregated rows
  uint64_t dropped = 0; // flows with verdict DROPPED
  uint64_t audited = 0; // flows with verdict AUDIT (would have been dropped)
  bool fail_on_drops = false;
  std::string source; // what was read ("3 cilium agents", a file name)
};

// The files the drop log writes (SPEC §5), on every way out; junit-drops.xml besides.
inline constexpr std::initializer_list<const char*> k_drop_reports = {
    "drop-log.jsonl", "drop-log.txt", "drop-log.html", "drop-summary.json",
    "suggested-policy.yaml"};

// Reads the flows (the Cilium agents' logs, or --from-file), writes every view of the drop log
// (drop-log.jsonl/.txt/.html, drop-summary.json, junit-drops.xml, suggested-policy.yaml) and,
// with `print`, the table (or JSON) to stdout. Fails when the source cannot be read at all or
// an output cannot be written; the views are written first either way. `agents_namespace`
// (detection's answer, for `run`) is where to list the agents when the token may not list pods
// in every namespace; "" = kube-system.
Result<DropsOutcome> drops_step(const po::variables_map& args, Context& ctx, bool print = true,
                                const std::string& agents_namespace = "");

} // namespace netpol::cli
