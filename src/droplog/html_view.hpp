// drop-log.html.
#pragma once

#include <string>

#include "droplog/drop_summary.hpp"

namespace netpol::droplog {

// drop-log.html: one page with inline CSS and a few lines of JS to sort by any column.
void write_html(const DropSummary& summary, const TextSink& out);
std::string render_html(const DropSummary& summary);

} // namespace netpol::droplog
