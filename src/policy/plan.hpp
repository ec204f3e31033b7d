// The difference between the desired objects (render_desired) and what netpol applied
// earlier for this project and environment: one LIST per kind with the managed selector,
// server defaults normalised away so nothing shows a false change.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kube/api.hpp"
#include "policy/profiles.hpp"
#include "util/error.hpp"

namespace netpol::policy {

enum class Action { create, update, unchanged, prune };
const char* to_string(Action action);

struct PlanItem {
  Action action = Action::create;
  std::string object;     // "NetworkPolicy/ns/name"
  nlohmann::json desired; // null for prune
  nlohmann::json live;    // null for create
  // For update: one line per changed field, "spec.ingress[0].ports[0].port: 80 → 8080".
  std::vector<std::string> diff;
};

struct Plan {
  std::vector<PlanItem> items; // desired order, then prunes
  // Things the plan could not look at, e.g. a Cilium kind this token may not list (objects
  // of that kind applied earlier are then neither compared nor pruned).
  std::vector<std::string> warnings;
  int count(Action action) const;
  std::string to_text() const;            // plan.txt
  nlohmann::ordered_json to_json() const; // plan.json
};

// What compares equal: the object with API defaults applied (NetworkPolicy policyTypes,
// port protocol TCP) and empty fields dropped, reduced to what netpol sets (name, namespace,
// netpol's labels and annotations plus the ones declared, spec/specs).
nlohmann::json normalise(const nlohmann::json& object);

// Lists what is live (one LIST per kind that is desired or may need pruning) and compares.
// Prune items only when `prune` is set. Fails as KubeApi does; a Cilium kind that is desired
// but not served is ErrorCode::config. A kind listed only for pruning that the token may not
// list is a warning, not a failure: a team with rights on NetworkPolicies alone can still
// apply them on a cluster that also serves Cilium's kinds.
Result<Plan> make_plan(kube::KubeApi& api, const std::vector<nlohmann::json>& desired,
                       const RenderOptions& options, bool prune);

} // namespace netpol::policy
