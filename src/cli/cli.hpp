// Entry point of the command line. src/main.cpp only calls run(); tests call it in-process.
#pragma once

#include <string>
#include <vector>

#include "cli/context.hpp"

namespace netpol::cli {

// Parses `args` (without argv[0]), dispatches to the subcommand and returns the process
// exit code (SPEC §3): 0 ok, 1 runtime failure, 2 usage or configuration error, 3 invalid
// policies, 4 a requested check failed. Errors are printed to io.err as one line.
int run(const std::vector<std::string>& args, Io io);

} // namespace netpol::cli
