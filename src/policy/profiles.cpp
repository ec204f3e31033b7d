#include "policy/profiles.hpp"

#include <fmt/format.h>

#include "policy/validate.hpp"

namespace netpol::policy {

Result<std::vector<PolicyObject>> load_profile(const std::string& name,
                                               const TemplateVariables* vars,
                                               const ProfileOptions& options) {
  if (name == "none" || name.empty()) return std::vector<PolicyObject>{};
  std::string known = "none";
  for (const auto& profile : netpol::embedded_profiles()) {
    known += ", " + std::string(profile.name);
    if (profile.name != name) continue;
    LoadOptions load;
    load.vars = vars;
    auto loaded = load_policy_text(profile.text, "profile:" + name, load);
    if (!loaded.errors.empty()) {
      Error e = loaded.errors.front();
      // An unset variable in a profile is the caller's configuration, not a bad file.
      e.code = ErrorCode::config;
      return fail(std::move(e));
    }
    if (name == "namespace-isolation") {
      for (auto& object : loaded.policies) {
        auto& peers = object.value["spec"]["ingress"][0]["from"];
        for (auto& peer : peers) {
          if (!peer.contains("namespaceSelector") ||
              !peer["namespaceSelector"].contains("matchExpressions"))
            continue;
          auto& values = peer["namespaceSelector"]["matchExpressions"][0]["values"];
          if (!options.allowed_namespaces.empty()) values = options.allowed_namespaces;
          if (options.knative) values.push_back("knative-serving");
        }
      }
    }
    return std::move(loaded.policies);
  }
  return fail(ErrorCode::config,
              fmt::format("unknown default policy profile '{}' (known: {})", name, known));
}

std::string managed_selector(const RenderOptions& options) {
  return fmt::format("{}={},{}={},{}={}", k_managed_by_label, k_managed_by_value, k_project_label,
                     options.project_id, k_environment_label, options.environment);
}

Result<std::vector<nlohmann::json>> render_desired(const std::vector<PolicyObject>& objects,
                                                   const RenderOptions& options) {
  for (const auto& [what, value] : {std::pair{"CI_PROJECT_ID", &options.project_id},
                                    std::pair{"CI_ENVIRONMENT_SLUG", &options.environment}}) {
    if (value->empty()) {
      return fail(ErrorCode::config,
                  fmt::format("{} is not set: netpol labels what it applies with the project "
                              "and environment",
                              what));
    }
    auto errs = label_value_errors(*value);
    if (!errs.empty())
      return fail(ErrorCode::config, fmt::format("{} '{}': {}", what, *value, errs.front()));
  }
  std::vector<nlohmann::json> out;
  for (const auto& object : objects) {
    const auto& v = object.value;
    nlohmann::json r;
    r["apiVersion"] = v.value("apiVersion", "");
    r["kind"] = v.value("kind", "");
    nlohmann::json meta = nlohmann::json::object();
    const auto& source_meta = v.contains("metadata") && v["metadata"].is_object()
                                  ? v["metadata"]
                                  : nlohmann::json::object();
    meta["name"] = source_meta.value("name", "");
    if (object.kind != PolicyKind::cilium_clusterwide_network_policy) {
      const std::string ns = source_meta.value("namespace", "");
      if (!ns.empty() && ns != options.namespace_name) {
        return fail(ErrorCode::invalid_policy,
                    fmt::format("{}: {}: declares namespace {} but the environment's namespace "
                                "is {} (leave metadata.namespace out or use ${{KUBE_NAMESPACE}})",
                                object.where("/metadata/namespace"), object.describe(), ns,
                                options.namespace_name));
      }
      meta["namespace"] = options.namespace_name;
    }
    nlohmann::json labels = source_meta.contains("labels") && source_meta["labels"].is_object()
                                ? source_meta["labels"]
                                : nlohmann::json::object();
    labels[k_managed_by_label] = k_managed_by_value;
    labels[k_project_label] = options.project_id;
    labels[k_environment_label] = options.environment;
    labels[k_dashboard_project_label] = options.project_id;
    labels[k_dashboard_environment_label] = options.environment;
    meta["labels"] = labels;
    nlohmann::json annotations =
        source_meta.contains("annotations") && source_meta["annotations"].is_object()
            ? source_meta["annotations"]
            : nlohmann::json::object();
    annotations[k_source_annotation] = object.origin;
    meta["annotations"] = annotations;
    r["metadata"] = meta;
    for (const char* key : {"spec", "specs"}) {
      if (v.contains(key) && !v[key].is_null()) r[key] = v[key];
    }
    out.push_back(std::move(r));
  }
  return out;
}

} // namespace netpol::policy
