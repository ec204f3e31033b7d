#include "policy/preflight.hpp"

#include <optional>
#include <utility>
#include <vector>

#include <fmt/format.h>

namespace netpol::policy {

void AccessAnswers::ask(const std::set<Question>& questions) {
  for (const auto& q : questions) {
    if (m_answers.count(q)) continue;
    const auto& [verb, group, resource, ns] = q;
    kube::AccessCheck check{verb, group, resource, ns, ""};
    m_answers.emplace(
        q, std::async(std::launch::async, [this, check] { return m_api.can_i(check); }).share());
  }
}

std::set<AccessAnswers::Question> likely_questions(const std::string& ns) {
  const auto& np = kube::resources::network_policies;
  return {{"create", np.group, np.resource, ns},
          {"patch", np.group, np.resource, ns},
          {"delete", np.group, np.resource, ns}};
}

Result<void> preflight(kube::KubeApi& api, const Plan& plan, bool prune, AccessAnswers& answers) {
  std::set<AccessAnswers::Question> needed;
  for (const auto& item : plan.items) {
    if (item.action == Action::unchanged || (item.action == Action::prune && !prune)) continue;
    const auto& object = item.action == Action::prune ? item.live : item.desired;
    auto info = api.resolve(object.value("apiVersion", ""), object.value("kind", ""));
    if (!info) return fail(info.error());
    if (!*info) continue; // make_plan already refused desired kinds the server lacks
    const std::string ns = (*info)->namespaced ? object["metadata"].value("namespace", "") : "";
    const auto& [group, resource] = std::pair{(*info)->group, (*info)->resource};
    // Server-side apply is a PATCH; creating an object through it also needs `create`.
    if (item.action == Action::create) needed.insert({"create", group, resource, ns});
    if (item.action != Action::prune) needed.insert({"patch", group, resource, ns});
    if (item.action == Action::prune) needed.insert({"delete", group, resource, ns});
  }
  answers.ask(needed);
  std::vector<std::string> missing;
  std::optional<Error> first_error;
  for (const auto& question : needed) {
    const auto& [verb, group, resource, ns] = question;
    auto allowed = answers.answer(question);
    if (!allowed) {
      if (!first_error) first_error = allowed.error();
      continue;
    }
    if (!*allowed) {
      missing.push_back(missing_right(verb, group, resource, ns));
    }
  }
  if (first_error) return fail(std::move(*first_error));
  if (missing.empty()) return {};
  auto e = missing_permissions("apply", "changed", missing);
  e.details = missing; // one line each on stderr and in junit-apply.xml
  return tl::unexpected(std::move(e));
}

std::string missing_right(const std::string& verb, const std::string& group,
                          const std::string& resource, const std::string& ns) {
  return fmt::format("{} {}{}{}", verb, resource, group.empty() ? "" : "." + group,
                     ns.empty() ? " (cluster-wide)" : " in namespace " + ns);
}

Error missing_permissions(const std::string& command, const std::string& not_done,
                          const std::vector<std::string>& missing) {
  Error e(ErrorCode::api,
          fmt::format("{}: missing permissions, nothing was {}: {} (grant them to the job's "
                      "identity: examples/rbac/apply-namespace.yaml; see "
                      "docs/cluster-access.md#permissions)",
                      command, not_done, fmt::join(missing, ", ")));
  e.http_status = 403;
  e.reason = "Forbidden";
  return e;
}

} // namespace netpol::policy
