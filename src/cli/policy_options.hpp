// Options shared by plan, apply, remove and run: where the policies are, the default profile,
// pruning, template variables, and the project/environment identity, parsed into the typed
// options of policy/ (policy/desired.hpp, policy/plan_step.hpp).
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "cli/command.hpp"
#include "policy/plan_step.hpp"

namespace netpol::cli {

// "<what> [NETWORK_POLICY_PATH; default .gitlab/network-policies]": the help of every option
// that names the project's policies, with the default from policy/defaults.hpp.
std::string policy_path_help(const std::string& what);

// --var NAME=VALUE (repeatable) as a map; a value without '=' is ErrorCode::usage.
Result<std::map<std::string, std::string>> template_vars(const po::variables_map& args);

// --template-vars NAME,NAME / NETPOL_TEMPLATE_VARS: the names templates may read besides
// GitLab's non-secret predefined variables; a bad or secret name is ErrorCode::usage.
Result<std::set<std::string>> listed_template_vars(const po::variables_map& args);

// --policies, --default-policy, --allow-namespaces, --prune/--no-prune, --var, --template-vars.
void describe_policy_options(po::options_description& options);
// NETWORK_POLICY_PATH, NETWORK_POLICY_DEFAULT, NETWORK_POLICY_PRUNE, NETPOL_TEMPLATE_VARS.
std::vector<EnvBinding> policy_env();

// The project's identity: CI_PROJECT_ID and CI_ENVIRONMENT_SLUG as they are (build_desired
// requires them), the namespace from ctx (fails as the kubeconfig does; "" with `later`).
Result<policy::RenderOptions> render_options(Context& ctx, NamespaceWhen when = NamespaceWhen::now);

// describe_policy_options' options, the identity and the evidence (--flows, read now), for
// plan_step. Usage errors name the flag (a bad --prune/NETWORK_POLICY_PRUNE, --var,
// --template-vars or --flows file); results are printed.
Result<policy::PlanOptions> read_plan_options(const po::variables_map& args, Context& ctx,
                                              NamespaceWhen when = NamespaceWhen::now);

// policy::policies_declared of --policies and --default-policy.
bool policies_declared(const po::variables_map& args);

} // namespace netpol::cli
