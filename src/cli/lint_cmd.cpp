#include "cli/lint_cmd.hpp"

#include <fmt/format.h>

#include "cli/policy_options.hpp"
#include "policy/check.hpp"
#include "util/log.hpp"

namespace netpol::cli {
namespace {

void describe_lint(po::options_description& options,
                   po::positional_options_description& positional) {
  // clang-format off
  options.add_options()
    ("path", po::value<std::vector<std::string>>()->value_name("PATH"),
     "policy files or directories [NETWORK_POLICY_PATH; default .gitlab/network-policies]")
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

Result<int> run_lint(const po::variables_map& args, Context& ctx) {
  std::vector<std::string> paths = strings(args, "path");
  if (paths.empty())
    paths.push_back(ctx.getenv("NETWORK_POLICY_PATH").value_or(k_default_policy_dir));

  auto vars = template_vars(args);
  if (!vars) return fail(vars.error());
  auto listed = listed_template_vars(args);
  if (!listed) return fail(listed.error());
  const policy::TemplateVariables env(ctx.env(), std::move(*listed), std::move(*vars));

  policy::LintOptions lint_options;
  lint_options.default_namespace =
      ctx.global().namespace_name.empty() ? "default" : ctx.global().namespace_name;
  for (const auto& c : strings(args, "pod-cidr")) {
    auto cidr = policy::parse_cidr(c);
    if (!cidr) return fail(ErrorCode::usage, "--pod-cidr " + c + ": not a CIDR");
    lint_options.pod_cidrs.push_back(*cidr);
  }
  if (args.count("pods-from")) {
    policy::LoadOptions pod_load;
    pod_load.collect_other_kinds = true;
    auto pods = policy::load_policies(strings(args, "pods-from"), pod_load);
    if (!pods.errors.empty()) {
      Error e = pods.errors.front();
      e.code = e.code == ErrorCode::invalid_policy ? ErrorCode::usage : e.code;
      return fail(e.wrap("--pods-from"));
    }
    lint_options.inventory = policy::make_inventory(pods.others, lint_options.default_namespace);
  }

  auto phase = ctx.reporter().phase("Linting policies");
  policy::LoadOptions load;
  load.vars = &env;
  auto report = policy::check_policies(policy::load_policies(paths, load), lint_options);

  auto& junit = ctx.reports().junit("lint"); // written by the dispatcher
  const auto cases = policy::junit_for(report, "lint");
  for (const auto& c : cases.cases())
    junit.add(c);

  if (ctx.global().format == OutputFormat::json) {
    ctx.out() << policy::to_json(report).dump(2) << "\n";
  } else {
    // Findings quote names from the files: escaped, so a name cannot drive the terminal.
    for (const auto& f : report.findings)
      ctx.out() << log::printable(f.text()) << "\n";
    ctx.out() << fmt::format(
        "{} objects, {} invalid; {} errors, {} warnings, {} info\n", report.loaded.policies.size(),
        report.invalid_objects, report.count(policy::Severity::error),
        report.count(policy::Severity::warning), report.count(policy::Severity::info));
  }
  if (report.has_errors()) {
    phase.failed(report.error().code == ErrorCode::invalid_policy ? "invalid policies"
                                                                  : report.error().message);
    return fail(report.error());
  }
  if (args["strict"].as<bool>() && report.count(policy::Severity::warning) > 0) {
    phase.failed("warnings with --strict");
    return fail(ErrorCode::check_failed, fmt::format("lint: {} warnings (--strict)",
                                                     report.count(policy::Severity::warning)));
  }
  phase.done(fmt::format("{} objects valid", report.loaded.policies.size()));
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
