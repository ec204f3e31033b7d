#include "cli/lint_cmd.hpp"

#include "cli/policy_options.hpp"
#include "policy/defaults.hpp"
#include "policy/lint_files.hpp"

namespace netpol::cli {
namespace {

void describe_lint(po::options_description& options,
                   po::positional_options_description& positional) {
  // clang-format off
  options.add_options()
    ("path", po::value<std::vector<std::string>>()->value_name("PATH"),
     policy_path_help("policy files or directories").c_str())
    ("pods-from", po::value<std::vector<std::string>>()->value_name("FILE"),
     "workload manifests (Pod, Deployment, ..., Namespace) for the checks that need to know the pods")
    ("pod-cidr", po::value<std::vector<std::string>>()->value_name("CIDR"),
     "the cluster's pod CIDR, for the ipblock-covers-pod-cidr check (repeatable)")
    ("var", po::value<std::vector<std::string>>()->value_name("NAME=VALUE"),
     "template variable, over the environment (repeatable)")
    ("template-vars", po::value<std::string>()->value_name("NAME,NAME"),
     "variables templates may read besides GitLab's non-secret predefined ones [NETPOL_TEMPLATE_VARS]")
    ("strict", po::bool_switch(), "warnings fail too (exit 4)");
  // clang-format on
  positional.add("path", -1);
}

std::vector<std::string> strings(const po::variables_map& args, const char* name) {
  return args.count(name) ? args[name].as<std::vector<std::string>>() : std::vector<std::string>{};
}

Result<policy::LintFilesOptions> read_options(const po::variables_map& args, const Context& ctx) {
  policy::LintFilesOptions o;
  o.paths = strings(args, "path");
  if (o.paths.empty())
    o.paths.push_back(ctx.getenv("NETWORK_POLICY_PATH").value_or(policy::defaults::k_policy_dir));
  auto vars = template_vars(args);
  if (!vars) return fail(vars.error());
  o.vars = std::move(*vars);
  auto listed = listed_template_vars(args);
  if (!listed) return fail(listed.error());
  o.listed_vars = std::move(*listed);
  if (!ctx.global().namespace_name.empty()) o.default_namespace = ctx.global().namespace_name;
  for (const auto& c : strings(args, "pod-cidr")) {
    auto cidr = model::Cidr::parse(c, model::IpSyntax::api_server);
    if (!cidr) return fail(ErrorCode::usage, "--pod-cidr " + c + ": not a CIDR");
    o.pod_cidrs.push_back(*cidr);
  }
  o.pods_from = strings(args, "pods-from");
  o.strict = args["strict"].as<bool>();
  return o;
}

Result<int> run_lint(const po::variables_map& args, Context& ctx) {
  auto options = read_options(args, ctx);
  if (!options) return fail(options.error());
  if (auto linted = policy::lint_files(*options, ctx.env(), ctx.session()); !linted)
    return fail(linted.error());
  return 0;
}

} // namespace

Command lint_command() {
  return Command{
      .name = "lint",
      .summary = "parse, validate (API server rules) and lint policy files, offline",
      .usage = "lint [PATH...] [--pods-from FILE] [--pod-cidr CIDR] [--var NAME=VALUE] [--strict]",
      .help = "Reads NetworkPolicy and CiliumNetworkPolicy files (directories recursively,\n"
              "multi-document YAML or JSON, imports pinned in imports.yaml), expands ${VAR}\n"
              "templates, validates every object as the API server would and runs the lint\n"
              "checks. Prints one line per finding and writes junit-lint.xml. Needs no cluster.\n"
              "Exit 3 when any object is invalid; warnings do not fail unless --strict (exit 4).\n"
              "\nExamples:\n"
              "  netpol lint .gitlab/network-policies\n"
              "  netpol lint policies/ --pods-from k8s/deployment.yaml --var KUBE_NAMESPACE=shop\n",
      .needs_cluster = false,
      .describe = describe_lint,
      .env = {{"template-vars", "NETPOL_TEMPLATE_VARS"}},
      .run = run_lint,
  };
}

} // namespace netpol::cli
