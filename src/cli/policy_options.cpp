#include "cli/policy_options.hpp"

#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include <fmt/format.h>

namespace netpol::cli {
namespace {

std::string string_arg(const po::variables_map& args, const char* name, const std::string& def) {
  return args.count(name) ? args[name].as<std::string>() : def;
}

} // namespace

void describe_policy_options(po::options_description& options) {
  // clang-format off
  options.add_options()
    ("policies", po::value<std::string>()->value_name("PATH"),
     "directory or file of the project's policies [NETWORK_POLICY_PATH; default .gitlab/network-policies]")
    ("default-policy", po::value<std::string>()->value_name("PROFILE"),
     "default profile added: none, gitlab, namespace-isolation [NETWORK_POLICY_DEFAULT; default none]")
    ("allow-namespaces", po::value<std::string>()->value_name("NS,NS"),
     "namespace-isolation: namespaces allowed in (default ingress-nginx,gitlab-managed-apps,monitoring)")
    ("prune", po::value<std::string>()->value_name("BOOL")->implicit_value("true"),
     "delete objects applied earlier for this project+environment that are no longer declared [NETWORK_POLICY_PRUNE; default true]")
    ("no-prune", po::bool_switch(), "do not prune")
    ("var", po::value<std::vector<std::string>>()->value_name("NAME=VALUE"),
     "template variable, over the environment (repeatable)")
    ("template-vars", po::value<std::string>()->value_name("NAME,NAME"),
     "variables templates may read besides GitLab's non-secret predefined ones [NETPOL_TEMPLATE_VARS]");
  // clang-format on
}

std::vector<EnvBinding> policy_env() {
  return {{"policies", "NETWORK_POLICY_PATH"},
          {"default-policy", "NETWORK_POLICY_DEFAULT"},
          {"prune", "NETWORK_POLICY_PRUNE"},
          {"template-vars", "NETPOL_TEMPLATE_VARS"}};
}

bool prune_enabled(const po::variables_map& args) {
  if (args.count("no-prune") && args["no-prune"].as<bool>()) return false;
  if (!args.count("prune")) return true;
  auto v = parse_bool(args["prune"].as<std::string>(), "--prune");
  return v.value_or(true);
}

Result<std::map<std::string, std::string>> template_vars(const po::variables_map& args) {
  std::map<std::string, std::string> vars;
  if (!args.count("var")) return vars;
  for (const auto& v : args["var"].as<std::vector<std::string>>()) {
    const size_t eq = v.find('=');
    if (eq == std::string::npos || eq == 0)
      return fail(ErrorCode::usage, "--var " + v + ": expected NAME=VALUE");
    vars[v.substr(0, eq)] = v.substr(eq + 1);
  }
  return vars;
}

Result<std::set<std::string>> listed_template_vars(const po::variables_map& args) {
  if (!args.count("template-vars")) return std::set<std::string>{};
  return policy::parse_template_var_list(args["template-vars"].as<std::string>(),
                                         "--template-vars/NETPOL_TEMPLATE_VARS");
}

bool policies_declared(const po::variables_map& args) {
  std::error_code ec;
  const std::string path = string_arg(args, "policies", k_default_policy_dir);
  if (path != k_default_policy_dir || std::filesystem::exists(path, ec)) return true;
  const std::string profile = string_arg(args, "default-policy", "none");
  return !profile.empty() && profile != "none";
}

Result<policy::RenderOptions> render_options(Context& ctx) {
  policy::RenderOptions r;
  r.project_id = ctx.getenv("CI_PROJECT_ID").value_or("");
  r.environment = ctx.getenv("CI_ENVIRONMENT_SLUG").value_or("");
  auto ns = ctx.namespace_name();
  if (!ns) return fail(ns.error());
  r.namespace_name = *ns;
  if (r.project_id.empty() || r.environment.empty()) {
    return fail(ErrorCode::config,
                "CI_PROJECT_ID and CI_ENVIRONMENT_SLUG must be set: netpol labels what it "
                "applies with the project and environment");
  }
  return r;
}

Result<DesiredState> build_desired(const po::variables_map& args, Context& ctx,
                                   kube::KubeApi& api) {
  if (args.count("prune")) {
    auto p = parse_bool(args["prune"].as<std::string>(), "--prune/NETWORK_POLICY_PRUNE");
    if (!p) return fail(p.error());
  }
  auto render = render_options(ctx);
  if (!render) return fail(render.error());

  auto parsed = template_vars(args);
  if (!parsed) return fail(parsed.error());
  auto vars = std::move(*parsed);
  // Templates see the namespace netpol applies to, even when it came from the kubeconfig.
  if (!vars.count("KUBE_NAMESPACE") && !ctx.getenv("KUBE_NAMESPACE"))
    vars["KUBE_NAMESPACE"] = render->namespace_name;
  auto listed = listed_template_vars(args);
  if (!listed) return fail(listed.error());
  const policy::TemplateVariables env(ctx.env(), std::move(*listed), std::move(vars));

  policy::LoadOptions load;
  load.vars = &env;
  const std::string path = string_arg(args, "policies", k_default_policy_dir);
  policy::LoadResult loaded;
  std::error_code ec;
  // The default directory may be absent (a project without policies of its own; the CI
  // templates always pass NETWORK_POLICY_PATH); any other path must exist.
  bool declared = false;
  if (std::filesystem::exists(path, ec) || path != k_default_policy_dir) {
    loaded = policy::load_policies({path}, load);
    declared = true;
  }

  const std::string profile = string_arg(args, "default-policy", "none");
  policy::ProfileOptions profile_options;
  if (args.count("allow-namespaces")) {
    std::stringstream ss(args["allow-namespaces"].as<std::string>());
    std::string ns;
    while (std::getline(ss, ns, ','))
      if (!ns.empty()) profile_options.allowed_namespaces.push_back(ns);
  }
  if (profile == "namespace-isolation") {
    auto groups = api.api_groups();
    if (!groups) return fail(groups.error());
    for (const auto& g : *groups)
      profile_options.knative |= g == "serving.knative.dev";
  }
  auto profile_objects = policy::load_profile(profile, &env, profile_options);
  if (!profile_objects) return fail(profile_objects.error());
  for (auto& o : *profile_objects)
    loaded.policies.push_back(std::move(o));

  DesiredState state;
  state.render = *render;
  state.declared = declared || (!profile.empty() && profile != "none");
  policy::LintOptions lint_options;
  lint_options.default_namespace = render->namespace_name;
  state.check = policy::check_policies(std::move(loaded), lint_options);
  if (state.check.has_errors()) return state;
  auto desired = policy::render_desired(state.check.loaded.policies, *render);
  if (!desired) return fail(desired.error());
  state.desired = std::move(*desired);
  for (const auto& p : state.check.loaded.policies)
    state.sources.push_back(p.where());
  return state;
}

} // namespace netpol::cli
