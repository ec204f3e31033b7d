// `netpol suggest`: NetworkPolicies that would allow the flows of a drop log (SPEC §5).
#pragma once

#include "cli/command.hpp"

namespace netpol::cli {

Command suggest_command();

} // namespace netpol::cli
