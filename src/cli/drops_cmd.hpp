// `netpol drops`: collects dropped and audited flows into the drop log (SPEC §8).
#pragma once

#include <string>

#include "cli/command.hpp"
#include "droplog/summary.hpp"
#include "report/junit.hpp"
#include "report/reporter.hpp"

namespace netpol::cli {

Command drops_command();

// --from-file, --since, -A/--all-namespaces, --fail-on-drops, --previous-summary,
// --fail-on-new-drops (shared with `run`).
void describe_drops_options(po::options_description& options);

using droplog::DropsOutcome;
using droplog::k_drop_reports;

// Whether a drop log that failed ends `run` with its error instead of a warning: a check on
// it was asked for (--fail-on-drops or --fail-on-new-drops true, or unparsable; an unreadable
// log must not pass it: fail closed), or the error is the user's input (a bad
// --previous-summary FILE, a bad --since: exit 2).
bool drop_log_failure_ends_run(const po::variables_map& args, const Error& error);

// --fail-on-new-drops on a collected drop log: 0, or the exit code of the failed check (4)
// when rows are new since the previous run. When the previous summary could not be read, no
// row can be shown not to be new: an error (exit 1), after every report was written. Adds
// its case to `junit` (classname `classname`) when given.
Result<int> check_new_drops(const DropsOutcome& outcome, report::Reporter& reporter,
                            report::JUnitReport* junit = nullptr,
                            const std::string& classname = "netpol.drops");

// `drops`' options from the command line, then droplog::collect_drops: every view of the drop
// log and, with `print`, the table (or JSON) on stdout. `agents_namespace` (detection's answer,
// for `run`) is where to list the agents when the token may not list pods in every namespace;
// "" = kube-system.
Result<DropsOutcome> drops_step(const po::variables_map& args, Context& ctx, bool print = true,
                                const std::string& agents_namespace = "");

} // namespace netpol::cli
