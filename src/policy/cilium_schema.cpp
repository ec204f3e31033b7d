#include "policy/cilium_schema.hpp"

#include <limits>
#include <map>
#include <memory>
#include <set>

#include <fmt/format.h>
#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include "model/ip.hpp"
#include "policy/policy_object.hpp"
#include "util/embedded.hpp"
#include "util/yaml.hpp"

namespace netpol::policy {
namespace {

using nlohmann::json;

struct Crd {
  json openapi; // spec.versions[v2].schema.openAPIV3Schema
  std::unique_ptr<valijson::Schema> schema;
};

struct Schemas {
  Crd namespaced;
  Crd clusterwide;
  std::string error; // why a schema could not be loaded (a build defect, not user input)
};

Crd parse_crd(std::string_view text, const std::string& name, std::string& error) {
  Crd crd;
  auto docs = parse_yaml_documents(text, name, ErrorCode::internal);
  if (!docs || docs->empty()) {
    error = docs ? name + ": empty" : docs.error().message;
    return crd;
  }
  for (const auto& version : docs->front().value["spec"]["versions"]) {
    if (version.value("name", "") == "v2") crd.openapi = version["schema"]["openAPIV3Schema"];
  }
  if (!crd.openapi.is_object()) {
    error = name + ": no v2 openAPIV3Schema";
    return crd;
  }
  try {
    auto schema = std::make_unique<valijson::Schema>();
    valijson::SchemaParser parser(valijson::SchemaParser::kDraft4);
    valijson::adapters::NlohmannJsonAdapter adapter(crd.openapi);
    parser.populateSchema(adapter, *schema);
    crd.schema = std::move(schema);
  } catch (const std::exception& e) {
    error = name + ": " + e.what();
  }
  return crd;
}

const Schemas& schemas() {
  static const Schemas loaded = [] {
    Schemas s;
    for (const auto& file : embedded_cilium_schemas()) {
      if (file.name == "ciliumnetworkpolicies") {
        s.namespaced = parse_crd(file.text, std::string(file.name), s.error);
      } else if (file.name == "ciliumclusterwidenetworkpolicies") {
        s.clusterwide = parse_crd(file.text, std::string(file.name), s.error);
      }
    }
    return s;
  }();
  return loaded;
}

// valijson's context ["<root>", "[spec]", "[ingress]", "[0]"] → "/spec/ingress/0".
std::string pointer_of(const std::vector<std::string>& context) {
  std::string out;
  for (const auto& part : context) {
    if (part.size() < 2 || part.front() != '[' || part.back() != ']') continue;
    std::string token = part.substr(1, part.size() - 2);
    if (token.size() >= 2 && token.front() == '"' && token.back() == '"')
      token = token.substr(1, token.size() - 2);
    out += "/" + pointer_token(token);
  }
  return out;
}

// The schema node describing the value at `pointer`, following properties, items and
// additionalProperties (and the branches of anyOf/oneOf/allOf that name the key); null when
// the schema does not describe it.
const json* schema_at(const json& schema, const std::string& pointer) {
  const json* node = &schema;
  for (const auto& token : pointer_tokens(pointer)) {
    const json* child = nullptr;
    if (node->contains("properties") && (*node)["properties"].contains(token)) {
      child = &(*node)["properties"][token];
    } else if (node->contains("items") && (*node)["items"].is_object()) {
      child = &(*node)["items"];
    } else if (node->contains("additionalProperties") &&
               (*node)["additionalProperties"].is_object()) {
      child = &(*node)["additionalProperties"];
    }
    if (child == nullptr) return nullptr;
    node = child;
  }
  return node;
}

const char* type_name(const json& v) {
  switch (v.type()) {
  case json::value_t::null: return "null";
  case json::value_t::boolean: return "boolean";
  case json::value_t::string: return "string";
  case json::value_t::array: return "array";
  case json::value_t::object: return "object";
  case json::value_t::number_float: return "number";
  default: return "integer";
  }
}

std::string quoted(const json& v) {
  return v.dump(-1, ' ', false, json::error_handler_t::replace);
}

// The server's wording for one valijson error.
SchemaError describe(const json& openapi, const json& object, std::string pointer,
                     const std::string& message) {
  static const std::string k_required = "Missing required property '";
  if (message.rfind(k_required, 0) == 0) {
    const std::string name = message.substr(
        k_required.size(), message.find('\'', k_required.size()) - k_required.size());
    return {pointer + "/" + pointer_token(name), "Required value", ""};
  }
  const json* value = object.contains(json::json_pointer(pointer))
                          ? &object.at(json::json_pointer(pointer))
                          : nullptr;
  const json* node = schema_at(openapi, pointer);
  if (value != nullptr && node != nullptr) {
    if (message.find("enum") != std::string::npos && node->contains("enum")) {
      std::vector<std::string> allowed;
      for (const auto& e : (*node)["enum"])
        allowed.push_back(quoted(e));
      return {pointer, "Unsupported value",
              fmt::format("{}: supported values: {}", quoted(*value), fmt::join(allowed, ", "))};
    }
    if (message.find("'type' constraint") != std::string::npos && node->contains("type")) {
      return {pointer, "Invalid value",
              fmt::format("\"{}\": must be of type {}", type_name(*value),
                          (*node)["type"].get<std::string>())};
    }
  }
  std::string detail = message;
  if (!detail.empty() && detail.back() == '.') detail.pop_back();
  if (value != nullptr && value->is_primitive()) detail = quoted(*value) + ": " + detail;
  return {pointer, "Invalid value", detail};
}

// What the API server checks on custom resources and valijson does not: the `cidr`
// (net.ParseCIDR) and `int32` formats; and fields the schema does not know (strict decoding).
void check_formats(const json& node, const json& value, const std::string& pointer,
                   std::vector<SchemaError>& out) {
  if (!node.is_object()) return;
  if (node.contains("format") && node["format"].is_string()) {
    const std::string format = node["format"];
    if (format == "cidr" && value.is_string() &&
        !model::Cidr::parse(value.get<std::string>(), model::IpSyntax::api_server)) {
      out.push_back({pointer, "Invalid value",
                     quoted(value) + ": must be of type cidr (address/prefix length)"});
    }
    if (format == "int32" && value.is_number_integer()) {
      const auto n = value.get<int64_t>();
      if (n < std::numeric_limits<int32_t>::min() || n > std::numeric_limits<int32_t>::max())
        out.push_back({pointer, "Invalid value", quoted(value) + ": must be a 32-bit integer"});
    }
  }
  if (value.is_object()) {
    // The properties this node knows: its own and those its anyOf/oneOf/allOf branches name
    // (the CRD's oneOf of endpointSelector/nodeSelector names them with empty schemas).
    std::map<std::string, const json*> properties;
    auto collect = [&](const json& n) {
      if (!n.contains("properties") || !n["properties"].is_object()) return;
      for (const auto& [key, schema] : n["properties"].items()) {
        auto& slot = properties[key];
        if (slot == nullptr || (slot->empty() && !schema.empty())) slot = &schema;
      }
    };
    collect(node);
    for (const char* branch_key : {"anyOf", "oneOf", "allOf"}) {
      if (node.contains(branch_key) && node[branch_key].is_array()) {
        for (const auto& branch : node[branch_key])
          collect(branch);
      }
    }
    const bool open = node.contains("additionalProperties") ||
                      node.value("x-kubernetes-preserve-unknown-fields", false) ||
                      properties.empty();
    for (const auto& [key, child] : value.items()) {
      const std::string p = pointer + "/" + pointer_token(key);
      if (auto it = properties.find(key); it != properties.end()) {
        check_formats(*it->second, child, p, out);
      } else if (node.contains("additionalProperties") &&
                 node["additionalProperties"].is_object()) {
        check_formats(node["additionalProperties"], child, p, out);
      } else if (!open && pointer != "/metadata") {
        // The server drops fields its schema does not know, silently: a misspelt `toPort`
        // would vanish and the rule mean something else. Strict, like NetworkPolicy's.
        // The embedded CRDs are those of one Cilium line (schemas/cilium/README.md): say so,
        // since a field a later Cilium added is refused here too.
        out.push_back({p, "Unknown field",
                       "not a field of this object in the Cilium CRD schema netpol "
                       "checks against (Cilium 1.18 development line; check spelling and "
                       "indentation)"});
      }
    }
  } else if (value.is_array() && node.contains("items")) {
    for (size_t i = 0; i < value.size(); ++i)
      check_formats(node["items"], value[i], pointer + "/" + std::to_string(i), out);
  }
}

} // namespace

std::vector<SchemaError> cilium_schema_errors(const json& object, bool clusterwide) {
  const Schemas& s = schemas();
  const Crd& crd = clusterwide ? s.clusterwide : s.namespaced;
  if (!crd.schema) {
    return {{"", "Internal error",
             "the embedded Cilium CRD schema could not be loaded (" + s.error + ")"}};
  }
  std::vector<SchemaError> all;
  valijson::Validator validator(valijson::Validator::kStrongTypes);
  valijson::ValidationResults results;
  valijson::adapters::NlohmannJsonAdapter adapter(object);
  // valijson throws on some values it cannot compare (found by the policy_loader fuzzer: a
  // format check on a value it does not expect); that is an invalid object, not a crash.
  bool valid = false;
  try {
    valid = validator.validate(*crd.schema, adapter, &results);
  } catch (const std::exception& ex) {
    all.push_back({"", "Invalid value",
                   std::string("the object does not match the CRD schema: ") + ex.what()});
    valid = true; // nothing more in `results`
  }
  if (!valid) {
    valijson::ValidationResults::Error e;
    while (results.popError(e))
      all.push_back(describe(crd.openapi, object, pointer_of(e.context), e.description));
  }
  check_formats(crd.openapi, object, "", all);
  // valijson reports a failure at every level it passes through (a oneOf, then the branch,
  // then the field). Keep the deepest: an error whose pointer is a prefix of another error's
  // only repeats it.
  std::vector<SchemaError> out;
  std::set<std::string> seen;
  for (const auto& candidate : all) {
    bool deeper_exists = false;
    for (const auto& other : all) {
      if (other.pointer.size() > candidate.pointer.size() &&
          other.pointer.compare(0, candidate.pointer.size() + 1, candidate.pointer + "/") == 0) {
        deeper_exists = true;
        break;
      }
    }
    if (deeper_exists || !seen.insert(candidate.pointer + "\n" + candidate.detail).second) continue;
    out.push_back(candidate);
  }
  return out;
}

} // namespace netpol::policy
