// `netpol apply`: plan, then (depending on --mode and the provider) server-side apply with
// field manager netpol and prune.
#pragma once

#include "cli/command.hpp"

namespace netpol::cli {

Command apply_command();

} // namespace netpol::cli
