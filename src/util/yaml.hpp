// YAML input as JSON values. Kubernetes objects are JSON underneath; every consumer
// (policy loader, analyze, kubeconfig, values files) works on nlohmann::json and uses the
// recorded lines to point users at `file:line`.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/error.hpp"

namespace netpol {

struct YamlDocument {
  nlohmann::json value; // null for an empty document
  std::string source;   // file name (or "<stdin>") the document came from
  int line = 0;         // 1-based line where the document starts
  // 1-based line of every node, keyed by JSON pointer ("/spec/ingress/0/ports/0/port").
  std::map<std::string, int> lines;

  // The line of the node at `pointer`, or of its nearest ancestor that has one.
  int line_of(const std::string& pointer) const;
  // "file:line" for the node at `pointer`.
  std::string where(const std::string& pointer = "") const;
};

// Parses every document of a multi-document YAML stream (JSON is YAML too). Scalars follow
// the YAML 1.2 core schema: unquoted true/false, null/~, integers and floats become JSON
// booleans, null and numbers; quoted scalars stay strings. A syntax error is
// ErrorCode::invalid_policy by default (callers pass another code, e.g. config), naming
// `source:line:column`.
Result<std::vector<YamlDocument>>
parse_yaml_documents(std::string_view text, const std::string& source,
                     ErrorCode error_code = ErrorCode::invalid_policy);

// Reads a file and parses it as above; a missing or unreadable file names the path.
Result<std::vector<YamlDocument>> load_yaml_file(const std::string& path,
                                                 ErrorCode error_code = ErrorCode::invalid_policy);

// Renders a JSON value as block-style YAML (for policies.yaml, cilium-values.yaml,
// suggested-policy.yaml): strings that would read back as another type are quoted.
std::string to_yaml(const nlohmann::json& value);
// A string as to_yaml writes it: plain, or double-quoted when plain it would read back as
// another type or another string (for writers that emit YAML without a JSON value).
std::string yaml_scalar(const std::string& text);

} // namespace netpol
