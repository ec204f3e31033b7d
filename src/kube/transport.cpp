#include "kube/transport.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <random>
#include <thread>

#include <absl/time/time.h>
#include <curl/curl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "util/cancel.hpp"
#include "util/file.hpp"
#include "util/log.hpp"
#include "util/parallel.hpp"
#include "util/strings.hpp"

namespace netpol::kube {
namespace {

using Clock = std::chrono::steady_clock;

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The path without its query, for log lines (queries may carry selectors, never secrets,
// but keep lines short).
std::string_view path_only(std::string_view path) {
  return path.substr(0, path.find('?'));
}

// One attempt's state, shared with libcurl's callbacks.
struct Transfer {
  CURL* handle = nullptr;
  const HttpRequest* request = nullptr;
  HttpResponse response;
  bool mode_known = false;
  bool streaming = false;
  bool stopped = false; // on_data returned false
  uint64_t streamed_bytes = 0;
  // A stream's no-data limit: the progress callback ends a transfer quiet for this long.
  std::optional<std::chrono::steady_clock::duration> stall_limit;
  std::chrono::steady_clock::time_point last_data = std::chrono::steady_clock::now();
  bool stalled = false;
  size_t max_body = 0; // TransportConfig::max_body_bytes
  bool body_too_large = false;
};

size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  t->last_data = std::chrono::steady_clock::now();
  std::string_view line(data, size * count);
  if (line.rfind("HTTP/", 0) == 0) {
    // A new response (after 100 Continue or a redirect): forget earlier headers.
    t->response.headers.clear();
    t->response.warnings.clear();
    return size * count;
  }
  const auto colon = line.find(':');
  if (colon != std::string_view::npos) {
    auto name = lower(trim(line.substr(0, colon)));
    auto value = std::string(trim(line.substr(colon + 1)));
    if (name == "warning") t->response.warnings.push_back(value);
    t->response.headers[name] = std::move(value);
  }
  return size * count;
}

size_t on_body(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t n = size * count;
  t->last_data = std::chrono::steady_clock::now();
  if (!t->mode_known) {
    long status = 0;
    curl_easy_getinfo(t->handle, CURLINFO_RESPONSE_CODE, &status);
    t->streaming = t->request->on_data && status >= 200 && status < 300;
    t->mode_known = true;
  }
  if (t->streaming) {
    t->streamed_bytes += n;
    if (!t->request->on_data(std::string_view(data, n))) {
      t->stopped = true;
      return 0; // aborts the transfer; reported as success below
    }
    return n;
  }
  if (t->response.body.size() + n > t->max_body) {
    t->body_too_large = true;
    return 0; // aborts the transfer
  }
  t->response.body.append(data, n);
  return n;
}

// Called by libcurl at least about once a second, also while nothing arrives: the one place
// an ongoing transfer learns that the command was cancelled, or that a stream went quiet.
int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* t = static_cast<Transfer*>(user);
  if (cancel::requested()) return 1;
  if (t->stall_limit && std::chrono::steady_clock::now() - t->last_data > *t->stall_limit) {
    t->stalled = true;
    return 1;
  }
  return 0;
}

// Response headers that carry credentials or session state: trace lines name them only.
bool secret_header(const std::string& lower_name) {
  return lower_name == "set-cookie" || lower_name == "authorization" ||
         lower_name == "proxy-authenticate" || lower_name == "www-authenticate" ||
         lower_name.find("token") != std::string::npos;
}

struct HeaderList {
  curl_slist* list = nullptr;
  ~HeaderList() { curl_slist_free_all(list); }
  void add(const std::string& line) { list = curl_slist_append(list, line.c_str()); }
};

bool retryable_connection_error(CURLcode rc) {
  switch (rc) {
  case CURLE_COULDNT_CONNECT:
  case CURLE_GOT_NOTHING:
  case CURLE_SEND_ERROR:
  case CURLE_RECV_ERROR:
  case CURLE_PARTIAL_FILE:
  case CURLE_HTTP2:
  case CURLE_HTTP2_STREAM: return true;
  default: return false;
  }
}

bool tls_trust_error(CURLcode rc) {
  return rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE ||
         rc == CURLE_SSL_ISSUER_ERROR;
}

// One libcurl multi handle driven by one thread: the requests handed to it share its
// connections — one HTTP/2 connection when the server offers it (every request a stream on
// it), a few HTTP/1.1 connections otherwise — instead of each thread opening its own.
class Loop {
public:
  explicit Loop(long max_connections) {
    m_multi = curl_multi_init();
    curl_multi_setopt(m_multi, CURLMOPT_PIPELINING, static_cast<long>(CURLPIPE_MULTIPLEX));
    curl_multi_setopt(m_multi, CURLMOPT_MAX_HOST_CONNECTIONS, max_connections);
    m_thread = std::jthread([this](std::stop_token stop) { run(stop); });
  }
  ~Loop() {
    m_thread.request_stop();
    curl_multi_wakeup(m_multi);
    m_thread.join();
    curl_multi_cleanup(m_multi);
  }
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;

  // Runs the transfer `h` (options set, not in any multi) to its end on the loop thread,
  // where its callbacks run; returns its result code.
  CURLcode perform(CURL* h) {
    Job job;
    job.handle = h;
    {
      std::lock_guard lock(m_mutex);
      m_incoming.push_back(&job);
    }
    curl_multi_wakeup(m_multi);
    std::unique_lock lock(job.mutex);
    job.finished.wait(lock, [&] { return job.done; });
    return job.rc;
  }

private:
  struct Job {
    CURL* handle = nullptr;
    CURLcode rc = CURLE_OK;
    bool done = false;
    std::mutex mutex;
    std::condition_variable finished;
  };

  void run(const std::stop_token& stop) {
    int active = 0; // transfers in the multi handle
    while (!stop.stop_requested()) {
      {
        std::lock_guard lock(m_mutex);
        for (Job* job : m_incoming) {
          curl_easy_setopt(job->handle, CURLOPT_PRIVATE, job);
          if (const CURLMcode mc = curl_multi_add_handle(m_multi, job->handle); mc != CURLM_OK) {
            finish(job, CURLE_FAILED_INIT);
          } else {
            ++active;
          }
        }
        m_incoming.clear();
      }
      int running = 0;
      curl_multi_perform(m_multi, &running);
      int left = 0;
      while (CURLMsg* msg = curl_multi_info_read(m_multi, &left)) {
        if (msg->msg != CURLMSG_DONE) continue;
        CURL* handle = msg->easy_handle;
        const CURLcode rc = msg->data.result; // msg is gone once the handle is removed
        Job* job = nullptr;
        curl_easy_getinfo(handle, CURLINFO_PRIVATE, &job);
        curl_multi_remove_handle(m_multi, handle);
        --active;
        finish(job, rc);
      }
      // Wakes for socket activity and curl_multi_wakeup (a new job, the end). While transfers
      // run it also wakes every few milliseconds: libcurl takes up a transfer that waits for
      // the shared connection (PIPEWAIT) only on its next turn, and timeouts and the progress
      // callbacks (cancellation) run on time.
      curl_multi_poll(m_multi, nullptr, 0, active > 0 ? 5 : 1000, nullptr);
    }
  }

  static void finish(Job* job, CURLcode rc) {
    {
      std::lock_guard lock(job->mutex);
      job->rc = rc;
      job->done = true;
    }
    job->finished.notify_one();
  }

  CURLM* m_multi = nullptr;
  std::mutex m_mutex;
  std::vector<Job*> m_incoming;
  std::jthread m_thread; // last: started after, and stopped before, the rest is torn down
};

class CurlTransport final : public HttpTransport {
public:
  explicit CurlTransport(TransportConfig config) : m_config(std::move(config)) {
    global_init();
    m_share = curl_share_init();
    curl_share_setopt(m_share, CURLSHOPT_LOCKFUNC, &CurlTransport::lock);
    curl_share_setopt(m_share, CURLSHOPT_UNLOCKFUNC, &CurlTransport::unlock);
    curl_share_setopt(m_share, CURLSHOPT_USERDATA, this);
    curl_share_setopt(m_share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_share_setopt(m_share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    while (!m_config.server.empty() && m_config.server.back() == '/')
      m_config.server.pop_back();
    m_url_base = m_config.server;
    if (!m_config.tls_server_name.empty()) setup_server_name();
    if (m_config.max_in_flight < 1) m_config.max_in_flight = 1;
    m_loop = std::make_unique<Loop>(m_config.max_connections);
  }

  ~CurlTransport() override {
    m_loop.reset(); // no transfer runs any more
    for (CURL* h : m_pool)
      curl_easy_cleanup(h);
    curl_share_cleanup(m_share);
    curl_slist_free_all(m_connect_to);
  }

  Result<HttpResponse> send(const HttpRequest& request) override {
    bool reauthenticated = false;
    Duration waited{0};
    for (int attempt = 1;; ++attempt) {
      std::optional<Duration> retry_after;
      auto result = attempt_once(request);
      bool retry = false;
      std::string why;
      if (result) {
        const int status = result->status;
        if (status == 401 && !reauthenticated && m_config.on_unauthorized &&
            m_config.on_unauthorized()) {
          reauthenticated = true;
          --attempt; // a refreshed credential is not a retry
          continue;
        }
        const bool server_busy =
            status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
        if (server_busy && (status == 429 || request.idempotent)) {
          retry = true;
          why = std::to_string(status);
          if (auto it = result->headers.find("retry-after"); it != result->headers.end()) {
            retry_after = parse_retry_after(it->second);
          }
        }
      } else if (result.error().http_status == -1 && request.idempotent) {
        retry = true; // connection failure before any streamed byte
        why = result.error().message;
        result.error().http_status = 0;
      }
      if (!result && result.error().http_status == -1) result.error().http_status = 0;
      if (!retry || attempt >= m_config.retry.max_attempts) return result;
      const auto delay = retry_delay(m_config.retry, attempt, retry_after);
      if (waited + delay > m_config.retry.max_total_delay) {
        spdlog::debug("not retrying {} {} after {}: {} of waiting would pass the retry budget "
                      "of {}",
                      request.method, path_only(request.path), why, format_duration(waited + delay),
                      format_duration(m_config.retry.max_total_delay));
        return result;
      }
      waited += delay;
      spdlog::debug("retrying {} {} after {} in {}ms (attempt {}/{})", request.method,
                    path_only(request.path), why, delay.count(), attempt + 1,
                    m_config.retry.max_attempts);
      if (m_config.retry.sleep) {
        m_config.retry.sleep(delay);
      } else if (!cancel::wait_for(delay)) {
        return tl::unexpected(
            cancel::error(fmt::format("{} {}", request.method, path_only(request.path))));
      }
    }
  }

  std::vector<Result<HttpResponse>> send_all(const std::vector<HttpRequest>& requests) override {
    std::vector<Result<HttpResponse>> results(requests.size());
    if (requests.empty()) return results;
    // The requests go out together: one round trip, however the threads are scheduled.
    const InFlight batch(*this);
    parallel_for(requests.size(), static_cast<size_t>(m_config.max_in_flight),
                 [&](size_t i) { results[i] = send(requests[i]); });
    return results;
  }

  uint64_t request_count() const override { return m_count.load(); }

  TransportStats stats() const override {
    return {m_count.load(), m_round_trips.load(), m_connections.load()};
  }

private:
  // Requests on the wire: a round trip begins whenever the first of them goes out.
  class InFlight {
  public:
    explicit InFlight(CurlTransport& t) : m_t(t) {
      if (m_t.m_in_flight.fetch_add(1) == 0) ++m_t.m_round_trips;
    }
    ~InFlight() { --m_t.m_in_flight; }
    InFlight(const InFlight&) = delete;
    InFlight& operator=(const InFlight&) = delete;

  private:
    CurlTransport& m_t;
  };

  static void lock(CURL*, curl_lock_data data, curl_lock_access, void* user) {
    static_cast<CurlTransport*>(user)->m_share_locks.at(static_cast<size_t>(data)).lock();
  }
  static void unlock(CURL*, curl_lock_data data, void* user) {
    static_cast<CurlTransport*>(user)->m_share_locks.at(static_cast<size_t>(data)).unlock();
  }

  // Connect to the server's host but name `tls-server-name` in SNI and verification: the
  // URL carries that name and CONNECT_TO maps it back to the real host.
  void setup_server_name() {
    CURLU* url = curl_url();
    if (curl_url_set(url, CURLUPART_URL, m_config.server.c_str(), 0) == CURLUE_OK) {
      char* host = nullptr;
      char* port = nullptr;
      curl_url_get(url, CURLUPART_HOST, &host, 0);
      curl_url_get(url, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT);
      if (host != nullptr && port != nullptr) {
        const auto mapping = fmt::format("{}:{}:{}:{}", m_config.tls_server_name, port, host, port);
        m_connect_to = curl_slist_append(nullptr, mapping.c_str());
        m_host_header = fmt::format("Host: {}:{}", host, port);
        curl_url_set(url, CURLUPART_HOST, m_config.tls_server_name.c_str(), 0);
        char* rewritten = nullptr;
        if (curl_url_get(url, CURLUPART_URL, &rewritten, 0) == CURLUE_OK) {
          m_url_base = rewritten;
          while (!m_url_base.empty() && m_url_base.back() == '/')
            m_url_base.pop_back();
        }
        curl_free(rewritten);
      }
      curl_free(host);
      curl_free(port);
    }
    curl_url_cleanup(url);
  }

  CURL* acquire() {
    {
      std::lock_guard lock(m_pool_mutex);
      if (!m_pool.empty()) {
        CURL* h = m_pool.back();
        m_pool.pop_back();
        return h;
      }
    }
    return curl_easy_init();
  }
  void release(CURL* h) {
    std::lock_guard lock(m_pool_mutex);
    m_pool.push_back(h);
  }

  // One attempt. Connection failures carry http_status -1 so send() can tell them apart.
  Result<HttpResponse> attempt_once(const HttpRequest& request) {
    // After a cancellation nothing new goes out: not a write, and no read that would only
    // delay the exit.
    if (cancel::requested()) {
      return tl::unexpected(
          cancel::error(fmt::format("{} {}", request.method, path_only(request.path))));
    }
    WireAuth auth;
    if (m_config.auth) {
      auto a = m_config.auth();
      if (!a) return fail(a.error());
      auth = std::move(*a);
    }
    CURL* h = acquire();
    curl_easy_reset(h); // keeps live connections and caches
    Transfer t;
    t.handle = h;
    t.request = &request;
    t.max_body = m_config.max_body_bytes;
    std::array<char, CURL_ERROR_SIZE> errbuf{};
    const std::string url = m_url_base + request.path;
    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    curl_easy_setopt(h, CURLOPT_SHARE, m_share);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf.data());
    curl_easy_setopt(h, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS));
    if (m_config.compression) curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(m_config.connect_timeout.count()));
    const bool stream = static_cast<bool>(request.on_data);
    if (m_config.request_timeout && m_config.request_timeout->count() > 0) {
      if (stream) {
        // A log stream may rightly take minutes; one that stops moving does not.
        t.stall_limit = *m_config.request_timeout;
      } else {
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS,
                         static_cast<long>(m_config.request_timeout->count()));
      }
    }
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, &on_progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, &t);
    if (!m_config.user_agent.empty()) {
      curl_easy_setopt(h, CURLOPT_USERAGENT, m_config.user_agent.c_str());
    }
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &t);

    // TLS: verification stays on unless the kubeconfig says otherwise; an in-memory CA
    // replaces the system bundle (as kubectl does), SSL_CERT_FILE/DIR likewise.
    const long verify = m_config.insecure_skip_tls_verify ? 0L : 1L;
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, verify);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, verify * 2);
    if (!m_config.ca_pem.empty()) {
      curl_blob blob{const_cast<char*>(m_config.ca_pem.data()), m_config.ca_pem.size(),
                     CURL_BLOB_COPY};
      curl_easy_setopt(h, CURLOPT_CAINFO, nullptr);
      curl_easy_setopt(h, CURLOPT_CAPATH, nullptr);
      curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &blob);
    } else if (!m_config.ca_file.empty() || !m_config.ca_dir.empty()) {
      curl_easy_setopt(h, CURLOPT_CAINFO,
                       m_config.ca_file.empty() ? nullptr : m_config.ca_file.c_str());
      curl_easy_setopt(h, CURLOPT_CAPATH,
                       m_config.ca_dir.empty() ? nullptr : m_config.ca_dir.c_str());
    }
    if (!auth.client_certificate_pem.empty()) {
      curl_blob cert{const_cast<char*>(auth.client_certificate_pem.data()),
                     auth.client_certificate_pem.size(), CURL_BLOB_COPY};
      curl_blob key{const_cast<char*>(auth.client_key_pem.data()), auth.client_key_pem.size(),
                    CURL_BLOB_COPY};
      curl_easy_setopt(h, CURLOPT_SSLCERT_BLOB, &cert);
      curl_easy_setopt(h, CURLOPT_SSLCERTTYPE, "PEM");
      curl_easy_setopt(h, CURLOPT_SSLKEY_BLOB, &key);
      curl_easy_setopt(h, CURLOPT_SSLKEYTYPE, "PEM");
    }
    if (m_connect_to != nullptr) curl_easy_setopt(h, CURLOPT_CONNECT_TO, m_connect_to);
    if (!m_config.proxy_url.empty()) {
      curl_easy_setopt(h, CURLOPT_PROXY, m_config.proxy_url.c_str());
    } else if (m_config.no_proxy) {
      curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
    }

    HeaderList headers;
    headers.add("Expect:"); // no 100-continue round trip for bodies
    if (!m_host_header.empty()) headers.add(m_host_header);
    for (const auto& [name, value] : m_config.headers)
      headers.add(name + ": " + value);
    for (const auto& [name, value] : request.headers)
      headers.add(name + ": " + value);
    if (!auth.bearer_token.empty()) {
      headers.add("Authorization: Bearer " + auth.bearer_token);
    } else if (!auth.username.empty()) {
      curl_easy_setopt(h, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
      curl_easy_setopt(h, CURLOPT_USERNAME, auth.username.c_str());
      curl_easy_setopt(h, CURLOPT_PASSWORD, auth.password.c_str());
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.list);

    if (request.method == "GET") {
      curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    } else {
      curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, request.method.c_str());
      if (!request.body.empty() || request.method != "DELETE") {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, request.body.c_str());
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
                         static_cast<curl_off_t>(request.body.size()));
      }
    }

    if (spdlog::should_log(spdlog::level::trace)) {
      // Request headers for debugging; credentials are never among them (Authorization is
      // added above and deliberately left out here).
      std::string names;
      for (const auto& [name, value] : m_config.headers)
        names += " " + name + "=" + value;
      for (const auto& [name, value] : request.headers)
        names += " " + name + "=" + value;
      spdlog::trace("{} {}{} body={}B auth={}", request.method, request.path, names,
                    request.body.size(),
                    !auth.bearer_token.empty()             ? "bearer"
                    : !auth.username.empty()               ? "basic"
                    : !auth.client_certificate_pem.empty() ? "client-certificate"
                                                           : "none");
    }
    const auto start = Clock::now();
    ++m_count;
    CURLcode rc = CURLE_OK;
    {
      const InFlight in_flight(*this);
      // A stream holds its connection for as long as it runs: it gets one of its own. The
      // rest share the loop's.
      if (stream) {
        rc = curl_easy_perform(h);
      } else {
        curl_easy_setopt(h, CURLOPT_PIPEWAIT, 1L); // wait for the shared connection's streams
        rc = m_loop->perform(h);
      }
    }
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    long connects = 0;
    curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &connects);
    m_connections += static_cast<uint64_t>(connects);
    long http_version = 0;
    curl_easy_getinfo(h, CURLINFO_HTTP_VERSION, &http_version);
    double connect_time = 0;
    curl_easy_getinfo(h, CURLINFO_CONNECT_TIME, &connect_time);
    char* content_type = nullptr;
    curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &content_type);
    if (content_type != nullptr) t.response.content_type = content_type;
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, nullptr);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, nullptr);
    release(h);

    if (t.body_too_large) {
      spdlog::debug("{} {} stopped after {}ms: the answer passed {}", request.method,
                    path_only(request.path), ms, format_size(m_config.max_body_bytes));
      return fail(ErrorCode::api,
                  fmt::format("{} {}{}: the answer is larger than {}, the most netpol reads of "
                              "one API answer; the server is not answering like a Kubernetes API "
                              "server (check the kubeconfig's server URL and any proxy)",
                              request.method, m_config.server, path_only(request.path),
                              format_size(m_config.max_body_bytes)));
    }
    if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && t.stopped)) {
      const std::string detail =
          errbuf[0] != '\0' ? std::string(errbuf.data()) : std::string(curl_easy_strerror(rc));
      spdlog::debug("{} {} failed after {}ms: {}", request.method, path_only(request.path), ms,
                    detail);
      if (rc == CURLE_ABORTED_BY_CALLBACK && !t.stalled) {
        return tl::unexpected(
            cancel::error(fmt::format("{} {}", request.method, path_only(request.path))));
      }
      if (rc == CURLE_OPERATION_TIMEDOUT || t.stalled) {
        if (connect_time <= 0 && status == 0) {
          Error e(ErrorCode::unreachable,
                  fmt::format("cannot connect to {}: timed out ({})", m_config.server, detail));
          e.http_status = t.streamed_bytes == 0 ? -1 : 0;
          return fail(std::move(e));
        }
        const std::string limit = format_duration(m_config.request_timeout.value_or(Duration(0)));
        return fail(ErrorCode::timeout,
                    t.stalled
                        ? fmt::format("{} {}{}: no data for {} (--request-timeout)", request.method,
                                      m_config.server, path_only(request.path), limit)
                        : fmt::format("{} {}{}: no complete answer within {} "
                                      "(--request-timeout; {})",
                                      request.method, m_config.server, path_only(request.path),
                                      limit, detail));
      }
      if (rc == CURLE_SSL_CERTPROBLEM) {
        return fail(ErrorCode::config,
                    fmt::format("the client certificate or key for {} cannot be used ({}); check "
                                "client-certificate and client-key in the kubeconfig",
                                m_config.server, detail));
      }
      if (tls_trust_error(rc)) {
        return fail(ErrorCode::unreachable,
                    fmt::format("cannot connect to {}: TLS certificate not trusted ({}); set "
                                "certificate-authority-data in the kubeconfig or SSL_CERT_FILE",
                                m_config.server, detail));
      }
      Error e(ErrorCode::unreachable,
              fmt::format("cannot connect to {}: {}", m_config.server, detail));
      if (retryable_connection_error(rc) && t.streamed_bytes == 0) e.http_status = -1;
      return fail(std::move(e));
    }
    t.response.status = static_cast<int>(status);
    spdlog::debug("{} {} {} {}ms{}{}", request.method, path_only(request.path), status, ms,
                  connects > 0 ? " (new connection)" : "",
                  http_version == CURL_HTTP_VERSION_2_0 ? " h2" : "");
    if (spdlog::should_log(spdlog::level::trace)) {
      std::string names;
      for (const auto& [name, value] : t.response.headers)
        names += " " + name + "=" + (secret_header(name) ? std::string(log::k_redacted) : value);
      spdlog::trace("answer {} {}:{} body={}B", request.method, path_only(request.path), names,
                    t.streaming ? t.streamed_bytes : t.response.body.size());
    }
    for (const auto& w : t.response.warnings) {
      spdlog::warn("server warning for {} {}: {}", request.method, path_only(request.path), w);
    }
    return std::move(t.response);
  }

  TransportConfig m_config;
  std::string m_url_base;
  curl_slist* m_connect_to = nullptr; // tls-server-name -> real host
  std::string m_host_header;
  CURLSH* m_share = nullptr;
  std::array<std::mutex, CURL_LOCK_DATA_LAST> m_share_locks;
  std::mutex m_pool_mutex;
  std::vector<CURL*> m_pool;
  std::atomic<uint64_t> m_count{0};
  std::atomic<int> m_in_flight{0};
  std::atomic<uint64_t> m_round_trips{0};
  std::atomic<uint64_t> m_connections{0};
  std::unique_ptr<Loop> m_loop;
};

} // namespace

std::optional<Duration> parse_retry_after(std::string_view value,
                                          std::chrono::system_clock::time_point now) {
  const std::string v(trim(value));
  if (v.empty()) return std::nullopt;
  long long seconds = 0;
  auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), seconds);
  if (ec == std::errc() && ptr == v.data() + v.size()) {
    if (seconds < 0) return std::nullopt;
    return std::chrono::seconds(seconds);
  }
  // IMF-fixdate, the one HTTP-date form senders must use.
  absl::Time when;
  std::string parse_error;
  if (!absl::ParseTime("%a, %d %b %Y %H:%M:%S GMT", v, absl::UTCTimeZone(), &when, &parse_error)) {
    return std::nullopt;
  }
  const auto until = absl::ToChronoTime(when) - now;
  if (until <= std::chrono::system_clock::duration::zero()) return Duration(0);
  return std::chrono::ceil<Duration>(until);
}

Duration retry_delay(const RetryPolicy& policy, int attempt, std::optional<Duration> retry_after) {
  if (retry_after) return std::min(*retry_after, policy.max_retry_after);
  auto ceiling = policy.base_delay;
  for (int i = 1; i < attempt && ceiling < policy.max_delay; ++i)
    ceiling *= 2;
  ceiling = std::min(ceiling, policy.max_delay);
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uniform_int_distribution<Duration::rep> pick(0, ceiling.count());
  return Duration(pick(rng));
}

std::unique_ptr<HttpTransport> make_curl_transport(TransportConfig config) {
  return std::make_unique<CurlTransport>(std::move(config));
}

} // namespace netpol::kube
