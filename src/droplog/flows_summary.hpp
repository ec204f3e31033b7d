// flows-summary.json: every connection attempt the drop log's source showed in the window
// and the selected namespaces, whatever its verdict (FORWARDED too), by verdict, source
// workload and destination workload:port/protocol. The evidence `--flows` reads
// (droplog/evidence.hpp) as a small file, where the flow log itself is large.
#pragma once

#include "droplog/connections.hpp"
#include "droplog/drop_summary.hpp"

namespace netpol::droplog {

// {"since","until","namespaces","lines_read","flows","flows_without_port","rows":[{"verdict",
// "source":{"namespace","workload","pod"},"destination":{…},"port","protocol","count",
// "first_seen","last_seen"}]}: the window, namespaces and lines read as in drop-summary.json
// (`summary`), the rows of `connections` (count descending, then key), one per line. A
// non-pod's namespace and pod, and unknown times, are null.
void write_flows_summary(const DropSummary& summary, const ConnectionAggregator& connections,
                         const TextSink& out);

} // namespace netpol::droplog
