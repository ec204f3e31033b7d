// `netpol lint PATH…`: offline parse, API validation and lint of policy files.
#pragma once

#include "cli/command.hpp"

namespace netpol::cli {

Command lint_command();

} // namespace netpol::cli
