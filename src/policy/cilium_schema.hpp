// CiliumNetworkPolicy and CiliumClusterwideNetworkPolicy against the openAPIV3Schema of
// their CustomResourceDefinitions (schemas/cilium/, embedded), as the API server validates
// a custom resource: types, required fields, enums, patterns, bounds, oneOf/anyOf, and the
// `cidr` and `int32` formats. Messages follow the server's:
//   spec.ingress[0].fromEntities[0]: Unsupported value: "internet": supported values: "all", ...
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace netpol::policy {

struct SchemaError {
  std::string pointer; // JSON pointer of the failing value: "/spec/ingress/0/fromEntities/0"
  std::string type;    // "Invalid value", "Unsupported value", "Required value"
  std::string detail;  // "\"internet\": supported values: \"all\", ..."
};

// The errors of `object` (a whole CiliumNetworkPolicy or CiliumClusterwideNetworkPolicy)
// against its CRD schema; empty when valid. The schemas are parsed once, on first use; the
// function is safe to call from several threads.
std::vector<SchemaError> cilium_schema_errors(const nlohmann::json& object, bool clusterwide);

} // namespace netpol::policy
