// The subcommand table. Add a subcommand here only when it works: --help lists this table.
#include "cli/analyze_cmd.hpp"
#include "cli/apply_cmd.hpp"
#include "cli/command.hpp"
#include "cli/detect_cmd.hpp"
#include "cli/drops_cmd.hpp"
#include "cli/install_cilium_cmd.hpp"
#include "cli/lint_cmd.hpp"
#include "cli/plan_cmd.hpp"
#include "cli/remove_cmd.hpp"
#include "cli/run_cmd.hpp"
#include "cli/suggest_cmd.hpp"
#include "cli/version_cmd.hpp"

namespace netpol::cli {

std::span<const Command> commands() {
  static const std::vector<Command> table = {
      version_command(), detect_command(), install_cilium_command(),
      lint_command(),    plan_command(),   apply_command(),
      remove_command(),  drops_command(),  suggest_command(),
      analyze_command(), run_command(),
  };
  return table;
}

} // namespace netpol::cli
