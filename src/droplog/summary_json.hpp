// drop-summary.json (SPEC §8.1): written from a DropSummary, and read back by
// `suggest --from-file drop-summary.json`.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "droplog/drop_summary.hpp"
#include "util/error.hpp"

namespace netpol::droplog {

// drop-summary.json, the SPEC §8.1 shape plus "lines_matched" (lines_read is lines_matched +
// lines_skipped + lines_malformed; flows_matched counts the flows an aggregated event stands
// for) and "coverage" ([{"source","oldest_line","previous_log","gap"}], one per source),
// before "rows". Absent values are null (a non-pod's namespace and pod, a port for ICMP, a
// reason for audit verdicts, times when unknown).
nlohmann::ordered_json summary_to_json(const DropSummary& summary);
// The same JSON as `summary_to_json(summary).dump(2) + "\n"`, byte for byte, one row at a time.
void write_summary_json(const DropSummary& summary, const TextSink& out);
// The reverse, for `suggest --from-file drop-summary.json`; a wrong shape is
// ErrorCode::usage naming `source` and the JSON pointer.
Result<DropSummary> summary_from_json(const nlohmann::json& json, const std::string& source);

} // namespace netpol::droplog
