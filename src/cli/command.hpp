// The subcommand table: one entry per implemented subcommand drives dispatch and --help.
// Each subcommand lives in its own file pair (cli/<verb>_cmd.cpp) and exposes a Command.
#pragma once

#include <span>
#include <string>
#include <vector>

#include <boost/program_options.hpp>

#include "cli/context.hpp"
#include "util/error.hpp"

namespace netpol::cli {

namespace po = boost::program_options;

// Columns of --help (program_options wraps at 80 by default, splitting variable names).
inline constexpr unsigned k_help_width = 100;

// An option whose value falls back to an environment variable (SPEC §4: a flag wins over
// its variable).
struct EnvBinding {
  const char* option;   // long option name, e.g. "mode"
  const char* variable; // e.g. "NETWORK_POLICY_MODE"
};

struct Command {
  const char* name;    // "detect"
  const char* summary; // one line for `netpol --help`
  const char* usage;   // "detect [options]"
  const char* help;    // paragraph(s) for `netpol <name> --help`: what it does, examples
  bool needs_cluster;  // false: runs with no kubeconfig at all (version, lint, suggest)
  // Adds the subcommand's own options and positional arguments (may be null).
  void (*describe)(po::options_description& options,
                   po::positional_options_description& positional);
  std::vector<EnvBinding> env;
  // Runs the subcommand. Returns the exit code for success paths (0, or 4 for a failed
  // check); an Error is printed as one line and mapped to its exit code by the caller.
  Result<int> (*run)(const po::variables_map& args, Context& ctx);
};

// Runs `command` with parsed `args` as the dispatcher does: the command, then its reports
// (SPEC §5) on every way out, an exception included. Returns the command's result, or the
// failure to write its reports.
Result<int> run_command(const Command& command, const po::variables_map& args, Context& ctx);

// Every implemented subcommand, in the order --help lists them.
std::span<const Command> commands();

// Parses "true/false/1/0/yes/no/on/off" (CI variables are strings); `what` names the source.
Result<bool> parse_bool(const std::string& text, const std::string& what);

} // namespace netpol::cli
