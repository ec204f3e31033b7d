#include "model/selector.hpp"

#include <algorithm>

#include "util/yaml.hpp"

namespace netpol::model {
namespace {

const char* operator_name(SelectorOperator op) {
  switch (op) {
  case SelectorOperator::in: return "In";
  case SelectorOperator::not_in: return "NotIn";
  case SelectorOperator::exists: return "Exists";
  case SelectorOperator::does_not_exist: return "DoesNotExist";
  }
  return "?";
}

// Label values are strings, but YAML authors write `version: 2` or `enabled: true`; the API
// server would reject those, kubectl users quote them. Accept scalars in their text form.
bool scalar_text(const nlohmann::json& value, std::string& out) {
  if (value.is_string()) {
    out = value.get<std::string>();
    return true;
  }
  if (value.is_number() || value.is_boolean()) {
    out = value.dump();
    return true;
  }
  return false;
}

} // namespace

Parsed<LabelSelector> LabelSelector::parse(const nlohmann::json& value,
                                           const std::string& pointer) {
  LabelSelector selector;
  if (value.is_null()) {
    return selector;
  }
  if (!value.is_object()) {
    return problem(pointer, "label selector must be an object");
  }
  if (auto it = value.find("matchLabels"); it != value.end() && !it->is_null()) {
    if (!it->is_object()) {
      return problem(pointer + "/matchLabels", "matchLabels must be a map of strings");
    }
    for (const auto& [key, v] : it->items()) {
      std::string text;
      if (!scalar_text(v, text)) {
        return problem(pointer + "/matchLabels/" + pointer_token(key),
                       "label value must be a string");
      }
      selector.add({key, SelectorOperator::in, {text}});
    }
  }
  if (auto it = value.find("matchExpressions"); it != value.end() && !it->is_null()) {
    if (!it->is_array()) {
      return problem(pointer + "/matchExpressions", "matchExpressions must be a list");
    }
    for (size_t i = 0; i < it->size(); ++i) {
      const auto& e = (*it)[i];
      const std::string here = pointer + "/matchExpressions/" + std::to_string(i);
      if (!e.is_object() || !e.contains("key") || !e["key"].is_string()) {
        return problem(here, "match expression needs a string 'key'");
      }
      Requirement r;
      r.key = e["key"].get<std::string>();
      const std::string op = e.value("operator", std::string());
      if (op == "In") {
        r.op = SelectorOperator::in;
      } else if (op == "NotIn") {
        r.op = SelectorOperator::not_in;
      } else if (op == "Exists") {
        r.op = SelectorOperator::exists;
      } else if (op == "DoesNotExist") {
        r.op = SelectorOperator::does_not_exist;
      } else {
        return problem(here + "/operator", "'" + op + "' is not a valid selector operator");
      }
      if (auto values = e.find("values"); values != e.end() && !values->is_null()) {
        if (!values->is_array()) {
          return problem(here + "/values", "values must be a list of strings");
        }
        for (const auto& v : *values) {
          std::string text;
          if (!scalar_text(v, text)) {
            return problem(here + "/values", "values must be a list of strings");
          }
          r.values.push_back(std::move(text));
        }
      }
      const bool needs_values = r.op == SelectorOperator::in || r.op == SelectorOperator::not_in;
      if (needs_values && r.values.empty()) {
        return problem(here + "/values",
                       "values must be specified when operator is 'In' or 'NotIn'");
      }
      if (!needs_values && !r.values.empty()) {
        return problem(here + "/values",
                       "values may not be specified when operator is 'Exists' or 'DoesNotExist'");
      }
      selector.add(std::move(r));
    }
  }
  return selector;
}

std::optional<LabelSelector> LabelSelector::read_lenient(const nlohmann::json& value) {
  LabelSelector selector;
  if (value.is_null()) return selector;
  if (!value.is_object()) return std::nullopt;
  if (auto it = value.find("matchLabels"); it != value.end() && it->is_object()) {
    for (const auto& [key, v] : it->items()) {
      if (!v.is_string()) return std::nullopt;
      selector.add({key, SelectorOperator::in, {v.get<std::string>()}});
    }
  }
  if (auto it = value.find("matchExpressions"); it != value.end() && it->is_array()) {
    for (const auto& e : *it) {
      if (!e.is_object()) return std::nullopt;
      const auto key = e.find("key");
      const auto op = e.find("operator");
      if (key == e.end() || !key->is_string() || op == e.end() || !op->is_string()) {
        return std::nullopt;
      }
      Requirement r;
      r.key = key->get<std::string>();
      const auto& name = op->get_ref<const std::string&>();
      if (name == "In") {
        r.op = SelectorOperator::in;
      } else if (name == "NotIn") {
        r.op = SelectorOperator::not_in;
      } else if (name == "Exists") {
        r.op = SelectorOperator::exists;
      } else if (name == "DoesNotExist") {
        r.op = SelectorOperator::does_not_exist;
      } else {
        return std::nullopt;
      }
      // In without values matches nothing and NotIn without values everything, as before.
      const bool needs_values = r.op == SelectorOperator::in || r.op == SelectorOperator::not_in;
      if (auto values = e.find("values"); needs_values && values != e.end() && values->is_array()) {
        for (const auto& v : *values) {
          if (v.is_string()) r.values.push_back(v.get<std::string>());
        }
      }
      selector.add(std::move(r));
    }
  }
  return selector;
}

void LabelSelector::add(Requirement requirement) {
  std::sort(requirement.values.begin(), requirement.values.end());
  m_requirements.push_back(std::move(requirement));
}

bool LabelSelector::matches(const Labels& labels) const {
  for (const auto& r : m_requirements) {
    auto it = labels.find(r.key);
    const bool has = it != labels.end();
    switch (r.op) {
    case SelectorOperator::in:
      if (!has || !std::binary_search(r.values.begin(), r.values.end(), it->second)) return false;
      break;
    case SelectorOperator::not_in:
      // NotIn also matches objects without the key (apimachinery semantics).
      if (has && std::binary_search(r.values.begin(), r.values.end(), it->second)) return false;
      break;
    case SelectorOperator::exists:
      if (!has) return false;
      break;
    case SelectorOperator::does_not_exist:
      if (has) return false;
      break;
    }
  }
  return true;
}

bool LabelSelector::mentions(std::string_view key) const {
  return std::any_of(m_requirements.begin(), m_requirements.end(),
                     [&](const Requirement& r) { return r.key == key; });
}

bool LabelSelector::mentions_prefix(std::string_view prefix) const {
  return std::any_of(m_requirements.begin(), m_requirements.end(),
                     [&](const Requirement& r) { return r.key.starts_with(prefix); });
}

std::string LabelSelector::canonical() const {
  std::vector<std::string> parts;
  for (const auto& r : m_requirements) {
    std::string part = r.key + " " + operator_name(r.op);
    for (const auto& v : r.values) {
      part += " " + v;
    }
    parts.push_back(std::move(part));
  }
  std::sort(parts.begin(), parts.end());
  std::string out;
  for (const auto& p : parts) {
    out += p;
    out += ';';
  }
  return out;
}

} // namespace netpol::model
