// The subcommand table. Add a subcommand here only when it works: --help lists this table.
#include "cli/command.hpp"
#include "cli/version_cmd.hpp"

namespace netpol::cli {

std::span<const Command> commands() {
  static const std::vector<Command> table = {
      version_command(),
  };
  return table;
}

} // namespace netpol::cli
