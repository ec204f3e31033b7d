#include "util/http_fetch.hpp"

#include <algorithm>
#include <cctype>
#include <memory>
#include <optional>

#include <curl/curl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "util/log.hpp"

namespace netpol::http {
namespace {

constexpr long k_download_timeout_seconds = 60;
constexpr int k_max_redirects = 5;

size_t collect_body(char* data, size_t size, size_t count, void* user) {
  auto* body = static_cast<std::string*>(user);
  const size_t n = size * count;
  if (body->size() + n > k_max_download_bytes) return 0; // aborts the transfer
  body->append(data, n);
  return n;
}

// A URL as libcurl parses it, so the host checked is the host libcurl connects to
// ("https://gitlab.example.com@evil.example/" is evil.example).
struct UrlParts {
  std::string scheme;
  std::string host; // lower-case; an IPv6 address in brackets
  std::string port; // always set: the scheme's default when the URL has none
  std::string address() const { return host + ":" + port; }
};

std::optional<UrlParts> parse_url(const std::string& url) {
  std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> handle(curl_url(), curl_url_cleanup);
  if (!handle || curl_url_set(handle.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) {
    return std::nullopt;
  }
  auto part = [&](CURLUPart which, unsigned int flags) -> std::optional<std::string> {
    char* value = nullptr;
    if (curl_url_get(handle.get(), which, &value, flags) != CURLUE_OK || value == nullptr)
      return std::nullopt;
    std::string out(value);
    curl_free(value);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
  };
  auto scheme = part(CURLUPART_SCHEME, 0);
  auto host = part(CURLUPART_HOST, 0);
  auto port = part(CURLUPART_PORT, CURLU_DEFAULT_PORT);
  if (!scheme || !host || !port || host->empty()) return std::nullopt;
  return UrlParts{*scheme, *host, *port};
}

enum class TokenDecision { sent, no_token, unparsable, not_https, other_host };

TokenDecision token_decision(const std::string& url, const FetchSettings& settings) {
  if (settings.job_token.empty()) return TokenDecision::no_token;
  const auto parts = parse_url(url);
  if (!parts) return TokenDecision::unparsable;
  if (parts->scheme != "https") return TokenDecision::not_https;
  const std::string address = parts->address();
  for (const auto& instance : settings.instance) {
    if (instance == address) return TokenDecision::sent;
  }
  return TokenDecision::other_host;
}

bool is_instance(const std::string& url, const FetchSettings& settings) {
  const auto parts = parse_url(url);
  return parts && std::find(settings.instance.begin(), settings.instance.end(), parts->address()) !=
                      settings.instance.end();
}

struct Hop {
  long status = 0;
  std::string body;
  std::string redirect; // the absolute URL of a redirect's Location; empty: the answer
};

// One request, redirects not followed. The job token, when this hop may carry it, is a
// header of this request only.
Result<Hop> fetch_once(const std::string& url, const FetchSettings& settings, bool redirected,
                       std::string_view what) {
  const TokenDecision token = token_decision(url, settings);
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) return fail(ErrorCode::internal, "cannot initialise libcurl");
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> headers(nullptr, curl_slist_free_all);
  std::string header_line;
  if (token == TokenDecision::sent) {
    header_line = "JOB-TOKEN: " + settings.job_token;
    headers.reset(curl_slist_append(nullptr, header_line.c_str()));
    if (!headers) return fail(ErrorCode::internal, "cannot allocate a request header");
    spdlog::debug("{} {}: sending the job token (CI_JOB_TOKEN) to the GitLab instance", what,
                  log::redact_url(url));
  } else if (token == TokenDecision::not_https && is_instance(url, settings)) {
    spdlog::debug("{} {}: not sending the job token over plain http", what, log::redact_url(url));
  }
  Hop hop;
  char error_buffer[CURL_ERROR_SIZE] = {0};
  CURL* h = curl.get();
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, redirected ? "https" : "http,https");
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  // Custom headers never go to a proxy's CONNECT request, only inside the tunnel.
  curl_easy_setopt(h, CURLOPT_HEADEROPT, CURLHEADER_SEPARATE);
  if (headers) curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
  if (!settings.instance_ca_file.empty() && is_instance(url, settings)) {
    curl_easy_setopt(h, CURLOPT_CAINFO, settings.instance_ca_file.c_str());
  } else if (!settings.ca_file.empty() || !settings.ca_dir.empty()) {
    curl_easy_setopt(h, CURLOPT_CAINFO,
                     settings.ca_file.empty() ? nullptr : settings.ca_file.c_str());
    curl_easy_setopt(h, CURLOPT_CAPATH,
                     settings.ca_dir.empty() ? nullptr : settings.ca_dir.c_str());
  }
  curl_easy_setopt(h, CURLOPT_TIMEOUT, k_download_timeout_seconds);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &hop.body);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error_buffer);
  const CURLcode rc = curl_easy_perform(h);
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  hop.status = status;
  if (rc != CURLE_OK) {
    return fail(ErrorCode::io,
                fmt::format("download failed: {}",
                            error_buffer[0] ? error_buffer : curl_easy_strerror(rc)));
  }
  if (status == 301 || status == 302 || status == 303 || status == 307 || status == 308) {
    char* location = nullptr;
    curl_easy_getinfo(h, CURLINFO_REDIRECT_URL, &location);
    if (location != nullptr) {
      hop.redirect = location;
      hop.body.clear();
      return hop;
    }
  }
  return hop;
}

} // namespace

std::string url_scheme(std::string_view url) {
  // RFC 3986: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":"; case-insensitive.
  const size_t colon = url.find(':');
  if (colon == std::string_view::npos || colon == 0 ||
      std::isalpha(static_cast<unsigned char>(url[0])) == 0) {
    return {};
  }
  std::string scheme;
  for (char c : url.substr(0, colon)) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) == 0 && c != '+' && c != '-' && c != '.') return {};
    scheme += static_cast<char>(std::tolower(u));
  }
  return scheme;
}

FetchSettings fetch_settings(const Environment& env) {
  auto get = [&](const char* name) { return env.get(name).value_or(""); };
  FetchSettings settings;
  settings.job_token = get("CI_JOB_TOKEN");
  settings.ca_file = get("SSL_CERT_FILE");
  settings.ca_dir = get("SSL_CERT_DIR");
  settings.instance_ca_file = get("CI_SERVER_TLS_CA_FILE");
  auto add = [&](const std::string& url) {
    if (url.empty()) return;
    auto parts = parse_url(url);
    if (!parts) return;
    const std::string address = parts->address();
    if (std::find(settings.instance.begin(), settings.instance.end(), address) ==
        settings.instance.end()) {
      settings.instance.push_back(address);
    }
  };
  add(get("CI_SERVER_URL"));
  if (const std::string host = get("CI_SERVER_HOST"); !host.empty()) {
    // A host with anything but a name or address in it ("evil.example/x@") names no host.
    if (host.find_first_of("/@?#\\ ") == std::string::npos) {
      const std::string port = get("CI_SERVER_PORT");
      add("https://" + host + (port.empty() ? "" : ":" + port) + "/");
    }
  }
  add(get("CI_API_V4_URL"));
  return settings;
}

bool sends_job_token(const std::string& url, const FetchSettings& settings) {
  return token_decision(url, settings) == TokenDecision::sent;
}

Result<Response> fetch(const std::string& url, const FetchSettings& settings,
                       std::string_view what) {
  std::string current = url;
  for (int redirects = 0;; ++redirects) {
    auto hop = fetch_once(current, settings, redirects > 0, what);
    if (!hop) return fail(hop.error());
    if (hop->redirect.empty()) return Response{hop->status, std::move(hop->body), current};
    if (redirects == k_max_redirects) {
      return fail(ErrorCode::io,
                  fmt::format("download failed: more than {} redirects", k_max_redirects));
    }
    if (url_scheme(hop->redirect) != "https") {
      return fail(ErrorCode::io,
                  fmt::format("download failed: redirected to {}: only redirects to https:// "
                              "are followed",
                              log::redact_url(hop->redirect)));
    }
    current = std::move(hop->redirect);
  }
}

Result<std::string> fetch_url(const std::string& url, const FetchSettings& settings) {
  auto response = fetch(url, settings);
  if (!response) return fail(response.error());
  const long status = response->status;
  if (status >= 400) {
    const TokenDecision token = token_decision(response->url, settings);
    std::string hint;
    if (status == 401 || status == 403 || status == 404) {
      if (token == TokenDecision::sent) {
        hint = " (sent with the job token: the project holding the file must let this "
               "project's job token in, and the URL must be an API endpoint a job token may "
               "read)";
      } else if (token == TokenDecision::not_https && is_instance(response->url, settings)) {
        hint = " (the job token is sent only over https://)";
      }
    }
    return fail(ErrorCode::io, fmt::format("download failed: HTTP {}{}", status, hint));
  }
  return std::move(response->body);
}

std::string url_encode(std::string_view text) {
  std::string out;
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) != 0 || c == '-' || c == '.' || c == '_' || c == '~') {
      out += c;
    } else {
      out += fmt::format("%{:02X}", u);
    }
  }
  return out;
}

} // namespace netpol::http
