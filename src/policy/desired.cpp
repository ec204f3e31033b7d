#include "policy/desired.hpp"

#include <filesystem>

namespace netpol::policy {
namespace {

bool is_default_dir(const std::string& path) {
  return path == defaults::k_policy_dir;
}

bool has_profile(const std::string& profile) {
  return !profile.empty() && profile != defaults::k_profile;
}

} // namespace

bool policies_declared(const DesiredOptions& options) {
  std::error_code ec;
  if (!is_default_dir(options.path) || std::filesystem::exists(options.path, ec)) return true;
  return has_profile(options.profile);
}

Result<void> require_identity(const RenderOptions& render) {
  if (render.project_id.empty() || render.environment.empty()) {
    return fail(ErrorCode::config,
                "CI_PROJECT_ID and CI_ENVIRONMENT_SLUG must be set: netpol labels what it "
                "applies with the project and environment");
  }
  return {};
}

Result<DesiredState> build_desired(const DesiredOptions& options, const RenderOptions& render,
                                   const Environment& env, kube::KubeApi& api) {
  if (auto identity = require_identity(render); !identity) return fail(identity.error());

  auto vars = options.vars;
  // Templates see the namespace netpol applies to, even when it came from the kubeconfig.
  if (!vars.count("KUBE_NAMESPACE") && !env.get("KUBE_NAMESPACE"))
    vars["KUBE_NAMESPACE"] = render.namespace_name;
  const TemplateVariables template_vars(env, options.listed_vars, std::move(vars));

  LoadOptions load;
  load.vars = &template_vars;
  LoadResult loaded;
  std::error_code ec;
  // The default directory may be absent (a project without policies of its own; the CI
  // templates always pass NETWORK_POLICY_PATH); any other path must exist.
  bool declared = false;
  if (std::filesystem::exists(options.path, ec) || !is_default_dir(options.path)) {
    loaded = load_policies({options.path}, load);
    declared = true;
  }

  ProfileOptions profile_options;
  profile_options.allowed_namespaces = options.allowed_namespaces;
  if (options.profile == "namespace-isolation") {
    auto groups = api.api_groups();
    if (!groups) return fail(groups.error());
    for (const auto& g : *groups)
      profile_options.knative |= g == "serving.knative.dev";
  }
  auto profile_objects = load_profile(options.profile, &template_vars, profile_options);
  if (!profile_objects) return fail(profile_objects.error());
  for (auto& o : *profile_objects)
    loaded.policies.push_back(std::move(o));

  DesiredState state;
  state.declared = declared || has_profile(options.profile);
  LintOptions lint_options;
  lint_options.default_namespace = render.namespace_name;
  state.check = check_policies(std::move(loaded), lint_options);
  if (state.check.has_errors()) return state;
  auto desired = render_desired(state.check.loaded.policies, render);
  if (!desired) return fail(desired.error());
  state.desired = std::move(*desired);
  for (const auto& p : state.check.loaded.policies)
    state.sources.push_back(p.where());
  return state;
}

} // namespace netpol::policy
