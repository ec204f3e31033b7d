#include "support/run_cli.hpp"

#include <sstream>

#include "cli/cli.hpp"

namespace netpol::test {

CliResult run_cli(const std::vector<std::string>& args, const MapEnvironment& env) {
  std::ostringstream out;
  std::ostringstream err;
  CliResult result;
  result.exit_code = cli::run(args, cli::Io{out, err, env, false});
  result.out = out.str();
  result.err = err.str();
  return result;
}

} // namespace netpol::test
