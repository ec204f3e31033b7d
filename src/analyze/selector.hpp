// Kubernetes label selectors (matchLabels + matchExpressions), as used by NetworkPolicy
// podSelector/namespaceSelector and by Cilium endpoint selectors.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "analyze/issue.hpp"

namespace netpol::analyze {

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

} // namespace netpol::analyze
