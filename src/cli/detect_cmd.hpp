#pragma once

#include "cli/command.hpp"

namespace netpol::cli {

// `netpol detect`: cluster flavour, network provider, enforcement and drop-log capability;
// writes provider.json, netpol.env and junit-detect.xml.
Command detect_command();

} // namespace netpol::cli
