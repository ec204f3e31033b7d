// Flow files read as evidence for a change preview (SPEC §11, `--flows FILE…`): every
// connection attempt they show, whatever its verdict, aggregated by source and destination
// workload, port and protocol (model::FlowEvidence).
#pragma once

#include <string>
#include <vector>

#include "model/evidence.hpp"
#include "util/error.hpp"

namespace netpol::droplog {

// Reads each path (a file, or "-" for standard input, at most once), detecting its format:
//   - a JSON document with a "rows" array: netpol's drop-summary.json or flows-summary.json,
//     one connection per row with its count and times;
//   - otherwise flows, one per line, as the drop log reads them (Hubble exporter lines, raw
//     or inside a logfmt msg=, `hubble observe -o jsonpb`), with every verdict of a
//     connection attempt (FORWARDED, REDIRECTED, DROPPED, AUDIT); aggregated exporter events
//     count with their counts.
// Flows without a TCP, UDP or SCTP port (ICMP) are counted in flows_without_port, malformed
// lines in lines_malformed; neither is fatal. Files are streamed: memory follows the distinct
// connections. Errors are ErrorCode::usage naming the file: one that cannot be read, "-"
// twice, a summary of the wrong shape, a file in which no line is a flow.
Result<model::FlowEvidence> read_evidence(const std::vector<std::string>& paths);

} // namespace netpol::droplog
