// One policy object as read from the user's input, with where it came from, so every later
// message (validation, lint, apply) can point at `file:line` and the applied object can
// carry its origin in the `netpol.gitlab.io/source` annotation.
#pragma once

#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/policy_kind.hpp"
#include "util/yaml.hpp"

namespace netpol::policy {

using model::PolicyKind;
using model::to_string;

struct PolicyObject {
  PolicyKind kind = PolicyKind::network_policy;
  nlohmann::json value; // the object after template expansion
  // The document it was read from (shared by the items of one `kind: List`), and the JSON
  // pointer of this object inside it ("" or "/items/3").
  std::shared_ptr<const YamlDocument> document;
  std::string base_pointer;
  // What `netpol.gitlab.io/source` says: the file path as given, the import URL, or
  // "profile:<name>".
  std::string origin;

  // "file:line" of the node at `pointer` (relative to this object), or of its nearest
  // ancestor that has a line.
  std::string where(const std::string& pointer = "") const;
  // "NetworkPolicy/ns/name" ("NetworkPolicy/name" without a namespace).
  std::string describe() const;
  std::string name() const;
  std::string namespace_name() const; // "" when the object names none
};

// The value at `path` (object keys) inside `value`, or a null value when a step is missing
// or not an object: for reading user input of any shape without checks at every level.
const nlohmann::json& field_at(const nlohmann::json& value,
                               std::initializer_list<const char*> path);

// The unescaped tokens of a JSON pointer: "/metadata/labels/a~1b" → {"metadata", "labels",
// "a/b"}.
std::vector<std::string> pointer_tokens(const std::string& pointer);

// The API's field path of a JSON pointer: "/spec/ingress/0/ports/0/port" →
// "spec.ingress[0].ports[0].port" (what the API server's messages name).
std::string field_path(const std::string& pointer);

} // namespace netpol::policy
