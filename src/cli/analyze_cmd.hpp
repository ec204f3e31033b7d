#pragma once

#include "cli/command.hpp"

namespace netpol::cli {

// `netpol analyze`: the connectivity matrix (which pod may reach which pod:port) under
// planned policies, and its diff against base policies (SPEC §11).
Command analyze_command();

} // namespace netpol::cli
