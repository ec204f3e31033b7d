// `netpol drops`: collects dropped and audited flows into the drop log (SPEC §8).
#pragma once

#include <string>

#include "cli/command.hpp"
#include "droplog/summary.hpp"

namespace netpol::cli {

Command drops_command();

// --from-file, --since, -A/--all-namespaces, --fail-on-drops (shared with `run`).
void describe_drops_options(po::options_description& options);

using droplog::DropsOutcome;
using droplog::k_drop_reports;

// `drops`' options from the command line, then droplog::collect_drops: every view of the drop
// log and, with `print`, the table (or JSON) on stdout. `agents_namespace` (detection's answer,
// for `run`) is where to list the agents when the token may not list pods in every namespace;
// "" = kube-system.
Result<DropsOutcome> drops_step(const po::variables_map& args, Context& ctx, bool print = true,
                                const std::string& agents_namespace = "");

} // namespace netpol::cli
