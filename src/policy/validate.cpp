#include "policy/validate.hpp"

#include <regex>
#include <set>

#include <fmt/format.h>

#include "model/ip.hpp"
#include "policy/cilium_schema.hpp"
#include "util/yaml.hpp"

namespace netpol::policy {
namespace {

using nlohmann::json;

// Messages and patterns are the API server's (k8s.io/apimachinery/pkg/util/validation).
const char* const k_dns1123_label_fmt = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const char* const k_dns1123_subdomain_fmt =
    "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
const char* const k_qualified_name_fmt = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
const char* const k_label_value_fmt = "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?";
constexpr size_t k_total_annotation_size = 256 * 1024;

std::string max_len_msg(size_t n) {
  return fmt::format("must be no more than {} characters", n);
}

// Where a check is: the API path and the JSON pointer (for the line).
struct Path {
  std::string field;
  std::string pointer;

  Path child(const std::string& name) const {
    return {field.empty() ? name : field + "." + name, pointer + "/" + name};
  }
  Path index(size_t i) const {
    return {field + "[" + std::to_string(i) + "]", pointer + "/" + std::to_string(i)};
  }
  // A map entry: the API path stays on the map (as ValidateLabels reports it), the line is
  // the entry's.
  Path entry(const std::string& key) const { return {field, pointer + "/" + pointer_token(key)}; }
};

// Go's %q-ish rendering of a value in "Invalid value: <v>".
std::string show(const json& v) {
  if (v.is_string()) return json(v.get<std::string>()).dump();
  return v.dump();
}

const char* json_type_name(const json& v) {
  switch (v.type()) {
  case json::value_t::null: return "null";
  case json::value_t::boolean: return "boolean";
  case json::value_t::string: return "string";
  case json::value_t::array: return "list";
  case json::value_t::object: return "object";
  default: return "number";
  }
}

class Validator {
public:
  ValidationResult result;

  void invalid(const Path& p, const json& value, const std::string& msg) {
    result.errors.push_back({p.field, p.pointer, "Invalid value", show(value) + ": " + msg});
  }
  void required(const Path& p, const std::string& msg) {
    result.errors.push_back({p.field, p.pointer, "Required value", msg});
  }
  void forbidden(const Path& p, const std::string& msg) {
    result.errors.push_back({p.field, p.pointer, "Forbidden", msg});
  }
  void unsupported(const Path& p, const json& value, const std::vector<std::string>& allowed) {
    std::string list;
    for (const auto& a : allowed)
      list += (list.empty() ? "" : ", ") + json(a).dump();
    result.errors.push_back(
        {p.field, p.pointer, "Unsupported value", show(value) + ": supported values: " + list});
  }
  void warn(const Path& p, const std::string& msg) {
    result.warnings.push_back({p.field, p.pointer, "Warning", msg});
  }
  // Strict decoding: a field the type does not have.
  void unknown_fields(const json& obj, const Path& p, std::initializer_list<const char*> known) {
    for (const auto& [key, value] : obj.items()) {
      bool found = false;
      for (const char* k : known)
        found = found || key == k;
      if (!found) {
        Path f = p.child(key);
        result.errors.push_back({f.field, f.pointer, "Unknown field",
                                 "not a field of this object (check spelling and indentation)"});
      }
    }
  }
  // Decoding: the JSON type must fit the Go type. Null counts as absent.
  bool expect(const json& v, json::value_t type, const Path& p, const char* what) {
    if (v.type() == type) return true;
    if (type == json::value_t::number_integer && v.is_number_integer()) return true;
    invalid(p, v.is_object() || v.is_array() ? json(json_type_name(v)) : v,
            std::string("must be ") + what);
    return false;
  }
  const json* get(const json& obj, const char* key) {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return nullptr;
    return &*it;
  }

  void string_map(const json& m, const Path& p, bool labels) {
    if (!expect(m, json::value_t::object, p, "a map of strings")) return;
    size_t total = 0;
    for (const auto& [key, value] : m.items()) {
      const Path e = p.entry(key);
      if (!value.is_string()) {
        invalid(e, value, "must be a string (quote numbers and booleans)");
        continue;
      }
      std::string checked_key = key;
      if (!labels) {
        for (auto& c : checked_key)
          c = static_cast<char>(std::tolower(c));
      }
      for (const auto& msg : qualified_name_errors(checked_key))
        invalid(e, key, msg);
      if (labels) {
        for (const auto& msg : label_value_errors(value.get<std::string>()))
          invalid(e, value, msg);
      }
      total += key.size() + value.get_ref<const std::string&>().size();
    }
    if (!labels && total > k_total_annotation_size) {
      result.errors.push_back(
          {p.field, p.pointer, "Too long",
           fmt::format("may not be more than {} bytes", k_total_annotation_size)});
    }
  }

  void object_meta(const json& obj, bool namespaced) {
    const Path p{"metadata", "/metadata"};
    const json* meta = get(obj, "metadata");
    if (!meta) {
      required(p.child("name"), "name or generateName is required");
      return;
    }
    if (!expect(*meta, json::value_t::object, p, "an object")) return;
    unknown_fields(*meta, p,
                   {"name", "generateName", "namespace", "selfLink", "uid", "resourceVersion",
                    "generation", "creationTimestamp", "deletionTimestamp",
                    "deletionGracePeriodSeconds", "labels", "annotations", "ownerReferences",
                    "finalizers", "managedFields"});
    const json* name = get(*meta, "name");
    const json* generate = get(*meta, "generateName");
    if (name && expect(*name, json::value_t::string, p.child("name"), "a string")) {
      const auto& n = name->get_ref<const std::string&>();
      if (n.empty() && !generate) required(p.child("name"), "name or generateName is required");
      if (!n.empty()) {
        for (const auto& msg : dns1123_subdomain_errors(n))
          invalid(p.child("name"), *name, msg);
      }
    } else if (!name && !generate) {
      required(p.child("name"), "name or generateName is required");
    }
    if (const json* ns = get(*meta, "namespace")) {
      if (expect(*ns, json::value_t::string, p.child("namespace"), "a string")) {
        const auto& n = ns->get_ref<const std::string&>();
        if (!n.empty()) {
          for (const auto& msg : dns1123_label_errors(n))
            invalid(p.child("namespace"), *ns, msg);
          if (!namespaced) {
            forbidden(p.child("namespace"), "not allowed on this type");
          }
        }
      }
    }
    if (const json* labels = get(*meta, "labels")) string_map(*labels, p.child("labels"), true);
    if (const json* ann = get(*meta, "annotations"))
      string_map(*ann, p.child("annotations"), false);
  }

  void label_selector(const json& sel, const Path& p) {
    if (!expect(sel, json::value_t::object, p, "a label selector object")) return;
    unknown_fields(sel, p, {"matchLabels", "matchExpressions"});
    if (const json* exprs = get(sel, "matchExpressions")) {
      const Path ep = p.child("matchExpressions");
      if (expect(*exprs, json::value_t::array, ep, "a list")) {
        for (size_t i = 0; i < exprs->size(); ++i)
          requirement((*exprs)[i], ep.index(i));
      }
    }
    if (const json* labels = get(sel, "matchLabels"))
      string_map(*labels, p.child("matchLabels"), true);
  }

  void requirement(const json& req, const Path& p) {
    if (!expect(req, json::value_t::object, p, "an object")) return;
    unknown_fields(req, p, {"key", "operator", "values"});
    std::vector<json> values;
    if (const json* v = get(req, "values")) {
      if (expect(*v, json::value_t::array, p.child("values"), "a list of strings")) {
        for (size_t i = 0; i < v->size(); ++i) {
          if (expect((*v)[i], json::value_t::string, p.child("values").index(i), "a string"))
            values.push_back((*v)[i]);
        }
      }
    }
    std::string op;
    if (const json* o = get(req, "operator")) {
      if (expect(*o, json::value_t::string, p.child("operator"), "a string"))
        op = o->get<std::string>();
    }
    if (op == "In" || op == "NotIn") {
      if (values.empty())
        required(p.child("values"), "must be specified when `operator` is 'In' or 'NotIn'");
    } else if (op == "Exists" || op == "DoesNotExist") {
      if (!values.empty())
        forbidden(p.child("values"),
                  "may not be specified when `operator` is 'Exists' or 'DoesNotExist'");
    } else {
      invalid(p.child("operator"), op, "not a valid selector operator");
    }
    std::string key;
    if (const json* k = get(req, "key")) {
      if (expect(*k, json::value_t::string, p.child("key"), "a string"))
        key = k->get<std::string>();
    }
    for (const auto& msg : qualified_name_errors(key))
      invalid(p.child("key"), key, msg);
    for (size_t i = 0; i < values.size(); ++i) {
      for (const auto& msg : label_value_errors(values[i].get<std::string>()))
        invalid(p.child("values").index(i), values[i], msg);
    }
  }

  static std::vector<std::string> port_num_errors(int64_t v) {
    if (v < 1 || v > 65535) return {"must be between 1 and 65535, inclusive"};
    return {};
  }

  static std::vector<std::string> port_name_errors(const std::string& port) {
    std::vector<std::string> errs;
    if (port.size() > 15) errs.push_back("must be no more than 15 characters");
    static const std::regex chars("[-a-z0-9]+");
    static const std::regex letter(".*[a-z].*");
    if (!std::regex_match(port, chars))
      errs.push_back("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)");
    if (!std::regex_match(port, letter)) errs.push_back("must contain at least one letter (a-z)");
    if (port.find("--") != std::string::npos)
      errs.push_back("must not contain consecutive hyphens");
    if (!port.empty() && (port.front() == '-' || port.back() == '-'))
      errs.push_back("must not begin or end with a hyphen");
    return errs;
  }

  void network_policy_port(const json& port, const Path& p) {
    if (!expect(port, json::value_t::object, p, "an object")) return;
    unknown_fields(port, p, {"protocol", "port", "endPort"});
    if (const json* proto = get(port, "protocol")) {
      if (expect(*proto, json::value_t::string, p.child("protocol"), "a string")) {
        const auto& s = proto->get_ref<const std::string&>();
        if (s != "TCP" && s != "UDP" && s != "SCTP")
          unsupported(p.child("protocol"), *proto, {"SCTP", "TCP", "UDP"});
      }
    }
    const json* end_port = get(port, "endPort");
    if (end_port && !end_port->is_number_integer()) {
      expect(*end_port, json::value_t::number_integer, p.child("endPort"), "an integer");
      end_port = nullptr;
    }
    const json* port_value = get(port, "port");
    if (port_value) {
      if (port_value->is_number_integer()) {
        const int64_t v = port_value->get<int64_t>();
        for (const auto& msg : port_num_errors(v))
          invalid(p.child("port"), *port_value, msg);
        if (end_port) {
          const int64_t e = end_port->get<int64_t>();
          if (e < v)
            invalid(p.child("endPort"), *port_value, "must be greater than or equal to `port`");
          for (const auto& msg : port_num_errors(e))
            invalid(p.child("endPort"), *end_port, msg);
        }
      } else if (port_value->is_string()) {
        if (end_port)
          invalid(p.child("endPort"), *end_port, "may not be specified when `port` is non-numeric");
        for (const auto& msg : port_name_errors(port_value->get<std::string>()))
          invalid(p.child("port"), *port_value, msg);
      } else {
        invalid(p.child("port"), *port_value, "must be a port number or a port name");
      }
    } else if (end_port) {
      invalid(p.child("endPort"), *end_port, "may not be specified when `port` is not specified");
    }
  }

  void cidr_field(const json& v, const Path& p, std::optional<model::Cidr>& out) {
    if (!expect(v, json::value_t::string, p, "a string")) return;
    const auto& s = v.get_ref<const std::string&>();
    out = model::Cidr::parse(s, model::IpSyntax::api_server);
    if (!out) {
      invalid(p, v, "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)");
      return;
    }
    if (out->has_host_bits()) {
      warn(p, fmt::format("assuming network address {} is meant: {} has host bits set (newer "
                          "API servers reject it)",
                          out->network().to_string(), s));
    }
  }

  void ip_block(const json& block, const Path& p) {
    if (!expect(block, json::value_t::object, p, "an object")) return;
    unknown_fields(block, p, {"cidr", "except"});
    const json* cidr = get(block, "cidr");
    if (!cidr || (cidr->is_string() && cidr->get_ref<const std::string&>().empty())) {
      required(p.child("cidr"), "");
      return;
    }
    std::optional<model::Cidr> net;
    cidr_field(*cidr, p.child("cidr"), net);
    if (!net) return;
    const json* except = get(block, "except");
    if (!except || !expect(*except, json::value_t::array, p.child("except"), "a list of strings"))
      return;
    for (size_t i = 0; i < except->size(); ++i) {
      const Path ep = p.child("except").index(i);
      std::optional<model::Cidr> ex;
      cidr_field((*except)[i], ep, ex);
      if (!ex) continue;
      if (!net->contains(*ex) || net->prefix >= ex->prefix)
        invalid(ep, (*except)[i], "must be a strict subset of `cidr`");
    }
  }

  void peer(const json& peer_value, const Path& p) {
    if (!expect(peer_value, json::value_t::object, p, "an object")) return;
    unknown_fields(peer_value, p, {"podSelector", "namespaceSelector", "ipBlock"});
    int peers = 0;
    if (const json* s = get(peer_value, "podSelector")) {
      ++peers;
      label_selector(*s, p.child("podSelector"));
    }
    if (const json* s = get(peer_value, "namespaceSelector")) {
      ++peers;
      label_selector(*s, p.child("namespaceSelector"));
    }
    const json* block = get(peer_value, "ipBlock");
    if (block) {
      ++peers;
      ip_block(*block, p.child("ipBlock"));
    }
    if (peers == 0) {
      required(p, "must specify a peer");
    } else if (peers > 1 && block) {
      forbidden(p, "may not specify both ipBlock and another peer");
    }
  }

  void rules(const json& spec, const char* direction, const char* peers_key, const Path& sp) {
    const json* list = get(spec, direction);
    if (!list) return;
    const Path lp = sp.child(direction);
    if (!expect(*list, json::value_t::array, lp, "a list of rules")) return;
    for (size_t i = 0; i < list->size(); ++i) {
      const json& rule = (*list)[i];
      const Path rp = lp.index(i);
      if (!expect(rule, json::value_t::object, rp, "an object")) continue;
      unknown_fields(rule, rp, {"ports", peers_key});
      if (const json* ports = get(rule, "ports")) {
        if (expect(*ports, json::value_t::array, rp.child("ports"), "a list")) {
          for (size_t j = 0; j < ports->size(); ++j)
            network_policy_port((*ports)[j], rp.child("ports").index(j));
        }
      }
      if (const json* peers = get(rule, peers_key)) {
        if (expect(*peers, json::value_t::array, rp.child(peers_key), "a list")) {
          for (size_t j = 0; j < peers->size(); ++j)
            peer((*peers)[j], rp.child(peers_key).index(j));
        }
      }
    }
  }

  void network_policy(const json& obj) {
    unknown_fields(obj, {"", ""}, {"apiVersion", "kind", "metadata", "spec", "status"});
    object_meta(obj, true);
    const json* spec = get(obj, "spec");
    if (!spec) return;
    const Path sp{"spec", "/spec"};
    if (!expect(*spec, json::value_t::object, sp, "an object")) return;
    unknown_fields(*spec, sp, {"podSelector", "ingress", "egress", "policyTypes"});
    if (const json* sel = get(*spec, "podSelector")) label_selector(*sel, sp.child("podSelector"));
    rules(*spec, "ingress", "from", sp);
    rules(*spec, "egress", "to", sp);
    if (const json* types = get(*spec, "policyTypes")) {
      const Path tp = sp.child("policyTypes");
      // As the API server: too many entries is the only error reported then.
      if (expect(*types, json::value_t::array, tp, "a list")) {
        if (types->size() > 2) {
          invalid(tp, *types, "may not specify more than two policyTypes");
          return;
        }
        for (size_t i = 0; i < types->size(); ++i) {
          const json& t = (*types)[i];
          if (!t.is_string() || (t != "Ingress" && t != "Egress"))
            unsupported(tp.index(i), t, {"Ingress", "Egress"});
        }
      }
    }
  }

  // Cilium's own rule checks the CRD schema cannot express: a rule selects exactly one of
  // endpoints or nodes, and nodes only in a clusterwide policy. Types, enums, patterns and
  // formats come from the schema (cilium_schema_errors).
  void cilium_rule(const json& rule, const Path& p, bool clusterwide) {
    if (!expect(rule, json::value_t::object, p, "an object")) return;
    const json* endpoint = get(rule, "endpointSelector");
    const json* node = get(rule, "nodeSelector");
    if (!endpoint && !node) {
      required(p.child("endpointSelector"), "a rule needs endpointSelector or nodeSelector");
    } else if (endpoint && node) {
      forbidden(p, "may not specify both endpointSelector and nodeSelector");
    }
    if (node && !clusterwide)
      forbidden(p.child("nodeSelector"), "only allowed in CiliumClusterwideNetworkPolicy");
  }

  void cilium_policy(const json& obj, bool clusterwide) {
    unknown_fields(obj, {"", ""}, {"apiVersion", "kind", "metadata", "spec", "specs", "status"});
    object_meta(obj, !clusterwide);
    const json* spec = get(obj, "spec");
    const json* specs = get(obj, "specs");
    if (!spec && !specs) {
      required({"spec", "/spec"}, "a Cilium policy needs `spec` or `specs`");
    }
    if (spec) cilium_rule(*spec, {"spec", "/spec"}, clusterwide);
    if (specs) {
      const Path p{"specs", "/specs"};
      if (expect(*specs, json::value_t::array, p, "a list of rules")) {
        for (size_t i = 0; i < specs->size(); ++i)
          cilium_rule((*specs)[i], p.index(i), clusterwide);
      }
    }
    // Then the CRD's schema, as the API server checks a custom resource. A field the checks
    // above already reported is not reported twice.
    std::set<std::string> reported;
    std::set<std::string> required_in; // parents of the required fields reported above
    auto parent = [](const std::string& pointer) { return pointer.substr(0, pointer.rfind('/')); };
    for (const auto& e : result.errors) {
      reported.insert(e.pointer);
      if (e.type == "Required value") required_in.insert(parent(e.pointer));
    }
    for (const auto& e : cilium_schema_errors(obj, clusterwide)) {
      bool covered = false;
      for (const auto& r : reported)
        covered |= e.pointer.rfind(r, 0) == 0 || r.rfind(e.pointer + "/", 0) == 0;
      // The schema's oneOf (endpointSelector | nodeSelector) reports each branch's missing
      // field; the rule check above said it once.
      covered |= e.type == "Required value" && required_in.count(parent(e.pointer)) != 0;
      if (covered) continue;
      reported.insert(e.pointer);
      result.errors.push_back({field_path(e.pointer), e.pointer, e.type, e.detail});
    }
  }
};

// Each pattern is compiled once: compiling a std::regex costs far more than matching it, and
// these run for every name, label and selector of every policy.
const std::regex& dns1123_label_re() {
  static const std::regex re(k_dns1123_label_fmt);
  return re;
}
const std::regex& dns1123_subdomain_re() {
  static const std::regex re(k_dns1123_subdomain_fmt);
  return re;
}
const std::regex& qualified_name_re() {
  static const std::regex re(k_qualified_name_fmt);
  return re;
}
const std::regex& label_value_re() {
  static const std::regex re(k_label_value_fmt);
  return re;
}

} // namespace

std::vector<std::string> dns1123_label_errors(const std::string& value) {
  std::vector<std::string> errs;
  if (value.size() > 63) errs.push_back(max_len_msg(63));
  if (!std::regex_match(value, dns1123_label_re()))
    errs.push_back(
        fmt::format("a lowercase RFC 1123 label must consist of lower case alphanumeric characters "
                    "or '-', and must start and end with an alphanumeric character (e.g. "
                    "'my-name',  or '123-abc', regex used for validation is '{}')",
                    k_dns1123_label_fmt));
  return errs;
}

std::vector<std::string> dns1123_subdomain_errors(const std::string& value) {
  std::vector<std::string> errs;
  if (value.size() > 253) errs.push_back(max_len_msg(253));
  if (!std::regex_match(value, dns1123_subdomain_re()))
    errs.push_back(
        fmt::format("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
                    "characters, '-' or '.', and must start and end with an alphanumeric "
                    "character (e.g. 'example.com', regex used for validation is '{}')",
                    k_dns1123_subdomain_fmt));
  return errs;
}

std::vector<std::string> qualified_name_errors(const std::string& value) {
  // Built only for an invalid name: valid ones are the common case.
  const auto qualified_msg = [] {
    return fmt::format(
        "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with "
        "an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
        "validation is '{}')",
        k_qualified_name_fmt);
  };
  std::vector<std::string> errs;
  std::string name = value;
  const size_t slash = value.find('/');
  if (slash != std::string::npos) {
    if (value.find('/', slash + 1) != std::string::npos)
      return {"a qualified name " + qualified_msg() +
              " with an optional DNS subdomain prefix and "
              "'/' (e.g. 'example.com/MyName')"};
    const std::string prefix = value.substr(0, slash);
    name = value.substr(slash + 1);
    if (prefix.empty()) {
      errs.push_back("prefix part must be non-empty");
    } else {
      for (const auto& msg : dns1123_subdomain_errors(prefix))
        errs.push_back("prefix part " + msg);
    }
  }
  if (name.empty()) {
    errs.push_back("name part must be non-empty");
  } else {
    if (name.size() > 63) errs.push_back("name part " + max_len_msg(63));
    if (!std::regex_match(name, qualified_name_re()))
      errs.push_back("name part " + qualified_msg());
  }
  return errs;
}

std::vector<std::string> label_value_errors(const std::string& value) {
  std::vector<std::string> errs;
  if (value.size() > 63) errs.push_back(max_len_msg(63));
  if (!std::regex_match(value, label_value_re()))
    errs.push_back(
        fmt::format("a valid label must be an empty string or consist of alphanumeric characters, "
                    "'-', '_' or '.', and must start and end with an alphanumeric character (e.g. "
                    "'MyValue',  or 'my_value',  or '12345', regex used for validation is '{}')",
                    k_label_value_fmt));
  return errs;
}

std::string FieldError::text() const {
  std::string out = (field.empty() ? std::string("<object>") : field) + ": " + type;
  if (!detail.empty()) out += ": " + detail;
  return out;
}

std::string format_field_error(const PolicyObject& object, const FieldError& error) {
  return object.where(error.pointer) + ": " + object.describe() + ": " + error.text();
}

ValidationResult validate(const PolicyObject& object) {
  Validator v;
  switch (object.kind) {
  case PolicyKind::network_policy: v.network_policy(object.value); break;
  case PolicyKind::cilium_network_policy: v.cilium_policy(object.value, false); break;
  case PolicyKind::cilium_clusterwide_network_policy: v.cilium_policy(object.value, true); break;
  }
  return std::move(v.result);
}

} // namespace netpol::policy
