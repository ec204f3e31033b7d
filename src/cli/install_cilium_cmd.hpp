#pragma once

#include "cli/command.hpp"

namespace netpol::cli {

// `netpol install-cilium`: its options (cilium_options.hpp), then
// cilium::install_with_metrics: detect the platform, decide the Helm values, run
// `helm upgrade --install`, wait until Cilium is healthy, verify its configuration, and list
// (or restart) the pods it does not manage yet.
Command install_cilium_command();

} // namespace netpol::cli
