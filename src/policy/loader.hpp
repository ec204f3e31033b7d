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

// What an import download may authenticate with, and which certificate authorities it
// trusts; fetch_settings() reads them from the job's environment.
//
// The job token goes to the GitLab instance the job runs for and nowhere else: as the header
// `JOB-TOKEN`, only over https://, only to a host:port in `instance`, and on every redirect
// hop decided again for that hop's URL (a redirect to object storage or a CDN is followed
// without it). An import from a private project of the same instance then needs no token of
// its own, and a policy file cannot send the token to a server it names.
struct FetchSettings {
  std::string job_token;             // CI_JOB_TOKEN; empty: no credentials are ever sent
  std::vector<std::string> instance; // "host:port", lower-case, the port always written
  std::string ca_file;               // SSL_CERT_FILE: replaces libcurl's CA bundle
  std::string ca_dir;                // SSL_CERT_DIR
  // CI_SERVER_TLS_CA_FILE (the runner's tls-ca-file): the CAs a self-managed instance's
  // certificate is checked against, for requests to the instance only.
  std::string instance_ca_file;
};

// From CI_JOB_TOKEN, the instance's address in CI_SERVER_URL (host and port), CI_SERVER_HOST
// with CI_SERVER_PORT (default 443) and CI_API_V4_URL (host and port), SSL_CERT_FILE,
// SSL_CERT_DIR and CI_SERVER_TLS_CA_FILE. Unset or unparsable values add nothing.
FetchSettings fetch_settings(const Environment& env);

// Whether a request for `url` carries settings.job_token: a token is set, the URL is
// https:// and its host and port (as libcurl parses the URL, which is what it connects to)
// are the instance's. Host names compare case-insensitively; nothing else is normalised.
bool sends_job_token(const std::string& url, const FetchSettings& settings);

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

// libcurl download (see FetchFunction): https:// and http:// only, at most 8 MiB, at most 5
// redirects, each to https:// only. netpol follows redirects itself (libcurl would resend
// custom headers such as JOB-TOKEN to whatever host a redirect names), deciding for each hop
// by sends_job_token.
Result<std::string> fetch_url(const std::string& url, const FetchSettings& settings = {});

// A URL's scheme, lower-cased ("FILE:///x" -> "file"); "" when it has none.
std::string url_scheme(std::string_view url);

// The local path a file URL names: `file:///path` or `file://localhost/path`, percent-decoded.
// ErrorCode::invalid_policy saying why for another host, a relative form (file:x), a query or
// fragment, a malformed escape, an encoded '/' or '\' (%2F, %5C) or NUL (%00).
Result<std::string> file_url_path(std::string_view url);

// Lowercase hex SHA-256 of `data`.
std::string sha256_hex(std::string_view data);

} // namespace netpol::policy
