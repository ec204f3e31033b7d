#pragma once

#include "cli/command.hpp"

namespace netpol::cli {

// `netpol run`: what the CI job runs — detect, install Cilium when asked, apply or skip
// policies by mode, collect the drop log, and write every report with one summary.
Command run_command();

} // namespace netpol::cli
