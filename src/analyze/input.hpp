// Reading analyze's input from files: Namespace/Pod objects (--pods-from) and policy files or
// directories (--policies). Both accept multi-document YAML, JSON, and `kind: List` items.
// The same objects, listed from the API server, go through the *_objects functions.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "analyze/cluster.hpp"
#include "analyze/policy.hpp"
#include "util/error.hpp"
#include "util/yaml.hpp"

namespace netpol::analyze {

struct PolicySet {
  std::vector<Policy> policies;
  // One line each: "<file>:<line>: <Kind>/<ns>/<name>: <what is not analysed>".
  std::vector<std::string> warnings;
  size_t ignored_objects = 0; // documents of other kinds
};

// Where a JSON pointer of an object is ("file:line"); empty when unknown.
using Locator = std::function<std::string(const std::string& pointer)>;

// Adds the policies among `object` (a policy or a List of them) to `set`. Other kinds are
// counted as ignored. An invalid policy is ErrorCode::invalid_policy naming
// "<where>: <Kind>/<ns>/<name>: <detail>".
Result<void> add_policy_object(PolicySet& set, const nlohmann::json& object,
                               const std::string& default_namespace, const Locator& where);

// Reads policy files and directories (recursively: *.yaml, *.yml, *.json, in name order).
// A missing path is ErrorCode::config; a YAML error or an invalid policy is invalid_policy.
Result<PolicySet> load_policies(const std::vector<std::string>& paths,
                                const std::string& default_namespace);

// Adds Namespace and Pod objects (or Lists of them) to `cluster`; a bad object is
// ErrorCode::config naming where it is.
Result<void> add_cluster_object(Cluster& cluster, const nlohmann::json& object,
                                const std::string& default_namespace, const Locator& where);

// Reads a --pods-from file (YAML or JSON, multi-document, Lists).
Result<Cluster> load_cluster(const std::string& path, const std::string& default_namespace);

} // namespace netpol::analyze
