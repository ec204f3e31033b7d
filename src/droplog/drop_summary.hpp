// The drop log's data (SPEC §8.1): the window, the counts, how far back each source reaches
// and the aggregated rows, which every view of the drop log is written from.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "droplog/aggregate.hpp"
#include "droplog/collector.hpp"
#include "droplog/source.hpp"

namespace netpol::droplog {

struct DropSummary {
  std::string since; // RFC 3339; "" when the window had no start (shown as null)
  std::string until;
  std::vector<std::string> namespaces; // empty = all namespaces
  DropCounts counts;
  // How far back each source reaches (an agent pod's log, a file read with --since); empty
  // when nothing can be told. Shown in every view when one has a gap.
  std::vector<Coverage> coverage;
  DropRows rows; // sorted, count descending
};

// One line per coverage entry with a gap, saying how far back it reaches and since when flows
// may be missing ("kube-system/cilium-abcde reaches back to 2026-11-26T10:03:12Z only: …").
std::vector<std::string> coverage_gaps(const DropSummary& summary);

// Where a view's streaming writer puts its output, piece by piece (a file, a stream, a
// string): a view is never built whole in memory, whatever the number of rows.
using TextSink = std::function<void(std::string_view)>;

// "ns/workload", or the workload alone for non-pods ("world", "host", an IP).
std::string endpoint_name(const FlowEndpoint& endpoint);
// "shop/frontend → shop/db:5432/TCP"
std::string flow_name(const DropRow& row);

} // namespace netpol::droplog
