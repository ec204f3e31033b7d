#include "droplog/junit_view.hpp"

#include <algorithm>
#include <vector>

#include <fmt/format.h>

#include "droplog/view_parts.hpp"

namespace netpol::droplog {

namespace {

// "drop log covers the window": passed, or skipped with the gaps (never a failure: a gap says
// the log may be incomplete, not that anything was dropped). None without coverage.
void add_coverage_case(report::JUnitReport& junit, const DropSummary& s) {
  if (s.coverage.empty()) return;
  const auto gaps = coverage_gaps(s);
  const std::string start = s.since.empty() ? "the window's start" : s.since;
  std::string detail;
  for (const auto& g : gaps)
    detail += g + "\n";
  const size_t n = s.coverage.size();
  junit.add(report::TestCase{
      .classname = "netpol.drops",
      .name = "drop log covers the window",
      .status = gaps.empty() ? report::CaseStatus::passed : report::CaseStatus::skipped,
      .message =
          gaps.empty()
              ? fmt::format("{} source{} reach{} back to {}", n, n == 1 ? "" : "s",
                            n == 1 ? "es" : "", start)
              : fmt::format("{} of {} source{} {} not reach back to {}: flows before {} "
                            "oldest line may be missing",
                            gaps.size(), n, n == 1 ? "" : "s", gaps.size() == 1 ? "does" : "do",
                            start, gaps.size() == 1 ? "its" : "their"),
      .detail = std::move(detail),
      .seconds = 0.0,
  });
}

// "compared with the previous run": passed with how many rows are new, or skipped when the
// previous summary could not be read. None without a previous summary.
void add_previous_case(report::JUnitReport& junit, const DropSummary& s) {
  if (!s.previous) return;
  std::string line = previous_line(s);
  junit.add(report::TestCase{
      .classname = "netpol.drops",
      .name = "compared with the previous run",
      .status = s.marks_new() ? report::CaseStatus::passed : report::CaseStatus::skipped,
      .message = line,
      .detail = line,
      .seconds = 0.0,
  });
}

// The rows in the order their cases are written: as sorted, or, compared with a previous run,
// the new rows first (the cases are capped at k_junit_max_rows).
std::vector<size_t> case_order(const DropSummary& s) {
  std::vector<size_t> order(s.rows.size());
  for (size_t i = 0; i < order.size(); ++i)
    order[i] = i;
  if (s.marks_new()) {
    std::stable_partition(order.begin(), order.end(), [&](size_t i) { return s.rows[i].is_new; });
  }
  return order;
}

} // namespace

report::JUnitReport render_junit(const DropSummary& s) {
  report::JUnitReport junit("drops");
  add_coverage_case(junit, s);
  add_previous_case(junit, s);
  if (s.rows.empty()) {
    std::string scope = s.namespaces.empty() ? "all" : s.namespaces.front();
    junit.add(report::TestCase{
        .classname = "netpol.drops." + scope,
        .name = "no dropped or audited flows",
        .status = report::CaseStatus::passed,
        .message = {},
        .detail = {},
        .seconds = 0.0,
    });
    return junit;
  }
  const size_t shown = std::min(s.rows.size(), k_junit_max_rows);
  const std::vector<size_t> order = case_order(s);
  for (size_t i = 0; i < shown; ++i) {
    const DropRow& r = s.rows[order[i]];
    const std::string& ns = !r.destination.namespace_name.empty() ? r.destination.namespace_name
                                                                  : r.source.namespace_name;
    const bool audit = r.verdict == "AUDIT";
    std::string why = r.reason;
    if (!r.policies.empty()) why += (why.empty() ? "policy " : ", policy ") + policies_text(r);
    std::string message = fmt::format(
        "{}{} flow{} {}{}", r.is_new ? "new since the previous run: " : "", r.count,
        r.count == 1 ? "" : "s", audit ? "would have been dropped (audit mode)" : "dropped",
        why.empty() ? "" : " (" + why + ")");
    std::string detail = fmt::format(
        "{}\nsource: {}{}\ndestination: {}{}\nfirst seen: {}\nlast seen: {}", message,
        endpoint_name(r.source), r.source.pod.empty() ? "" : " (pod " + r.source.pod + ")",
        endpoint_name(r.destination),
        r.destination.pod.empty() ? "" : " (pod " + r.destination.pod + ")", or_dash(r.first_seen),
        or_dash(r.last_seen));
    junit.add(report::TestCase{
        .classname = "netpol.drops." + (ns.empty() ? std::string("cluster") : ns),
        .name = fmt::format("{}{} {} {} ({})", r.is_new ? "new: " : "", r.verdict, r.direction,
                            flow_name(r), or_dash(r.reason)),
        .status = report::CaseStatus::failed,
        .message = std::move(message),
        .detail = std::move(detail),
        .seconds = 0.0,
    });
  }
  if (shown < s.rows.size()) {
    // GitLab's widget lists every case; thousands of them hide what matters and make a
    // report of tens of MB. The rest stay countable here and visible in the other views.
    uint64_t flows = 0;
    for (size_t i = shown; i < s.rows.size(); ++i)
      flows += s.rows[order[i]].count;
    const size_t rest = s.rows.size() - shown;
    std::string message =
        fmt::format("{} more row{} not shown ({} flow{}): see drop-log.txt, drop-log.html or "
                    "drop-summary.json",
                    rest, rest == 1 ? "" : "s", flows, flows == 1 ? "" : "s");
    junit.add(report::TestCase{
        .classname = "netpol.drops",
        .name = fmt::format("{} more rows not shown", rest),
        .status = report::CaseStatus::failed,
        .message = message,
        .detail = message,
        .seconds = 0.0,
    });
  }
  return junit;
}

} // namespace netpol::droplog
