// A TLS proxy in front of the real kube-apiserver that misbehaves on purpose: it forwards
// every request (credentials included) and answers chosen ones itself instead — a status with
// headers (429, 503 with Retry-After), a connection dropped before the body, an answer that
// never comes, the real answer late, or a status in place of the real answer (the request
// reached the server, its answer was lost on the way back). What a real server says is still what
// netpol sees for everything else, so the faults meet real server-side apply, real RBAC and real
// objects. Loopback only; hung requests end when the proxy stops.
//
//   FaultProxy proxy(*cluster);
//   proxy.add({.method = "DELETE", .path = "/apis/networking.k8s.io/.*",
//              .fault = FaultProxy::Fault::status, .status = 503,
//              .headers = {{"Retry-After", "1"}}});
//   proxy.start();
//   kubeconfig: proxy.url(), proxy.ca_pem(), any token the cluster knows
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "support/https_server.hpp"
#include "support/test_cluster.hpp"

namespace netpol::test {

class FaultProxy {
public:
  enum class Fault {
    status, // answer `status` with `headers` and `body`, without asking the server
    reset,  // promise a body, then close the connection without it
    hang,   // never answer (until the proxy stops)
    delay,  // forward, and answer after `delay`
    lose,   // forward, then answer `status` with `headers` and `body` instead of the reply
  };
  struct Rule {
    std::string method; // "" = any
    std::string path;   // ECMAScript regex over the whole path (without the query)
    // ECMAScript regex over the whole query (without '?'); "" = any. A request without
    // dryRun: "(?!.*dryRun).*".
    std::string query{};
    Fault fault = Fault::status;
    int times = 1; // matching requests it takes; -1 = every one
    int status = 503;
    std::vector<std::pair<std::string, std::string>> headers{};
    std::string body{};
    std::chrono::milliseconds delay{0};
  };

  explicit FaultProxy(const TestCluster& cluster);
  ~FaultProxy();
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  // Rules are tried in the order added; add them before start().
  void add(Rule rule);
  void start();
  void stop();

  std::string url() const { return m_server.url(); }
  const std::string& ca_pem() const { return m_server.ca_pem(); }
  // A kubeconfig at `path` for this proxy with bearer `token` (context "proxy").
  std::string write_kubeconfig(const std::string& path, const std::string& token,
                               const std::string& namespace_name = "") const;

  // Every request seen, in order, with its query: "PATCH /apis/...?fieldManager=netpol -> 429
  // (injected)" or "-> 200"; a delayed one also when it arrives ("-> delaying (injected)"), a
  // lost answer as "-> 503 (injected; the server answered 200)".
  std::vector<std::string> log() const;
  // How many requests matching `method` and the regex `path` (without the query) were answered.
  int count(const std::string& method, const std::string& path) const;

private:
  void handle(const httplib::Request& req, httplib::Response& res);
  void forward(const httplib::Request& req, httplib::Response& res);
  void record(const std::string& line);

  const TestCluster& m_cluster;
  HttpsServer m_server;
  mutable std::mutex m_mutex;
  std::condition_variable m_stopped_cv;
  bool m_stopped = false;
  std::vector<std::pair<Rule, int>> m_rules; // rule, times left
  std::vector<std::string> m_log;
};

} // namespace netpol::test
