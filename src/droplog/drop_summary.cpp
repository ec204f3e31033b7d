#include "droplog/drop_summary.hpp"

#include <fmt/format.h>

#include "droplog/view_parts.hpp"
#include "util/time.hpp"

namespace netpol::droplog {

std::string endpoint_name(const FlowEndpoint& e) {
  return e.namespace_name.empty() ? e.workload : e.namespace_name + "/" + e.workload;
}

std::vector<std::string> coverage_gaps(const DropSummary& s) {
  std::vector<std::string> out;
  const std::string start = s.since.empty() ? "the window's start" : s.since;
  for (const auto& c : s.coverage) {
    if (!c.gap) continue;
    if (c.oldest_ns) {
      out.push_back(fmt::format("{} reaches back to {} only{}: flows between {} and then may be "
                                "missing",
                                c.source, format_rfc3339(*c.oldest_ns),
                                c.previous_log ? " (its previous container's log included)" : "",
                                start));
    } else {
      out.push_back(fmt::format("{}: no line with a time could be read: flows from {} on may "
                                "be missing",
                                c.source, start));
    }
  }
  return out;
}

std::string flow_name(const DropRow& r) {
  // Appended piece by piece: every view names every row.
  std::string out = endpoint_name(r.source);
  out += " → ";
  out += with_port_brackets(endpoint_name(r.destination));
  out += ':';
  out += port_text(r);
  return out;
}

std::string previous_line(const DropSummary& s) {
  if (!s.previous) return {};
  const PreviousRun& p = *s.previous;
  switch (p.state) {
  case PreviousRun::State::read:
    return fmt::format("{} of {} rows are new since the previous run ({}, until {}, {} row{})",
                       s.new_rows, s.rows.size(), p.source, or_dash(p.until), p.rows,
                       p.rows == 1 ? "" : "s");
  case PreviousRun::State::not_found:
    return fmt::format("{} of {} rows are new since the previous run (no previous run: every "
                       "row is new; none at {})",
                       s.new_rows, s.rows.size(), p.source);
  case PreviousRun::State::unknown:
    return fmt::format("new-ness unknown: the previous run's drop summary could not be read "
                       "({}: {})",
                       p.source, p.problem);
  }
  return {};
}

} // namespace netpol::droplog
