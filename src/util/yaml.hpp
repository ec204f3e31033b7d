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

namespace YAML {
class Emitter;
}

namespace netpol {

// One JSON pointer token for a map key: "a/b" -> "a~1b", "a~b" -> "a~0b" (RFC 6901), as
// YamlDocument::lines keys its nodes.
std::string pointer_token(std::string_view key);

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
// `source:line:column`; so are, with what to do about them: a repeated mapping key, nesting
// deeper than 64 levels, aliases that expand to more than 100 000 nodes (an alias bomb), and
// more than 1 000 000 nodes in all.
Result<std::vector<YamlDocument>>
parse_yaml_documents(std::string_view text, const std::string& source,
                     ErrorCode error_code = ErrorCode::invalid_policy);

// Reads a file (util/file: a regular file of at most 16 MiB) and parses it as above; a
// missing, unreadable, special or oversized file names the path.
Result<std::vector<YamlDocument>> load_yaml_file(const std::string& path,
                                                 ErrorCode error_code = ErrorCode::invalid_policy);

// Renders a JSON value as block-style YAML through yaml-cpp's YAML::Emitter (for
// policies.yaml, cilium-values.yaml, suggested-policy.yaml). A string is double-quoted when a
// YAML 1.1 reader (Helm, kubectl, PyYAML) or a YAML 1.2 reader would take it plain for another
// type (Yes, ON, Y, ~, .nan, 0x1F, 1:20, 2001-12-14, ...) or another string, and escaped when
// it holds characters YAML cannot carry raw (DEL, C1 controls, U+FFFE).
std::string to_yaml(const nlohmann::json& value);
// Emits `value` into an emitter as to_yaml writes it (for writers that build a stream of
// several values, e.g. comments between them).
void emit_yaml(YAML::Emitter& out, const nlohmann::json& value);
// A string as to_yaml writes it, alone.
std::string yaml_scalar(const std::string& text);

} // namespace netpol
