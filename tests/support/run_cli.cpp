#include "support/run_cli.hpp"

#include <iostream>
#include <sstream>

#include "cli/cli.hpp"
#include "util/log.hpp"

namespace netpol::test {

CliResult run_cli(const std::vector<std::string>& args, const MapEnvironment& env) {
  std::ostringstream out;
  std::ostringstream err;
  CliResult result;
  result.exit_code = cli::run(args, cli::Io{out, err, env, false});
  // cli::run points the default logger at `err`, which dies here: later tests that log
  // (at the level this run chose) would write through a dangling stream.
  log::configure(std::cerr, spdlog::level::warn);
  result.out = out.str();
  result.err = err.str();
  return result;
}

} // namespace netpol::test
