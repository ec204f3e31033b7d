#include "cli/remove_cmd.hpp"

#include <set>

#include <fmt/format.h>

#include "cli/policy_options.hpp"

namespace netpol::cli {
namespace {

void describe_remove(po::options_description& options, po::positional_options_description&) {
  options.add_options()("dry-run", po::bool_switch(), "server-side dry run: nothing is deleted");
}

Result<int> run_remove(const po::variables_map& args, Context& ctx) {
  auto render = render_options(ctx);
  if (!render) return fail(render.error());
  auto api_result = ctx.kube();
  if (!api_result) return fail(api_result.error());
  kube::KubeApi& api = **api_result;
  const bool dry_run = args["dry-run"].as<bool>();

  report::JUnitReport junit("remove");
  auto finish = [&](Result<int> r) {
    (void)ctx.output().write("junit-remove.xml", junit.to_xml());
    return r;
  };
  kube::ListOptions list;
  list.label_selector = policy::managed_selector(*render);
  struct Target {
    kube::ResourceInfo info;
    nlohmann::json object;
  };
  std::vector<Target> targets;
  for (const auto& [api_version, kind] :
       {std::pair{"networking.k8s.io/v1", "NetworkPolicy"},
        std::pair{"cilium.io/v2", "CiliumNetworkPolicy"},
        std::pair{"cilium.io/v2", "CiliumClusterwideNetworkPolicy"}}) {
    auto info = api.resolve(api_version, kind);
    if (!info) return finish(fail(info.error()));
    if (!*info) continue;
    auto items = api.list(**info, (*info)->namespaced ? render->namespace_name : "", list);
    if (!items) return finish(fail(items.error()));
    for (auto& item : *items)
      targets.push_back({**info, std::move(item)});
  }
  std::vector<std::string> missing;
  std::set<std::pair<std::string, std::string>> asked;
  for (const auto& t : targets) {
    const std::string ns = t.info.namespaced ? render->namespace_name : "";
    if (!asked.insert({t.info.resource, ns}).second) continue;
    auto allowed = api.can_i({"delete", t.info.group, t.info.resource, ns, ""});
    if (!allowed) return finish(fail(allowed.error()));
    if (!*allowed) missing.push_back(fmt::format("delete {}", t.info.resource));
  }
  if (!missing.empty()) {
    Error e(ErrorCode::api, fmt::format("remove: missing permissions, nothing was deleted: {}",
                                        fmt::join(missing, ", ")));
    e.http_status = 403;
    e.reason = "Forbidden";
    return finish(fail(std::move(e)));
  }
  std::optional<Error> first_error;
  for (const auto& t : targets) {
    const std::string name = t.object["metadata"].value("name", "");
    const std::string ns = t.info.namespaced ? render->namespace_name : "";
    report::TestCase c{"netpol.remove",
                       fmt::format("delete {}/{}{}", t.info.kind, ns.empty() ? "" : ns + "/", name),
                       report::CaseStatus::passed,
                       "",
                       "",
                       0};
    auto removed = api.remove(t.info, ns, name, kube::DeleteOptions{"Background", dry_run});
    if (!removed && !kube::is_not_found(removed.error())) {
      c.status = report::CaseStatus::failed;
      c.message = removed.error().message;
      if (!first_error) first_error = removed.error();
    }
    if (c.status == report::CaseStatus::passed)
      ctx.out() << fmt::format("deleted {}{}\n", c.name.substr(7), dry_run ? " (dry run)" : "");
    junit.add(c);
  }
  if (first_error) return finish(fail(*first_error));
  return finish(0);
}

} // namespace

Command remove_command() {
  return Command{
      .name = "remove",
      .summary = "delete the policies netpol manages for this project and environment",
      .usage = "remove [--dry-run]",
      .help = "Deletes every NetworkPolicy and Cilium policy labelled as applied by netpol for\n"
              "CI_PROJECT_ID and CI_ENVIRONMENT_SLUG in the namespace. Objects without these\n"
              "labels are never touched. Writes junit-remove.xml.\n",
      .needs_cluster = true,
      .describe = describe_remove,
      .env = {},
      .run = run_remove,
  };
}

} // namespace netpol::cli
