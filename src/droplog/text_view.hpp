// drop-log.txt, and the table `drops` prints.
#pragma once

#include <limits>
#include <string>

#include "droplog/drop_summary.hpp"

namespace netpol::droplog {

// drop-log.txt: a header line with the window and counts, the coverage gaps if any, then an
// aligned table. With `max_rows`, the rows after the first max_rows are summed up in one last
// line (for the job log: GitLab cuts a job log at 4 MB by default).
void write_text(const DropSummary& summary, const TextSink& out,
                size_t max_rows = std::numeric_limits<size_t>::max());
std::string render_text(const DropSummary& summary);

} // namespace netpol::droplog
