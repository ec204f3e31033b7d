// How the values of a running release change: a unified diff of the two values files (what
// `--dry-run`, the job log and cilium-values.diff show) and one line per changed key.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace netpol::cilium {

// A unified diff (3 lines of context) of to_yaml(before) and to_yaml(after), with headers
// "--- <before_label>" and "+++ <after_label>"; empty when the values are equal. Keys are
// sorted in both, so only real changes show.
std::string values_diff(const nlohmann::json& before, const nlohmann::json& after,
                        std::string_view before_label, std::string_view after_label);

// One line per leaf that differs, by dotted path: "+ hubble.export.static.filePath: stdout",
// "- foo: 1", "~ policyAuditMode: false -> true". Lists are compared whole.
std::vector<std::string> changed_keys(const nlohmann::json& before, const nlohmann::json& after);

// The values with every secret-looking leaf (a key ending in key, secret, password or token,
// e.g. azure.clientSecret, hubble.tls.server.key) replaced by "[REDACTED]": for files and
// output, never for what helm is given.
nlohmann::json redact_secret_values(nlohmann::json values);

} // namespace netpol::cilium
