#include "cli/remove_cmd.hpp"

#include <set>

#include <fmt/format.h>

#include "cilium/uninstall.hpp"
#include "cli/cilium_options.hpp"
#include "cli/policy_options.hpp"
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

struct Target {
  kube::ResourceInfo info;
  std::string namespace_name; // "" for a cluster-wide kind
  std::string name;
};

// Deletes every object labelled for this project and environment. Permissions are checked
// before the first delete; a Cilium kind the token may not list is a warning.
Result<int> remove_policies(const policy::RenderOptions& render, kube::KubeApi& api, bool dry_run,
                            Context& ctx, report::JUnitReport& junit) {
  kube::ListOptions list;
  list.label_selector = policy::managed_selector(render);
  std::vector<Target> targets;
  for (const auto& [api_version, kind] :
       {std::pair{"networking.k8s.io/v1", "NetworkPolicy"},
        std::pair{"cilium.io/v2", "CiliumNetworkPolicy"},
        std::pair{"cilium.io/v2", "CiliumClusterwideNetworkPolicy"}}) {
    auto info = api.resolve(api_version, kind);
    if (!info) return fail(info.error());
    if (!*info) continue;
    const std::string ns = (*info)->namespaced ? render.namespace_name : "";
    auto items = api.list(**info, ns, list);
    if (!items && kube::is_forbidden(items.error()) && (*info)->group == "cilium.io") {
      ctx.reporter().warn(fmt::format(
          "not allowed to list {}.{}: those are not removed ({}examples/rbac/apply-namespace.yaml "
          "grants it)",
          (*info)->resource, (*info)->group,
          (*info)->namespaced ? "" : "the optional netpol-connectivity ClusterRole of "));
      continue;
    }
    if (!items) return fail(items.error());
    for (const auto& item : *items)
      targets.push_back({**info, ns, item["metadata"].value("name", "")});
  }
  std::vector<std::string> missing;
  std::set<std::pair<std::string, std::string>> asked;
  for (const auto& t : targets) {
    if (!asked.insert({t.info.resource, t.namespace_name}).second) continue;
    auto allowed = api.can_i({"delete", t.info.group, t.info.resource, t.namespace_name, ""});
    if (!allowed) return fail(allowed.error());
    if (!*allowed) {
      missing.push_back(fmt::format(
          "delete {}{}{}", t.info.resource, t.info.group.empty() ? "" : "." + t.info.group,
          t.namespace_name.empty() ? " (cluster-wide)" : " in namespace " + t.namespace_name));
    }
  }
  if (!missing.empty()) {
    Error e(ErrorCode::api,
            fmt::format("remove: missing permissions, nothing was deleted: {} (grant them to the "
                        "job's identity: examples/rbac/apply-namespace.yaml; see "
                        "docs/cluster-access.md#permissions)",
                        fmt::join(missing, ", ")));
    e.http_status = 403;
    e.reason = "Forbidden";
    return tl::unexpected(std::move(e));
  }
  std::optional<Error> first_error;
  int removed = 0;
  for (const auto& t : targets) {
    const std::string object = fmt::format(
        "{}/{}{}", t.info.kind, t.namespace_name.empty() ? "" : t.namespace_name + "/", t.name);
    report::TestCase c{k_classname, "delete " + object, CaseStatus::passed, "", "", 0};
    auto deleted =
        api.remove(t.info, t.namespace_name, t.name, kube::DeleteOptions{"Background", dry_run});
    if (!deleted && !kube::is_not_found(deleted.error())) {
      c.status = CaseStatus::failed;
      c.message = deleted.error().message;
      if (!first_error) first_error = deleted.error();
    } else {
      ++removed;
      ctx.out() << fmt::format("deleted {}{}\n", object, dry_run ? " (dry run)" : "");
    }
    junit.add(std::move(c));
  }
  if (first_error) return fail(std::move(*first_error));
  if (targets.empty()) {
    ctx.out() << fmt::format("no policies applied by netpol for project {} environment {} in "
                             "namespace {}\n",
                             render.project_id, render.environment, render.namespace_name);
  }
  return removed;
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
    auto api = ctx.kube();
    if (!api) return finish(fail(api.error()));
    auto removed = remove_policies(*render, **api, dry_run, ctx, junit);
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
