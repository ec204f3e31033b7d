#include "cli/policy_options.hpp"

#include <sstream>

#include "cli/evidence_options.hpp"

namespace netpol::cli {
namespace {

std::string string_arg(const po::variables_map& args, const char* name, const std::string& def) {
  return args.count(name) ? args[name].as<std::string>() : def;
}

// --policies, --default-policy and --allow-namespaces (no usage errors among them).
policy::DesiredOptions desired_sources(const po::variables_map& args) {
  policy::DesiredOptions o;
  o.path = string_arg(args, "policies", policy::defaults::k_policy_dir);
  o.profile = string_arg(args, "default-policy", policy::defaults::k_profile);
  if (args.count("allow-namespaces")) {
    std::stringstream ss(args["allow-namespaces"].as<std::string>());
    std::string ns;
    while (std::getline(ss, ns, ','))
      if (!ns.empty()) o.allowed_namespaces.push_back(ns);
  }
  return o;
}

// --no-prune wins over --prune[=BOOL] and NETWORK_POLICY_PRUNE, whose value must be a boolean
// either way.
Result<bool> prune_option(const po::variables_map& args) {
  bool prune = policy::defaults::k_prune;
  if (args.count("prune")) {
    auto p = parse_bool(args["prune"].as<std::string>(), "--prune/NETWORK_POLICY_PRUNE");
    if (!p) return fail(p.error());
    prune = *p;
  }
  if (args.count("no-prune") && args["no-prune"].as<bool>()) prune = false;
  return prune;
}

} // namespace

std::string policy_path_help(const std::string& what) {
  return what + " [NETWORK_POLICY_PATH; default " + policy::defaults::k_policy_dir + "]";
}

void describe_policy_options(po::options_description& options) {
  // clang-format off
  options.add_options()
    ("policies", po::value<std::string>()->value_name("PATH"),
     policy_path_help("directory or file of the project's policies").c_str())
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
  return policy::policies_declared(desired_sources(args));
}

Result<policy::RenderOptions> render_options(Context& ctx, NamespaceWhen when) {
  policy::RenderOptions r;
  r.project_id = ctx.getenv("CI_PROJECT_ID").value_or("");
  r.environment = ctx.getenv("CI_ENVIRONMENT_SLUG").value_or("");
  if (when == NamespaceWhen::later) return r;
  auto ns = ctx.namespace_name();
  if (!ns) return fail(ns.error());
  r.namespace_name = *ns;
  return r;
}

Result<policy::PlanOptions> read_plan_options(const po::variables_map& args, Context& ctx,
                                              NamespaceWhen when) {
  policy::PlanOptions o;
  auto prune = prune_option(args);
  if (!prune) return fail(prune.error());
  o.prune = *prune;
  o.desired = desired_sources(args);
  auto vars = template_vars(args);
  if (!vars) return fail(vars.error());
  o.desired.vars = std::move(*vars);
  auto listed = listed_template_vars(args);
  if (!listed) return fail(listed.error());
  o.desired.listed_vars = std::move(*listed);
  auto render = render_options(ctx, when);
  if (!render) return fail(render.error());
  o.render = std::move(*render);
  auto evidence = read_evidence_options(args, ctx);
  if (!evidence) return fail(evidence.error());
  o.evidence = std::move(evidence->evidence);
  o.fail_on_breaking = evidence->fail_on_breaking;
  return o;
}

} // namespace netpol::cli
