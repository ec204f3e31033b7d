// HTTPS to one API server: the narrow interface kube/client needs, and its libcurl
// implementation. The transport knows TLS, credentials on the wire, timeouts, retries and
// concurrency; it knows nothing about Kubernetes objects.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/duration.hpp"
#include "util/error.hpp"

namespace netpol::kube {

// Credentials as sent with one request (they may change between requests: exec plugins).
struct WireAuth {
  std::string bearer_token;
  std::string username; // basic auth when non-empty
  std::string password;
  std::string client_certificate_pem;
  std::string client_key_pem;
};

struct HttpRequest {
  std::string method = "GET";
  std::string path; // "/api/v1/namespaces?limit=2", appended to the server URL (and its prefix)
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // Safe to send again after a 5xx or a connection failure (GET, server-side apply, DELETE,
  // access reviews). Every request is retried after a 429, which the server sends before
  // doing anything.
  bool idempotent = false;
  // Streams a 2xx body to this callback instead of collecting it; returning false stops the
  // transfer without error. Error bodies are always collected. A streamed request has no
  // overall timeout (a pod log may take minutes): it fails when no byte arrives for the
  // request timeout instead.
  std::function<bool(std::string_view)> on_data;
};

struct HttpResponse {
  int status = 0;
  std::string body; // empty when streamed
  std::string content_type;
  std::map<std::string, std::string> headers; // lower-case names, last value wins
  std::vector<std::string> warnings;          // Warning headers
};

// What went over the wire so far.
struct TransportStats {
  uint64_t requests = 0;    // HTTP requests, retries included
  uint64_t round_trips = 0; // times a request went out while none was on the wire
  uint64_t connections = 0; // connections opened
};

class HttpTransport {
public:
  virtual ~HttpTransport() = default;
  // Sends one request, retrying as described above. A connection, TLS or timeout failure is
  // an Error (unreachable / timeout) naming the server; any HTTP status is a response.
  virtual Result<HttpResponse> send(const HttpRequest& request) = 0;
  // Sends requests concurrently (a bounded number in flight); results in request order.
  virtual std::vector<Result<HttpResponse>> send_all(const std::vector<HttpRequest>& requests) = 0;
  // HTTP requests put on the wire so far, retries included.
  virtual uint64_t request_count() const = 0;
  // Requests, round trips and connections so far. A batch (send_all) is one round trip;
  // retries count as requests only.
  virtual TransportStats stats() const { return {request_count(), 0, 0}; }
};

// The largest answer body kept for one request (a list page, an error): a real list page of
// 500 objects is a few MiB, so this only stops a broken or hostile server from filling memory.
// Streamed bodies (on_data) have no limit; their consumer decides.
inline constexpr size_t k_max_response_body = size_t{256} << 20;

// The timeout of one ordinary request when --request-timeout is not given (SPEC §3).
inline constexpr Duration k_default_request_timeout = std::chrono::seconds(30);

// When and how long to wait before sending again. A request is retried after a 429, and when
// idempotent after a 5xx or a connection failure before any byte of the answer; never after
// a timeout (a server that does not answer in time would not answer the retry either).
struct RetryPolicy {
  int max_attempts = 5;                                 // the first try included
  Duration base_delay = std::chrono::milliseconds(250); // doubled per attempt, full jitter
  Duration max_delay = std::chrono::seconds(8);
  Duration max_retry_after = std::chrono::seconds(30); // larger Retry-After values are capped
  // No retry starts when the waits so far plus the next one would pass this: a request that
  // keeps failing ends the command in bounded time.
  Duration max_total_delay = std::chrono::seconds(45);
  // Sleeps; tests replace it to record delays instead of waiting. The default wait ends
  // early when the command is cancelled (util/cancel).
  std::function<void(Duration)> sleep;
};

// Delay before attempt `attempt` (1 = first retry): a Retry-After header wins (capped);
// else a random value in [0, min(max_delay, base_delay * 2^(attempt-1))].
Duration retry_delay(const RetryPolicy& policy, int attempt, std::optional<Duration> retry_after);

// Parses a Retry-After header (RFC 9110 §10.2.3): delta-seconds, or an HTTP-date
// ("Wed, 02 Dec 2026 16:00:00 GMT") taken as the time from `now` until then (0 when past).
std::optional<Duration>
parse_retry_after(std::string_view value,
                  std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

struct TransportConfig {
  std::string server;  // https://host:port[/prefix], no trailing '/'
  std::string ca_pem;  // "" = ca_file / ca_dir / system trust
  std::string ca_file; // SSL_CERT_FILE
  std::string ca_dir;  // SSL_CERT_DIR
  bool insecure_skip_tls_verify = false;
  std::string tls_server_name;
  std::string proxy_url; // "" = libcurl's default (HTTPS_PROXY, NO_PROXY)
  // Ignore the proxy variables of the environment: a loopback server, which Go (kubectl)
  // never proxies, and whose plain http must not carry credentials to a proxy.
  bool no_proxy = false;
  bool compression = true; // Accept-Encoding: gzip, deflate, ...
  Duration connect_timeout = std::chrono::seconds(10);
  // One ordinary request, connecting included; for a streamed request (on_data), the longest
  // time without a byte. nullopt: no limit.
  std::optional<Duration> request_timeout = k_default_request_timeout;
  // A body past this size ends the request with ErrorCode::api naming it (never retried).
  size_t max_body_bytes = k_max_response_body;
  int max_in_flight = 64; // send_all: requests at once (streams on one HTTP/2 connection)
  // HTTP/1.1 fallback: connections kept to the server (each carries one request at a time).
  long max_connections = 8;
  RetryPolicy retry;
  std::string user_agent;
  std::vector<std::pair<std::string, std::string>> headers; // sent with every request
  // Supplies credentials per attempt; may be empty. An error fails the request.
  std::function<Result<WireAuth>()> auth;
  // Called after a 401 so cached credentials are fetched again (exec plugins); the request is
  // then sent once more.
  std::function<bool()> on_unauthorized;
};

// The libcurl implementation: ordinary requests share one libcurl multi handle, driven by a
// thread of its own, so they share its connections — one multiplexed HTTP/2 connection when
// the server offers it, up to max_connections HTTP/1.1 ones otherwise; log streams get a
// connection each. DNS and TLS sessions are shared by all.
std::unique_ptr<HttpTransport> make_curl_transport(TransportConfig config);

} // namespace netpol::kube
