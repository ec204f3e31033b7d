// `netpol drops`: collects dropped and audited flows into the drop log (SPEC §8).
#pragma once

#include "cli/command.hpp"

namespace netpol::cli {

Command drops_command();

} // namespace netpol::cli
