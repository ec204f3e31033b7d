// The netpol binary: everything lives in netpol_core; this file only wires the process
// streams, signals and environment to cli::run.
#include <unistd.h>

#include <iostream>
#include <string>
#include <vector>

#include "cli/cli.hpp"
#include "util/cancel.hpp"

int main(int argc, char** argv) {
  netpol::cancel::handle_signals(); // before any thread starts
  std::ios::sync_with_stdio(false);
  std::vector<std::string> args(argv + 1, argv + argc);
  netpol::ProcessEnvironment env;
  netpol::cli::Io io{std::cout, std::cerr, env, ::isatty(STDERR_FILENO) == 1};
  const int code = netpol::cli::run(args, io);
  std::cout.flush();
  return code;
}
