// Downloads over HTTP(S) with libcurl, for what netpol fetches from outside the cluster:
// policy imports (policy/loader) and the previous run's drop summary from the GitLab
// instance's job artifacts (droplog/previous). One place decides where the job token goes.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "util/env.hpp"
#include "util/error.hpp"

namespace netpol::http {

// The most a download may hold (and a file:// import, read in its place).
inline constexpr size_t k_max_download_bytes = 8 * 1024 * 1024;

// What a download may authenticate with, and which certificate authorities it trusts;
// fetch_settings() reads them from the job's environment.
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

// An answer, whatever its status.
struct Response {
  long status = 0;
  std::string body;
  std::string url; // the URL that answered (after redirects)
};

// A download: https:// and http:// only, at most 8 MiB, at most 5 redirects, each to
// https:// only, 60 s in all per request. netpol follows redirects itself (libcurl would
// resend custom headers such as JOB-TOKEN to whatever host a redirect names), deciding for
// each hop by sends_job_token. An HTTP error status is an answer here; a connection, TLS or
// size failure and a refused redirect are ErrorCode::io, never naming the token. `what` names
// the download in debug lines ("import", "previous drop summary").
Result<Response> fetch(const std::string& url, const FetchSettings& settings,
                       std::string_view what = "import");

// fetch() for a body: an HTTP status of 400 or more is ErrorCode::io ("download failed: HTTP
// 404", with a hint on the job token for 401, 403 and 404 from the instance).
Result<std::string> fetch_url(const std::string& url, const FetchSettings& settings = {});

// A URL's scheme, lower-cased ("FILE:///x" -> "file"); "" when it has none.
std::string url_scheme(std::string_view url);

// `text` percent-encoded for one path segment or query value: everything but RFC 3986's
// unreserved characters (A-Z a-z 0-9 - . _ ~) is escaped, '/' included.
std::string url_encode(std::string_view text);

} // namespace netpol::http
