// Default profiles (SPEC §6) and rendering of the desired objects: what `plan` and `apply`
// send to the cluster. The profiles are the YAML files in profiles/, embedded at build time.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "policy/loader.hpp"
#include "policy/policy_object.hpp"
#include "util/embedded.hpp"
#include "util/env.hpp"
#include "util/error.hpp"

namespace netpol::policy {

// Labels and annotation on every object netpol applies.
inline constexpr const char* k_managed_by_label = "app.kubernetes.io/managed-by";
inline constexpr const char* k_managed_by_value = "netpol";
inline constexpr const char* k_project_label = "app.gitlab.com/proj";
inline constexpr const char* k_environment_label = "app.gitlab.com/env";
// GitLab's Kubernetes dashboard finds an environment's resources by these two; prune keeps
// using the three ownership labels above.
inline constexpr const char* k_dashboard_project_label = "app.gitlab.com/project_id";
inline constexpr const char* k_dashboard_environment_label = "app.gitlab.com/environment_slug";
inline constexpr const char* k_source_annotation = "netpol.gitlab.io/source";
inline constexpr const char* k_field_manager = "netpol";

// The profiles are embedded_profiles() (util/embedded.hpp): every profiles/*.yaml.

struct ProfileOptions {
  // namespace-isolation: the namespaces whose pods may reach the app (empty = the profile's
  // defaults: ingress-nginx, gitlab-managed-apps, monitoring).
  std::vector<std::string> allowed_namespaces;
  // namespace-isolation: Knative is installed, so knative-serving is allowed too.
  bool knative = false;
};

// Loads profile `name` ("gitlab", "namespace-isolation"; "none" gives no objects), with its
// templates expanded from `vars`. Unknown name: ErrorCode::config listing the known ones.
// Objects' origin is "profile:<name>".
Result<std::vector<PolicyObject>> load_profile(const std::string& name,
                                               const TemplateVariables* vars,
                                               const ProfileOptions& options = {});

struct RenderOptions {
  std::string project_id;     // CI_PROJECT_ID
  std::string environment;    // CI_ENVIRONMENT_SLUG
  std::string namespace_name; // the environment's namespace (-n / KUBE_NAMESPACE)
};

// The selector of everything netpol applied for this project and environment:
// "app.kubernetes.io/managed-by=netpol,app.gitlab.com/proj=<id>,app.gitlab.com/env=<slug>".
std::string managed_selector(const RenderOptions& options);

// The objects as they are applied: apiVersion, kind, metadata (name, namespace — set to
// options.namespace_name when absent —, labels plus netpol's three and GitLab's two dashboard
// labels, annotations plus
// netpol.gitlab.io/source) and spec(s); server-owned fields dropped. Fails with
// ErrorCode::config when project or environment is empty or not a valid label value, and
// ErrorCode::invalid_policy ("file:line: ...") when an object names another namespace.
Result<std::vector<nlohmann::json>> render_desired(const std::vector<PolicyObject>& objects,
                                                   const RenderOptions& options);

} // namespace netpol::policy
