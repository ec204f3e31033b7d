// junit-drops.xml: the drop log as test cases for GitLab's test report widget.
#pragma once

#include <cstddef>

#include "droplog/drop_summary.hpp"
#include "report/junit.hpp"

namespace netpol::droplog {

// junit-drops.xml holds at most this many rows (the highest counts); the rest are folded
// into one last failing case that says how many rows and flows it stands for. The other
// views show every row.
inline constexpr size_t k_junit_max_rows = 1000;

// junit-drops.xml: one failing case per row (DROPPED and AUDIT alike), at most
// k_junit_max_rows of them plus one for the rest; a single passing case when there are no rows.
// With coverage, one more case "drop log covers the window": skipped when a source has a gap
// (a gap alone never fails the job), passed otherwise.
report::JUnitReport render_junit(const DropSummary& summary);

} // namespace netpol::droplog
