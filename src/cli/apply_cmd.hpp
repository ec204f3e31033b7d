// `netpol apply`: plan, then (depending on --mode and the provider) server-side apply with
// field manager netpol and prune (policy/apply.hpp). The options are shared with `run`.
#pragma once

#include "cli/command.hpp"
#include "cli/policy_options.hpp"
#include "policy/apply.hpp"

namespace netpol::cli {

Command apply_command();

// The policy options (describe_policy_options) plus --force-conflicts and --dry-run.
void describe_apply_options(po::options_description& options);

// Those options as policy::apply takes them (read_plan_options, then the two switches);
// mode and require_enforcement are left for the caller to decide.
Result<policy::ApplyOptions> read_apply_options(const po::variables_map& args, Context& ctx,
                                                NamespaceWhen when = NamespaceWhen::now);

} // namespace netpol::cli
