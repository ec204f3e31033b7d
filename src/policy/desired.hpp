// The desired state of `plan`, `apply` and `run`: the project's policy files and the default
// profile, loaded with their templates expanded, validated, linted and rendered for this
// project and environment — everything checked before anything is compared or written.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kube/api.hpp"
#include "policy/check.hpp"
#include "policy/defaults.hpp"
#include "policy/profiles.hpp"
#include "util/env.hpp"
#include "util/error.hpp"

namespace netpol::policy {

// Where the desired policies come from.
struct DesiredOptions {
  std::string path = defaults::k_policy_dir; // a directory or file (NETWORK_POLICY_PATH)
  std::string profile = defaults::k_profile; // default profile added (NETWORK_POLICY_DEFAULT)
  // namespace-isolation: namespaces allowed in (empty = the profile's own list).
  std::vector<std::string> allowed_namespaces;
  std::map<std::string, std::string> vars; // template variables, over the environment
  std::set<std::string> listed_vars;       // names templates may read besides GitLab's predefined
};

// Does the project declare anything: a policy directory (the default one only when it
// exists) or a default profile? A path other than the default counts even when missing, so
// that a typo is an error rather than "no policies".
bool policies_declared(const DesiredOptions& options);

// netpol labels what it applies with the project and environment: both must be set
// (ErrorCode::config naming CI_PROJECT_ID and CI_ENVIRONMENT_SLUG otherwise).
Result<void> require_identity(const RenderOptions& render);

struct DesiredState {
  CheckReport check;                   // load + validate + lint of files and profile
  std::vector<nlohmann::json> desired; // rendered (empty when check.has_errors())
  std::vector<std::string> sources;    // "file:line" each desired object was read from
  // False when neither a policy directory nor a default profile is there (the default
  // directory is missing and the profile is none): then an empty desired set means "not
  // declared here", not "delete everything", and apply does not prune.
  bool declared = false;
};

// Loads the policies (a missing default directory is no policies) and the default profile
// (Knative looked up through `api` for namespace-isolation), with templates reading `env`
// under options.vars (KUBE_NAMESPACE defaults to render.namespace_name), then validates, lints
// and renders them for `render`. Writes nothing. Fails only for configuration problems (no
// identity, an unknown profile, discovery failing); invalid policies show in
// check.has_errors().
Result<DesiredState> build_desired(const DesiredOptions& options, const RenderOptions& render,
                                   const Environment& env, kube::KubeApi& api);

} // namespace netpol::policy
