// `netpol remove`: deletes the policies netpol applied for this project and environment.
#pragma once

#include "cli/command.hpp"

namespace netpol::cli {

Command remove_command();

} // namespace netpol::cli
