// What `run` reports about itself as it goes: the state of each step for junit-run.xml, the
// job log's summary (or JSON) and metrics.txt.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "detect/detection.hpp"
#include "droplog/summary.hpp"
#include "policy/apply.hpp"
#include "report/junit.hpp"
#include "report/metrics.hpp"
#include "report/session.hpp"
#include "util/error.hpp"

namespace netpol::pipeline {

inline constexpr const char* k_run_classname = "netpol.run";

// The job's state as it goes, for the reports written at every exit.
struct RunState {
  explicit RunState(report::JUnitReport& run_junit) : junit(run_junit) {}
  report::JUnitReport& junit; // junit-run.xml, written by the session's report set
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  bool installed = false;
  std::optional<detect::Detection> detection;
  std::string policies_line = "not run";
  std::optional<policy::ApplyOutcome> applied;
  std::string drops_line = "not run";
  std::optional<droplog::DropsOutcome> drops;
};

double seconds_since(std::chrono::steady_clock::time_point t);

// metrics.txt (SPEC §5) with what happened so far.
Result<void> write_metrics(const RunState& state, const report::Session& session);

// The one summary of the job log, or JSON with --format json; after detection only.
void print_summary(const RunState& state, policy::PolicyMode mode, int exit,
                   const report::Session& session);

} // namespace netpol::pipeline
