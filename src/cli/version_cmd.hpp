#pragma once

#include "cli/command.hpp"

namespace netpol::cli {

// `netpol version`: version, git revision, linked library versions.
Command version_command();

} // namespace netpol::cli
