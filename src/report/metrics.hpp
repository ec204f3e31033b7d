// OpenMetrics text for GitLab's metrics report (artifacts:reports:metrics): GitLab shows
// each metric's value and its change against the target branch in the merge request.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace netpol::report {

struct Metric {
  std::string name; // snake_case, "netpol_" prefixed, e.g. "netpol_policies_applied"
  std::string help; // one line
  double value = 0;
  std::map<std::string, std::string> labels;
};

class MetricsReport {
public:
  void add(Metric metric) { m_metrics.push_back(std::move(metric)); }
  // Gauges in OpenMetrics text format, ending with "# EOF". Names of the same metric with
  // different labels share one HELP/TYPE header.
  std::string to_text() const;

private:
  std::vector<Metric> m_metrics;
};

} // namespace netpol::report
