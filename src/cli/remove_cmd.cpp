#include "cli/remove_cmd.hpp"

#include <fmt/format.h>

#include "cilium/uninstall.hpp"
#include "cli/cilium_options.hpp"
#include "cli/policy_options.hpp"
#include "policy/desired.hpp"
#include "policy/remove.hpp"
#include "report/metrics.hpp"

namespace netpol::cli {
namespace {

using report::CaseStatus;

constexpr const char* k_classname = "netpol.remove";

void describe_remove(po::options_description& options, po::positional_options_description&) {
  // clang-format off
  options.add_options()
    ("dry-run", po::bool_switch(), "server-side dry run: nothing is deleted (helm: nothing is run)")
    ("cilium", po::bool_switch(),
     "also uninstall the Cilium Helm release: every pod loses its network provider until "
     "another is installed")
    ("cilium-namespace", po::value<std::string>()->value_name("NS"),
     "namespace of the Cilium release (default kube-system) [CILIUM_NAMESPACE]")
    ("helm", po::value<std::string>()->value_name("PATH"),
     "helm binary (default: helm on PATH) [NETPOL_HELM]");
  // clang-format on
}

// `helm uninstall` of the Cilium release; true when a release was removed.
Result<bool> uninstall_cilium(const po::variables_map& args, bool dry_run, Context& ctx,
                              report::JUnitReport& junit) {
  cilium::UninstallOptions options;
  options.dry_run = dry_run;
  if (args.count("cilium-namespace"))
    options.namespace_name = args["cilium-namespace"].as<std::string>();
  if (args.count("helm")) options.helm = args["helm"].as<std::string>();
  return cilium::uninstall_release(options, cilium_site(ctx), ctx.session(), junit, k_classname);
}

Result<int> run_remove(const po::variables_map& args, Context& ctx) {
  const bool dry_run = args["dry-run"].as<bool>();
  const bool cilium = args["cilium"].as<bool>();
  // With --cilium alone (an operator's job), the project identity may be absent: then only
  // Cilium is removed.
  const bool has_identity = !ctx.getenv("CI_PROJECT_ID").value_or("").empty() ||
                            !ctx.getenv("CI_ENVIRONMENT_SLUG").value_or("").empty();
  auto& junit = ctx.reports().junit("remove"); // written by the dispatcher
  int policies_removed = 0;
  bool uninstalled = false;
  // metrics.txt (what was removed) on every exit.
  auto finish = [&](Result<int> r) -> Result<int> {
    report::MetricsReport metrics;
    metrics.add({"netpol_policies_removed",
                 "Policies this job deleted (remove)",
                 static_cast<double>(dry_run ? 0 : policies_removed),
                 {}});
    metrics.add({"netpol_cilium_uninstalls",
                 "Cilium releases this job uninstalled",
                 uninstalled ? 1.0 : 0.0,
                 {}});
    auto metrics_written = ctx.output().write("metrics.txt", metrics.to_text());
    if (r && !metrics_written) return fail(metrics_written.error());
    return r;
  };
  if (!cilium || has_identity) {
    auto render = render_options(ctx);
    if (!render) return finish(fail(render.error()));
    if (auto identity = policy::require_identity(*render); !identity)
      return finish(fail(identity.error()));
    auto api = ctx.kube();
    if (!api) return finish(fail(api.error()));
    auto removed = policy::remove_policies(*render, dry_run, **api, ctx.session(), junit);
    if (!removed) return finish(fail(removed.error()));
    policies_removed = *removed;
  }
  if (cilium) {
    ctx.reporter().warn("removing Cilium: pods it manages keep running but lose policy "
                        "enforcement and, where Cilium is the CNI, networking for new pods");
    auto ok = uninstall_cilium(args, dry_run, ctx, junit);
    if (!ok) return finish(fail(ok.error()));
    uninstalled = *ok;
  }
  return finish(0);
}

} // namespace

Command remove_command() {
  return Command{
      .name = "remove",
      .summary = "delete the policies netpol manages for this project and environment",
      .usage = "remove [--dry-run] [--cilium [--cilium-namespace NS]]",
      .help = "Deletes every NetworkPolicy and Cilium policy labelled as applied by netpol for\n"
              "CI_PROJECT_ID and CI_ENVIRONMENT_SLUG in the namespace: the kill switch. Objects\n"
              "without these labels are never touched. The delete permission is checked before\n"
              "the first delete. With --cilium, also uninstalls the Cilium Helm release (without\n"
              "CI_PROJECT_ID and CI_ENVIRONMENT_SLUG, only that). Writes junit-remove.xml and\n"
              "metrics.txt (policies removed, Cilium uninstalls).\n\n"
              "Examples:\n"
              "  CI_PROJECT_ID=42 CI_ENVIRONMENT_SLUG=review netpol -n shop remove\n"
              "  netpol remove --cilium --dry-run",
      .needs_cluster = true,
      .describe = describe_remove,
      .env = {{"cilium-namespace", "CILIUM_NAMESPACE"}, {"helm", "NETPOL_HELM"}},
      .run = run_remove,
  };
}

} // namespace netpol::cli
