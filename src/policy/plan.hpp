// The difference between the desired objects (render_desired) and what netpol applied
// earlier for this project and environment: one LIST per kind, server defaults normalised
// away so nothing shows a false change. A desired name that an object netpol did not apply
// for this project and environment already holds is `taken`: netpol never touches it.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kube/api.hpp"
#include "policy/profiles.hpp"
#include "util/error.hpp"

namespace netpol::policy {

enum class Action { create, update, unchanged, prune, taken };
const char* to_string(Action action);

struct PlanItem {
  Action action = Action::create;
  std::string object;     // "NetworkPolicy/ns/name"
  nlohmann::json desired; // null for prune
  nlohmann::json live;    // null for create
  // For update: one line per changed field, "spec.ingress[0].ports[0].port: 80 → 8080".
  // For taken: one line saying whose the existing object is.
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

// "Kind/ns/name" ("Kind/name" for a cluster-wide object), as PlanItem::object says it.
std::string describe_object(const nlohmann::json& object);

// What compares equal: the object with API defaults applied (NetworkPolicy policyTypes,
// port protocol TCP) and empty fields dropped, reduced to what netpol sets (name, namespace,
// netpol's labels and annotations plus the ones declared, spec/specs).
nlohmann::json normalise(const nlohmann::json& object);

// What netpol applied earlier for this project and environment, as the server lists it.
struct LiveObjects {
  std::vector<nlohmann::json> items; // listing order; apiVersion and kind set
  // The other objects of the managed kinds in the namespace (and cluster-wide ones): key
  // "Kind/ns/name" -> whose they are ("labels app.gitlab.com/proj=7, ..." or "no netpol
  // labels"). Server-side apply would take such an object over without a conflict when its
  // fields hold the same values, and a later prune would delete it.
  std::map<std::string, std::string> others;
  std::set<std::string> unserved_kinds; // managed kinds the server does not serve
  struct Forbidden {
    std::string resource; // "ciliumnetworkpolicies.cilium.io"
    Error error;          // the 403 its LIST answered
  };
  std::map<std::string, Forbidden> forbidden_kinds; // by kind
};

// One LIST per managed kind the server serves (NetworkPolicy in the namespace, and the Cilium
// kinds when installed), split by netpol's three labels into items and others. It does not depend
// on the desired objects, so callers may run it while those are still being loaded (KubeApi is
// thread-safe). A 403 is recorded, not failed: whether it matters depends on what is desired. Fails
// otherwise as KubeApi does.
Result<LiveObjects> list_live(kube::KubeApi& api, const RenderOptions& options);

// Compares the desired objects with what is live. Prune items only when `prune` is set. A
// desired object whose name one of `others` holds is `taken` (callers refuse to apply then). A
// desired kind the server does not serve (Cilium not installed) is ErrorCode::config; a
// desired kind the token may not list fails with that 403. A kind listed only for pruning that
// the token may not list is a warning, not a failure: a team with rights on NetworkPolicies
// alone can still apply them on a cluster that also serves Cilium's kinds.
Result<Plan> make_plan(const LiveObjects& live, const std::vector<nlohmann::json>& desired,
                       bool prune);

// list_live, then make_plan.
Result<Plan> make_plan(kube::KubeApi& api, const std::vector<nlohmann::json>& desired,
                       const RenderOptions& options, bool prune);

} // namespace netpol::policy
