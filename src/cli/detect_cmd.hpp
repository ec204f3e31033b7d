#pragma once

#include "cli/command.hpp"
#include "detect/detection.hpp"

namespace netpol::cli {

// `netpol detect`: cluster flavour, network provider, enforcement and drop-log capability;
// writes provider.json, netpol.env and junit-detect.xml.
Command detect_command();

// detect::detect_and_report with this context's cluster, its kubeconfig context as a hint,
// and Cilium's supported lines as the version check: the detection phase `detect` and `run`
// share. `require_enforcement` only decides whether a non-enforcing provider is a failed or
// a skipped JUnit case; callers decide the exit code.
Result<detect::Detection> detect_and_report(Context& ctx, bool require_enforcement);

} // namespace netpol::cli
