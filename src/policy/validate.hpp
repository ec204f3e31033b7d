// The API server's validation of policy objects, offline, so an invalid object is caught
// before the first write (SPEC §6) and `lint` can run without a cluster.
//
// NetworkPolicy: the rules of kube-apiserver's ValidateNetworkPolicy (object metadata,
// label selectors, ports, protocols, ipBlock) plus strict decoding (unknown fields and wrong
// JSON types are errors, as with `kubectl apply --validate=strict`). Field paths and
// messages follow the API server's, e.g.
//   spec.ingress[0].ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive
// CiliumNetworkPolicy / CiliumClusterwideNetworkPolicy: the structural checks of their CRD
// schema (types, required fields, enums, one selector per rule).
#pragma once

#include <string>
#include <vector>

#include "policy/policy_object.hpp"

namespace netpol::policy {

struct FieldError {
  std::string field; // API path: "spec.ingress[0].ports[0].port"
  std::string
      pointer;      // JSON pointer inside the object, for the line: "/spec/ingress/0/ports/0/port"
  std::string type; // "Invalid value", "Required value", "Unsupported value", "Forbidden", ...
  std::string detail; // the rest: "0: must be between 1 and 65535, inclusive"

  // "spec.ingress[0].ports[0].port: Invalid value: 0: must be between ..."
  std::string text() const;
};

struct ValidationResult {
  std::vector<FieldError> errors;   // the API server would reject the object
  std::vector<FieldError> warnings; // accepted, but the server warns (e.g. CIDR host bits set)

  bool ok() const { return errors.empty(); }
};

ValidationResult validate(const PolicyObject& object);

// "file:line: NetworkPolicy/ns/name: <field error text>", the line being the field's.
std::string format_field_error(const PolicyObject& object, const FieldError& error);

// Rules shared with profile rendering and lint (apimachinery validation helpers). Each
// returns the API server's messages; empty means valid.
std::vector<std::string> dns1123_subdomain_errors(const std::string& value);
std::vector<std::string> dns1123_label_errors(const std::string& value);
std::vector<std::string> qualified_name_errors(const std::string& value);
std::vector<std::string> label_value_errors(const std::string& value);

} // namespace netpol::policy
