#include "policy/plan.hpp"

#include <map>
#include <set>

#include <fmt/format.h>

#include "util/parallel.hpp"

namespace netpol::policy {
namespace {

using nlohmann::json;

json drop_empty(const json& v) {
  if (v.is_object()) {
    json out = json::object();
    for (const auto& [k, val] : v.items()) {
      json n = drop_empty(val);
      if (n.is_null() || (n.is_array() && n.empty()) || (n.is_object() && n.empty())) continue;
      out[k] = std::move(n);
    }
    return out;
  }
  if (v.is_array()) {
    json out = json::array();
    for (const auto& item : v)
      out.push_back(drop_empty(item));
    return out;
  }
  return v;
}

// The API server's defaulting of NetworkPolicy (SetDefaults_NetworkPolicy and the port
// protocol default).
void default_network_policy(json& spec) {
  if (!spec.is_object()) return;
  for (const char* direction : {"ingress", "egress"}) {
    if (!spec.contains(direction) || !spec[direction].is_array()) continue;
    for (auto& rule : spec[direction]) {
      if (!rule.is_object() || !rule.contains("ports") || !rule["ports"].is_array()) continue;
      for (auto& port : rule["ports"])
        if (port.is_object() && !port.contains("protocol")) port["protocol"] = "TCP";
    }
  }
  if (!spec.contains("policyTypes") || !spec["policyTypes"].is_array() ||
      spec["policyTypes"].empty()) {
    json types = json::array({"Ingress"});
    if (spec.contains("egress") && spec["egress"].is_array() && !spec["egress"].empty())
      types.push_back("Egress");
    spec["policyTypes"] = types;
  }
}

std::string key_of(const json& o) {
  return fmt::format("{}/{}/{}", o.value("kind", ""), o["metadata"].value("namespace", ""),
                     o["metadata"].value("name", ""));
}

std::string short_value(const json& v) {
  if (v.is_null()) return "(none)";
  std::string s = v.dump();
  return s.size() > 120 ? s.substr(0, 117) + "..." : s;
}

} // namespace

std::string describe_object(const json& o) {
  const std::string ns = o["metadata"].value("namespace", "");
  return fmt::format("{}/{}{}", o.value("kind", ""), ns.empty() ? "" : ns + "/",
                     o["metadata"].value("name", ""));
}

const char* to_string(Action action) {
  switch (action) {
  case Action::create: return "create";
  case Action::update: return "update";
  case Action::unchanged: return "unchanged";
  case Action::prune: return "prune";
  case Action::taken: return "taken";
  }
  return "?";
}

json normalise(const json& object) {
  json out;
  out["apiVersion"] = object.value("apiVersion", "");
  out["kind"] = object.value("kind", "");
  const json& meta = object.contains("metadata") ? object["metadata"] : json::object();
  out["metadata"]["name"] = meta.value("name", "");
  if (meta.contains("namespace")) out["metadata"]["namespace"] = meta["namespace"];
  for (const char* key : {"spec", "specs"}) {
    if (object.contains(key)) out[key] = object[key];
  }
  if (out["kind"] == "NetworkPolicy") {
    if (!out.contains("spec")) out["spec"] = json::object();
    default_network_policy(out["spec"]);
  }
  return drop_empty(out);
}

int Plan::count(Action action) const {
  int n = 0;
  for (const auto& i : items)
    n += i.action == action ? 1 : 0;
  return n;
}

std::string Plan::to_text() const {
  std::string out;
  for (const auto& i : items) {
    out += fmt::format("{:<9} {}\n", to_string(i.action), i.object);
    for (const auto& d : i.diff)
      out += "            " + d + "\n";
  }
  out +=
      fmt::format("{} to create, {} to update, {} unchanged, {} to prune\n", count(Action::create),
                  count(Action::update), count(Action::unchanged), count(Action::prune));
  if (const int taken = count(Action::taken); taken > 0) {
    out += fmt::format("{} taken: an object netpol did not apply for this project and "
                       "environment has the name; nothing can be applied\n",
                       taken);
  }
  return out;
}

nlohmann::ordered_json Plan::to_json() const {
  nlohmann::ordered_json out;
  out["items"] = nlohmann::ordered_json::array();
  for (const auto& i : items) {
    out["items"].push_back(
        {{"action", to_string(i.action)}, {"object", i.object}, {"diff", i.diff}});
  }
  out["warnings"] = warnings;
  out["summary"] = {{"create", count(Action::create)},
                    {"update", count(Action::update)},
                    {"unchanged", count(Action::unchanged)},
                    {"prune", count(Action::prune)},
                    {"taken", count(Action::taken)}};
  return out;
}

namespace {

struct ManagedKind {
  const char* api_version;
  const char* kind;
  bool namespaced;
  const kube::ResourceInfo* resource;
};
const ManagedKind k_managed_kinds[] = {
    {"networking.k8s.io/v1", "NetworkPolicy", true, &kube::resources::network_policies},
    {"cilium.io/v2", "CiliumNetworkPolicy", true, &kube::resources::cilium_network_policies},
    {"cilium.io/v2", "CiliumClusterwideNetworkPolicy", false,
     &kube::resources::cilium_clusterwide_network_policies}};

// Whose an object is, when it is not netpol's for this project and environment: its values
// of netpol's labels, or that it has none.
std::optional<std::string> other_owner(const json& object, const RenderOptions& options) {
  const json labels = object.value("metadata", json::object()).value("labels", json::object());
  const std::pair<const char*, const std::string*> ours[] = {
      {k_managed_by_label, nullptr},
      {k_project_label, &options.project_id},
      {k_environment_label, &options.environment}};
  bool mine = true;
  std::vector<std::string> found;
  for (const auto& [label, value] : ours) {
    const auto it = labels.find(label);
    const std::string have = it != labels.end() && it->is_string() ? it->get<std::string>() : "";
    mine = mine && have == (value ? *value : std::string(k_managed_by_value));
    if (it != labels.end()) found.push_back(fmt::format("{}={}", label, have));
  }
  if (mine) return std::nullopt;
  return found.empty() ? "it has no netpol labels"
                       : fmt::format("its labels: {}", fmt::join(found, ", "));
}

} // namespace

Result<LiveObjects> list_live(kube::KubeApi& api, const RenderOptions& options) {
  LiveObjects live;
  // Everything of the kind, not only what carries the managed selector: a desired name that
  // another object holds must be seen before anything is applied over it. RBAC grants `list`
  // by resource, never by label, so this needs no more rights than the selector would.
  const kube::ListOptions list;
  // Every kind at once (KubeApi is thread-safe), without asking discovery first: a kind the
  // server does not serve answers its list with 404. One round trip for all of them.
  const size_t kinds = std::size(k_managed_kinds);
  std::vector<Result<std::vector<json>>> listed(kinds);
  parallel_for(kinds, kinds, [&](size_t i) {
    const auto& k = k_managed_kinds[i];
    listed[i] = api.list(*k.resource, k.namespaced ? options.namespace_name : "", list);
  });
  for (size_t i = 0; i < kinds; ++i) {
    const auto& k = k_managed_kinds[i];
    auto& items = listed[i];
    // (NetworkPolicy is served by every cluster: a 404 there is a wrong server address.)
    if (!items && kube::is_not_found(items.error()) && i != 0) {
      live.unserved_kinds.insert(k.kind);
      continue;
    }
    if (!items && kube::is_forbidden(items.error())) {
      live.forbidden_kinds.emplace(
          k.kind,
          LiveObjects::Forbidden{k.resource->resource + "." + k.resource->group, items.error()});
      continue;
    }
    if (!items) return fail(items.error());
    for (auto& item : *items) {
      item["kind"] = k.kind;
      item["apiVersion"] = k.api_version;
      if (auto owner = other_owner(item, options)) {
        live.others.emplace(key_of(item), std::move(*owner));
      } else {
        live.items.push_back(std::move(item));
      }
    }
  }
  return live;
}

Result<Plan> make_plan(kube::KubeApi& api, const std::vector<json>& desired,
                       const RenderOptions& options, bool prune) {
  auto live = list_live(api, options);
  if (!live) return fail(live.error());
  return make_plan(*live, desired, prune);
}

Result<Plan> make_plan(const LiveObjects& listed, const std::vector<json>& desired, bool prune) {
  std::set<std::string> desired_kinds;
  for (const auto& d : desired)
    desired_kinds.insert(d.value("kind", ""));
  Plan plan;
  for (const auto& k : k_managed_kinds) {
    if (desired_kinds.count(k.kind) && listed.unserved_kinds.count(k.kind)) {
      return fail(ErrorCode::config,
                  fmt::format("the cluster does not serve {} {} (is Cilium installed?)",
                              k.api_version, k.kind));
    }
    auto forbidden = listed.forbidden_kinds.find(k.kind);
    if (forbidden == listed.forbidden_kinds.end()) continue;
    if (desired_kinds.count(k.kind)) {
      Error e = forbidden->second.error; // names the verb, resource and namespace refused
      e.message += " (the plan lists them to compare with what is applied; "
                   "examples/rbac/apply-namespace.yaml grants it; see "
                   "docs/cluster-access.md#permissions)";
      return fail(std::move(e));
    }
    if (prune) {
      plan.warnings.push_back(fmt::format(
          "not allowed to list {}: any applied earlier for this project and environment are not "
          "pruned ({}examples/rbac/apply-namespace.yaml grants it)",
          forbidden->second.resource,
          k.namespaced ? "" : "the optional netpol-connectivity ClusterRole of "));
    }
  }
  // Keyed views of the listed objects; a kind neither desired nor pruned plays no part.
  std::map<std::string, const json*> live;
  std::vector<std::string> live_order;
  for (const auto& item : listed.items) {
    if (!prune && !desired_kinds.count(item.value("kind", ""))) continue;
    const std::string key = key_of(item);
    if (live.emplace(key, &item).second) live_order.push_back(key);
  }

  std::set<std::string> desired_keys;
  for (const auto& d : desired) {
    PlanItem item;
    item.object = describe_object(d);
    item.desired = d;
    const std::string key = key_of(d);
    desired_keys.insert(key);
    auto it = live.find(key);
    if (auto other = listed.others.find(key); it == live.end() && other != listed.others.end()) {
      item.action = Action::taken;
      item.diff.push_back(fmt::format("exists and is not netpol's for this project and "
                                      "environment ({})",
                                      other->second));
    } else if (it == live.end()) {
      item.action = Action::create;
    } else {
      item.live = *it->second;
      json want = normalise(d);
      json have = normalise(item.live);
      // Labels and annotations: only the ones netpol sets are compared (others may belong to
      // other field managers).
      json want_meta = json::object(), have_meta = json::object();
      for (const char* field : {"labels", "annotations"}) {
        if (!d["metadata"].contains(field)) continue;
        for (const auto& [k, v] : d["metadata"][field].items()) {
          want_meta[field][k] = v;
          const json& live_meta = item.live["metadata"];
          if (live_meta.contains(field) && live_meta[field].contains(k))
            have_meta[field][k] = live_meta[field][k];
        }
      }
      want["metadata"].update(want_meta);
      have["metadata"].update(have_meta);
      for (const auto& op : json::diff(have, want)) {
        const std::string path = op["path"].get<std::string>();
        const json before =
            have.contains(json::json_pointer(path)) ? have.at(json::json_pointer(path)) : json();
        const json after = op.contains("value") ? op["value"] : json();
        item.diff.push_back(
            fmt::format("{}: {} → {}", field_path(path), short_value(before), short_value(after)));
      }
      item.action = item.diff.empty() ? Action::unchanged : Action::update;
    }
    plan.items.push_back(std::move(item));
  }
  if (prune) {
    for (const auto& key : live_order) {
      if (desired_keys.count(key)) continue;
      PlanItem item;
      item.action = Action::prune;
      item.live = *live[key];
      item.object = describe_object(item.live);
      plan.items.push_back(std::move(item));
    }
  }
  return plan;
}

} // namespace netpol::policy
