#include "policy/remove.hpp"

#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "policy/preflight.hpp"

namespace netpol::policy {
namespace {

using report::CaseStatus;

constexpr const char* k_classname = "netpol.remove";

struct Target {
  kube::ResourceInfo info;
  std::string namespace_name; // "" for a cluster-wide kind
  std::string name;
};

} // namespace

Result<int> remove_policies(const RenderOptions& render, bool dry_run, kube::KubeApi& api,
                            const report::Session& session, report::JUnitReport& junit) {
  kube::ListOptions list;
  list.label_selector = managed_selector(render);
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
      session.reporter.warn(fmt::format(
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
      missing.push_back(missing_right("delete", t.info.group, t.info.resource, t.namespace_name));
    }
  }
  if (!missing.empty()) return tl::unexpected(missing_permissions("remove", "deleted", missing));
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
      session.out << fmt::format("deleted {}{}\n", object, dry_run ? " (dry run)" : "");
    }
    junit.add(std::move(c));
  }
  if (first_error) return fail(std::move(*first_error));
  if (targets.empty()) {
    session.out << fmt::format("no policies applied by netpol for project {} environment {} in "
                               "namespace {}\n",
                               render.project_id, render.environment, render.namespace_name);
  }
  return removed;
}

} // namespace netpol::policy
