// Options shared by plan, apply and remove: where the policies are, the default profile,
// pruning, and the project/environment identity; and the step that turns them into the
// checked, rendered desired objects.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/command.hpp"
#include "kube/api.hpp"
#include "policy/check.hpp"
#include "policy/profiles.hpp"

namespace netpol::cli {

// NETWORK_POLICY_PATH's default (SPEC §4).
inline constexpr const char* k_default_policy_dir = ".gitlab/network-policies";

// --var NAME=VALUE (repeatable) as a map; a value without '=' is ErrorCode::usage.
Result<std::map<std::string, std::string>> template_vars(const po::variables_map& args);

// --template-vars NAME,NAME / NETPOL_TEMPLATE_VARS: the names templates may read besides
// GitLab's non-secret predefined variables; a bad or secret name is ErrorCode::usage.
Result<std::set<std::string>> listed_template_vars(const po::variables_map& args);

// --policies, --default-policy, --allow-namespaces, --prune/--no-prune, --var, --template-vars.
void describe_policy_options(po::options_description& options);
// NETWORK_POLICY_PATH, NETWORK_POLICY_DEFAULT, NETWORK_POLICY_PRUNE, NETPOL_TEMPLATE_VARS.
std::vector<EnvBinding> policy_env();

// Project and environment from CI_PROJECT_ID / CI_ENVIRONMENT_SLUG, namespace from ctx.
Result<policy::RenderOptions> render_options(Context& ctx);
bool prune_enabled(const po::variables_map& args);
// Does the project declare anything: a policy directory (the default .gitlab/network-policies
// only when it exists) or a default profile? A --policies path other than the default counts
// even when missing, so that a typo is an error rather than "no policies".
bool policies_declared(const po::variables_map& args);

struct DesiredState {
  policy::CheckReport check;           // load + validate + lint of files and profile
  std::vector<nlohmann::json> desired; // rendered (empty when check.has_errors())
  std::vector<std::string> sources;    // "file:line" each desired object was read from
  policy::RenderOptions render;
  // False when neither a policy directory nor a default profile is there (the default
  // directory is missing and NETWORK_POLICY_DEFAULT is none): then an empty desired set
  // means "not declared here", not "delete everything", and apply does not prune.
  bool declared = false;
};

// Loads the project's policies (a missing default directory is no policies) and the default
// profile (Knative looked up through `api` for namespace-isolation), validates, lints and
// renders them. Writes nothing. Fails only for configuration problems; invalid policies show
// in check.has_errors().
Result<DesiredState> build_desired(const po::variables_map& args, Context& ctx, kube::KubeApi& api);

} // namespace netpol::cli
