// Kubernetes label selectors (matchLabels + matchExpressions), as NetworkPolicy
// podSelector/namespaceSelector and Cilium endpoint selectors use them: read once, then
// matched against the labels of pods, workloads and namespaces.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/issue.hpp"

namespace netpol::model {

using Labels = std::map<std::string, std::string, std::less<>>;

enum class SelectorOperator { in, not_in, exists, does_not_exist };

struct Requirement {
  std::string key;
  SelectorOperator op = SelectorOperator::in;
  std::vector<std::string> values; // sorted; empty for exists/does_not_exist
};

// The AND of its requirements; matchLabels k: v is the requirement `k In (v)`. An empty
// selector matches every label set.
class LabelSelector {
public:
  LabelSelector() = default;

  // Parses a LabelSelector object; null parses as the empty selector. Fails on a non-object,
  // an unknown operator, In/NotIn without values or Exists/DoesNotExist with values.
  // `pointer` is where the selector sits in its object (for the Issue).
  static Parsed<LabelSelector> parse(const nlohmann::json& value, const std::string& pointer);
  // Reads a selector as lint has always matched it, without reporting (validation does):
  // null is the empty selector; a non-object, a non-string matchLabels value, an expression
  // without a string key and operator or with an unknown operator make a selector that
  // matches nothing (nullopt); a matchLabels or matchExpressions of the wrong type, values
  // that are not strings and values of Exists/DoesNotExist are ignored.
  static std::optional<LabelSelector> read_lenient(const nlohmann::json& value);

  bool matches(const Labels& labels) const;
  bool empty() const { return m_requirements.empty(); }
  // True when some requirement is about `key`.
  bool mentions(std::string_view key) const;
  // True when some requirement's key starts with `prefix`.
  bool mentions_prefix(std::string_view prefix) const;

  const std::vector<Requirement>& requirements() const { return m_requirements; }
  std::vector<Requirement>& requirements() { return m_requirements; }
  void add(Requirement requirement);

  // A stable text form (requirements sorted), used to share evaluation of equal selectors.
  std::string canonical() const;

private:
  std::vector<Requirement> m_requirements;
};

} // namespace netpol::model
