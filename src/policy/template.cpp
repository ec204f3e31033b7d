#include "policy/template.hpp"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

namespace netpol::policy {
namespace {

bool valid_name(std::string_view name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name.front())) != 0) return false;
  return std::all_of(name.begin(), name.end(),
                     [](unsigned char c) { return std::isalnum(c) != 0 || c == '_'; });
}

} // namespace

const std::set<std::string, std::less<>>& predefined_template_variables() {
  // GitLab's predefined CI/CD variables (docs.gitlab.com/ci/variables/predefined_variables)
  // that name the project, environment, pipeline, job, commit and server: none holds a
  // credential. KUBE_NAMESPACE and KUBE_CONTEXT are the deploy job's (Auto DevOps) and
  // netpol's own (SPEC §3).
  static const std::set<std::string, std::less<>> k_names = {
      "CI_API_V4_URL",
      "CI_COMMIT_BRANCH",
      "CI_COMMIT_REF_NAME",
      "CI_COMMIT_REF_SLUG",
      "CI_COMMIT_SHA",
      "CI_COMMIT_SHORT_SHA",
      "CI_COMMIT_TAG",
      "CI_DEFAULT_BRANCH",
      "CI_ENVIRONMENT_ACTION",
      "CI_ENVIRONMENT_NAME",
      "CI_ENVIRONMENT_SLUG",
      "CI_ENVIRONMENT_TIER",
      "CI_ENVIRONMENT_URL",
      "CI_JOB_ID",
      "CI_JOB_NAME",
      "CI_JOB_NAME_SLUG",
      "CI_JOB_STAGE",
      "CI_JOB_URL",
      "CI_MERGE_REQUEST_IID",
      "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME",
      "CI_MERGE_REQUEST_TARGET_BRANCH_NAME",
      "CI_PIPELINE_CREATED_AT",
      "CI_PIPELINE_ID",
      "CI_PIPELINE_IID",
      "CI_PIPELINE_SOURCE",
      "CI_PIPELINE_URL",
      "CI_PROJECT_ID",
      "CI_PROJECT_NAME",
      "CI_PROJECT_NAMESPACE",
      "CI_PROJECT_NAMESPACE_ID",
      "CI_PROJECT_PATH",
      "CI_PROJECT_PATH_SLUG",
      "CI_PROJECT_ROOT_NAMESPACE",
      "CI_PROJECT_TITLE",
      "CI_PROJECT_URL",
      "CI_REGISTRY",
      "CI_REGISTRY_IMAGE",
      "CI_SERVER_FQDN",
      "CI_SERVER_HOST",
      "CI_SERVER_URL",
      "KUBE_CONTEXT",
      "KUBE_NAMESPACE",
  };
  return k_names;
}

bool is_secret_predefined_variable(std::string_view name) {
  static const std::set<std::string, std::less<>> k_secret = {
      "CI_JOB_TOKEN",
      "CI_BUILD_TOKEN",
      "CI_REGISTRY_PASSWORD",
      "CI_DEPLOY_PASSWORD",
      "CI_DEPENDENCY_PROXY_PASSWORD",
      "CI_JOB_JWT",
      "CI_JOB_JWT_V1",
      "CI_JOB_JWT_V2",
      "CI_RUNNER_TOKEN",
      "CI_SERVER_TLS_KEY_FILE",
      "KUBE_TOKEN",
      "GITLAB_TOKEN",
  };
  return k_secret.count(name) != 0;
}

Result<std::set<std::string>> parse_template_var_list(std::string_view text,
                                                      std::string_view what) {
  std::set<std::string> names;
  std::string name;
  auto take = [&]() -> Result<void> {
    if (name.empty()) return {};
    if (!valid_name(name)) {
      return fail(ErrorCode::usage,
                  fmt::format("{}: \"{}\" is not a variable name (letters, digits and '_', "
                              "separated by commas or spaces)",
                              what, name));
    }
    if (is_secret_predefined_variable(name)) {
      return fail(ErrorCode::usage,
                  fmt::format("{}: {} holds a credential and may not be read by policy "
                              "templates: remove it from the list",
                              what, name));
    }
    names.insert(std::move(name));
    name.clear();
    return {};
  };
  for (const char c : text) {
    if (c == ',' || std::isspace(static_cast<unsigned char>(c)) != 0) {
      if (auto ok = take(); !ok) return fail(ok.error());
    } else {
      name += c;
    }
  }
  if (auto ok = take(); !ok) return fail(ok.error());
  return names;
}

TemplateVariables::TemplateVariables(const Environment& env, std::set<std::string> listed,
                                     std::map<std::string, std::string> given)
    : m_env(env), m_listed(std::move(listed)), m_given(std::move(given)) {}

bool TemplateVariables::readable(const std::string& name) const {
  return m_given.count(name) != 0 || m_listed.count(name) != 0 ||
         predefined_template_variables().count(name) != 0;
}

Result<std::string> TemplateVariables::get(const std::string& name,
                                           const std::string& where) const {
  if (auto it = m_given.find(name); it != m_given.end()) return it->second;
  if (!readable(name)) {
    return fail(ErrorCode::invalid_policy,
                fmt::format("{}: template variable {} may not be read by templates (only GitLab's "
                            "predefined variables that hold no secret, see "
                            "docs/configuration.md): if it holds no secret, list it in "
                            "NETPOL_TEMPLATE_VARS or --template-vars, or pass --var {}=VALUE",
                            where, name, name));
  }
  auto value = m_env.get(name);
  if (!value) {
    return fail(ErrorCode::invalid_policy,
                fmt::format("{}: template variable {} is not set", where, name));
  }
  return *value;
}

Result<std::string> expand_template(std::string_view text, const TemplateVariables* vars,
                                    const std::string& where) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text.compare(i, 3, "$${") == 0) {
      out += "${";
      i += 2;
      continue;
    }
    if (text.compare(i, 2, "${") != 0) {
      out += text[i];
      continue;
    }
    const size_t end = text.find('}', i + 2);
    if (end == std::string_view::npos) {
      return fail(ErrorCode::invalid_policy,
                  where + ": unterminated template \"${\" (write \"$${\" for a literal \"${\")");
    }
    const std::string name(text.substr(i + 2, end - i - 2));
    if (!valid_name(name)) {
      return fail(ErrorCode::invalid_policy,
                  fmt::format("{}: invalid template variable name \"{}\"", where, name));
    }
    if (vars == nullptr) {
      return fail(ErrorCode::invalid_policy,
                  fmt::format("{}: template variable {} is not set", where, name));
    }
    auto value = vars->get(name, where);
    if (!value) return fail(value.error());
    out += *value;
    i = end;
  }
  return out;
}

} // namespace netpol::policy
