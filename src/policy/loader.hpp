// Reads policy files: files and directories (recursively), multi-document YAML or JSON,
// `kind: List` expanded, `${VAR}` templates expanded from an allow-list of variables
// (policy/template.hpp), and imports
// pinned by sha256 from `imports.yaml`.
//
// Accepted objects: networking.k8s.io/v1 NetworkPolicy, cilium.io/v2 CiliumNetworkPolicy and
// cilium.io/v2 CiliumClusterwideNetworkPolicy. Every problem is collected (not just the
// first) so `lint` can report them all; nothing here talks to a cluster.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "policy/policy_object.hpp"
#include "policy/template.hpp"
#include "util/env.hpp"
#include "util/error.hpp"
#include "util/http_fetch.hpp"

namespace netpol::policy {

// The index of imported policies, read from this file at the top of a policy directory:
//   imports:
//   - url: https://example.com/base-policies.yaml
//     sha256: <64 hex digits of the file's SHA-256>
inline constexpr const char* k_imports_file = "imports.yaml";

// Downloads an https:// or http:// URL and returns its body. Failure: ErrorCode::io naming
// the URL and the cause (HTTP status, connection error). file:// imports never come here:
// the loader reads them itself, from inside the policy directory only.
using FetchFunction = std::function<Result<std::string>(const std::string& url)>;

// Import downloads (util/http_fetch.hpp): where the job token goes, and the libcurl fetch
// itself, are shared with the other downloads netpol makes.
using FetchSettings = http::FetchSettings;
using http::fetch_settings;
using http::fetch_url;
using http::sends_job_token;
using http::url_scheme;

struct LoadOptions {
  // What `${NAME}` templates may read (policy/template.hpp); null: every template is an
  // error.
  const TemplateVariables* vars = nullptr;
  // How imports are fetched; empty = fetch_url (libcurl) with fetch_settings(*env).
  FetchFunction fetch;
  // The job's environment for import downloads (fetch_settings); null: the process's.
  const Environment* env = nullptr;
  // Keep objects of other kinds (Pod, Namespace, Deployment...) in LoadResult::others
  // instead of reporting them as errors (for pod inventories given to lint).
  bool collect_other_kinds = false;
};

// A non-policy object kept with collect_other_kinds.
struct OtherObject {
  nlohmann::json value;
  std::string where; // "file:line"
};

struct LoadResult {
  std::vector<PolicyObject> policies; // in file order (files sorted), then document order
  std::vector<OtherObject> others;
  std::vector<std::string> files; // every file or URL read
  // Every problem found: ErrorCode::invalid_policy for bad input ("file:line: ..."),
  // digest mismatches and unset variables; ErrorCode::io for unreadable paths and failed
  // downloads.
  std::vector<Error> errors;
};

LoadResult load_policies(const std::vector<std::string>& paths, const LoadOptions& options);

// Parses already-read text as if it were the file `source` (profiles, imports, tests).
LoadResult load_policy_text(std::string_view text, const std::string& source,
                            const LoadOptions& options);

// The local path a file URL names: `file:///path` or `file://localhost/path`, percent-decoded.
// ErrorCode::invalid_policy saying why for another host, a relative form (file:x), a query or
// fragment, a malformed escape, an encoded '/' or '\' (%2F, %5C) or NUL (%00).
Result<std::string> file_url_path(std::string_view url);

} // namespace netpol::policy
