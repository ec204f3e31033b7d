// `netpol plan`: renders the desired policies, validates and lints them, and diffs them
// against the cluster; changes nothing (policy/plan_step.hpp).
#pragma once

#include "cli/command.hpp"

namespace netpol::cli {

Command plan_command();

} // namespace netpol::cli
