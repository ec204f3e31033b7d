// `${NAME}` templates in policy files and profiles, and what they may read (SPEC §6).
//
// A template reads an allow-list only, never the whole environment: GitLab's predefined
// variables that carry no secret (project, environment, pipeline, commit, namespace...),
// the names a project lists in NETPOL_TEMPLATE_VARS (--template-vars), and values given
// with --var NAME=VALUE. Naming anything else (${CI_JOB_TOKEN}, a masked variable) is an
// input error: a policy file is not a place a secret should be able to reach, because what
// it expands to lands in policies.yaml, plan.txt and the cluster.
#pragma once

#include <map>
#include <set>
#include <string>
#include <string_view>

#include "util/env.hpp"
#include "util/error.hpp"

namespace netpol::policy {

// GitLab's predefined variables templates may always read (docs/configuration.md lists them).
const std::set<std::string, std::less<>>& predefined_template_variables();

// GitLab's predefined variables that hold credentials (CI_JOB_TOKEN, CI_REGISTRY_PASSWORD,
// CI_JOB_JWT...): refused even when listed in NETPOL_TEMPLATE_VARS.
bool is_secret_predefined_variable(std::string_view name);

// NETPOL_TEMPLATE_VARS / --template-vars: names separated by commas or white space. A name
// that is not a variable name, or a secret predefined variable, is ErrorCode::usage naming
// `what` and the name.
Result<std::set<std::string>> parse_template_var_list(std::string_view text, std::string_view what);

// The variables one load may read.
class TemplateVariables {
public:
  // `env` must outlive this object. `listed`: NETPOL_TEMPLATE_VARS's names; `given`:
  // --var NAME=VALUE (readable whatever their name, and winning over the environment).
  explicit TemplateVariables(const Environment& env, std::set<std::string> listed = {},
                             std::map<std::string, std::string> given = {});

  // The value of `name` for a template at `where` ("file:line"). Errors, both
  // ErrorCode::invalid_policy: "<where>: template variable X may not be read by templates
  // ...: list it in NETPOL_TEMPLATE_VARS ...", and "<where>: template variable X is not set".
  Result<std::string> get(const std::string& name, const std::string& where) const;

  bool readable(const std::string& name) const;

private:
  const Environment& m_env;
  std::set<std::string> m_listed;
  std::map<std::string, std::string> m_given;
};

// Expands `${NAME}` in `text` ("$${" stands for a literal "${"). An unset or unreadable
// variable, an invalid name or an unterminated `${` is ErrorCode::invalid_policy
// "<where>: ..." naming the variable. `vars` null: every template is an error.
Result<std::string> expand_template(std::string_view text, const TemplateVariables* vars,
                                    const std::string& where);

} // namespace netpol::policy
