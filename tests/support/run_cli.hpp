// Runs the command line in-process with captured streams and a chosen environment.
#pragma once

#include <string>
#include <vector>

#include "util/env.hpp"

namespace netpol::test {

struct CliResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

CliResult run_cli(const std::vector<std::string>& args, const MapEnvironment& env = {});

} // namespace netpol::test
