// The client against an in-process HTTPS server that misbehaves on purpose: only what a real
// API server cannot be made to do (throttling, 5xx, dropped connections, stalls, expired
// continue tokens) and TLS name handling. Everything else is tested against the real server
// in tests/e2e.
#include <signal.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "kube/client.hpp"
#include "support/https_server.hpp"
#include "util/cancel.hpp"

namespace netpol::kube {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

const std::string k_version = R"({"major":"1","minor":"20","gitVersion":"v1.20.2"})";

std::string status_body(int code, const std::string& reason, const std::string& message) {
  return nlohmann::json({{"kind", "Status"},
                         {"apiVersion", "v1"},
                         {"status", "Failure"},
                         {"code", code},
                         {"reason", reason},
                         {"message", message}})
      .dump();
}

class FaultTest : public ::testing::Test {
protected:
  ClientConfig config(const std::string& prefix = "") {
    ClientConfig c;
    c.server = server.url() + prefix;
    c.ca_pem = server.ca_pem();
    c.credentials.token = "fault-test-token";
    return c;
  }
  std::unique_ptr<KubeApi> client(ClientConfig c, std::optional<Duration> timeout = {},
                                  const Environment* env = nullptr) {
    ConnectOptions o;
    RetryPolicy retry;
    retry.sleep = [this](Duration d) {
      std::lock_guard lock(mutex);
      sleeps.push_back(d);
    };
    o.retry = retry;
    o.request_timeout = timeout;
    o.env = env;
    auto api = connect(c, o);
    EXPECT_TRUE(api);
    return std::move(*api);
  }
  std::unique_ptr<KubeApi> client() { return client(config()); }

  test::HttpsServer server{{"kube.internal"}};
  std::mutex mutex;
  std::vector<Duration> sleeps;
};

TEST_F(FaultTest, PathPrefixIsKeptAndTokenSent) {
  std::string auth;
  server.routes().Get("/k8s-proxy/version",
                      [&](const httplib::Request& req, httplib::Response& res) {
                        auth = req.get_header_value("Authorization");
                        res.set_content(k_version, "application/json");
                      });
  server.start();
  auto api = client(config("/k8s-proxy/"));
  auto v = api->version();
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ((*v)["gitVersion"], "v1.20.2");
  EXPECT_EQ(auth, "Bearer fault-test-token");
}

TEST_F(FaultTest, CompressionIsAskedForUnlessDisabled) {
  std::vector<std::string> seen;
  server.routes().Get("/version", [&](const httplib::Request& req, httplib::Response& res) {
    seen.push_back(req.get_header_value("Accept-Encoding"));
    res.set_content(k_version, "application/json");
  });
  server.start();
  auto c = config();
  ASSERT_TRUE(client(c)->version());
  c.disable_compression = true;
  ASSERT_TRUE(client(c)->version());
  ASSERT_EQ(seen.size(), 2U);
  EXPECT_THAT(seen[0], HasSubstr("gzip"));
  EXPECT_EQ(seen[1], "");
}

TEST_F(FaultTest, TooManyRequestsHonoursRetryAfter) {
  std::atomic<int> calls{0};
  server.routes().Get("/version", [&](const httplib::Request&, httplib::Response& res) {
    if (++calls <= 2) {
      res.status = 429;
      res.set_header("Retry-After", "3");
      res.set_content(status_body(429, "TooManyRequests", "slow down"), "application/json");
      return;
    }
    res.set_content(k_version, "application/json");
  });
  server.start();
  auto api = client();
  ASSERT_TRUE(api->version());
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(api->request_count(), 3U);
  EXPECT_EQ(sleeps, (std::vector<Duration>{std::chrono::seconds(3), std::chrono::seconds(3)}));
}

TEST_F(FaultTest, ThrottlingThatNeverEndsGivesUp) {
  std::atomic<int> calls{0};
  server.routes().Post(".*", [&](const httplib::Request&, httplib::Response& res) {
    ++calls;
    res.status = 429;
    res.set_header("Retry-After", "1");
    res.set_content(status_body(429, "TooManyRequests", "too many requests, try later"),
                    "application/json");
  });
  server.start();
  auto api = client();
  // Even a create is retried after 429: the server refused it before doing anything.
  auto r = api->create({{"apiVersion", "v1"},
                        {"kind", "ConfigMap"},
                        {"metadata", {{"name", "c"}, {"namespace", "n"}}}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().http_status, 429);
  EXPECT_EQ(r.error().reason, "TooManyRequests");
  EXPECT_EQ(r.error().message, "create ConfigMap/n/c: too many requests, try later");
  EXPECT_EQ(calls, 5); // RetryPolicy::max_attempts
}

TEST_F(FaultTest, ServerErrorsAreRetriedOnlyForSafeRequests) {
  std::atomic<int> gets{0};
  std::atomic<int> posts{0};
  server.routes().Get(
      "/api/v1/namespaces/n/configmaps/c", [&](const httplib::Request&, httplib::Response& res) {
        if (++gets == 1) {
          res.status = 503;
          res.set_content("<html>upstream down</html>", "text/html");
          return;
        }
        res.set_content(R"({"kind":"ConfigMap","metadata":{"name":"c"}})", "application/json");
      });
  server.routes().Post(
      "/api/v1/namespaces/n/configmaps", [&](const httplib::Request&, httplib::Response& res) {
        ++posts;
        res.status = 500;
        res.set_content(status_body(500, "InternalError", "etcd timeout"), "application/json");
      });
  server.start();
  auto api = client();
  auto got = api->get(resources::config_maps, "n", "c");
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(gets, 2);
  ASSERT_EQ(sleeps.size(), 1U);
  EXPECT_LE(sleeps[0], std::chrono::milliseconds(250)); // first backoff step

  auto created = api->create({{"apiVersion", "v1"},
                              {"kind", "ConfigMap"},
                              {"metadata", {{"name", "c"}, {"namespace", "n"}}}});
  ASSERT_FALSE(created);
  EXPECT_EQ(posts, 1); // a create may have happened: never sent twice
  EXPECT_EQ(created.error().reason, "InternalError");
  EXPECT_EQ(created.error().message, "create ConfigMap/n/c: etcd timeout");
}

TEST_F(FaultTest, DroppedConnectionIsRetriedForApply) {
  std::atomic<int> calls{0};
  std::string content_type;
  std::string query;
  server.routes().Patch(
      "/apis/networking.k8s.io/v1/namespaces/n/networkpolicies/p",
      [&](const httplib::Request& req, httplib::Response& res) {
        if (++calls == 1) {
          // Promise a body, then close the connection without it.
          res.set_content_provider(100, "application/json",
                                   [](size_t, size_t, httplib::DataSink&) { return false; });
          return;
        }
        content_type = req.get_header_value("Content-Type");
        query = req.get_param_value("fieldManager") + "," + req.get_param_value("force") + "," +
                req.get_param_value("dryRun");
        res.set_content(req.body, "application/json");
      });
  server.start();
  auto api = client();
  const nlohmann::json policy = {{"apiVersion", "networking.k8s.io/v1"},
                                 {"kind", "NetworkPolicy"},
                                 {"metadata", {{"name", "p"}, {"namespace", "n"}}},
                                 {"spec", {{"podSelector", nlohmann::json::object()}}}};
  auto r = api->apply(policy, {"netpol-test", true, true});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, policy);
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(content_type, "application/apply-patch+yaml");
  EXPECT_EQ(query, "netpol-test,true,All");
}

TEST_F(FaultTest, StalledAnswerTimesOut) {
  server.routes().Get("/version", [&](const httplib::Request&, httplib::Response& res) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    res.set_content(k_version, "application/json");
  });
  server.start();
  auto api = client(config(), std::chrono::milliseconds(200));
  auto r = api->version();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::timeout);
  EXPECT_THAT(r.error().message, HasSubstr(server.url()));
  EXPECT_EQ(api->request_count(), 1U); // a timeout is not retried: it is the user's budget
}

TEST_F(FaultTest, ExpiredContinueRestartsTheListOnce) {
  std::atomic<int> expire{1}; // how many continue requests answer 410
  std::vector<std::string> seen;
  server.routes().Get("/api/v1/namespaces/n/configmaps", [&](const httplib::Request& req,
                                                             httplib::Response& res) {
    const auto cont = req.get_param_value("continue");
    {
      std::lock_guard lock(mutex);
      seen.push_back(req.get_param_value("limit") + ":" + cont);
    }
    if (cont.empty()) {
      res.set_content(R"({"kind":"ConfigMapList","metadata":{"continue":"t1"},
                            "items":[{"metadata":{"name":"a"}},{"metadata":{"name":"b"}}]})",
                      "application/json");
    } else if (expire-- > 0) {
      res.status = 410;
      res.set_content(status_body(410, "Expired", "continue token expired"), "application/json");
    } else {
      res.set_content(R"({"kind":"ConfigMapList","metadata":{},
                            "items":[{"metadata":{"name":"c"}}]})",
                      "application/json");
    }
  });
  server.start();
  auto api = client();
  auto items = api->list(resources::config_maps, "n", {"", "", 2});
  ASSERT_TRUE(items) << items.error().message;
  ASSERT_EQ(items->size(), 3U);
  EXPECT_EQ((*items)[0]["kind"], "ConfigMap");
  EXPECT_EQ((*items)[0]["apiVersion"], "v1");
  EXPECT_EQ((*items)[2]["metadata"]["name"], "c");
  EXPECT_EQ(seen, (std::vector<std::string>{"2:", "2:t1", "2:", "2:t1"}));

  expire = 2; // expires again after the restart: an error, not a loop
  auto again = api->list(resources::config_maps, "n", {"", "", 2});
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().http_status, 410);
  EXPECT_EQ(again.error().message, "list ConfigMap in namespace n: continue token expired");
}

TEST_F(FaultTest, UntrustedCertificateNamesTheServer) {
  server.start();
  auto c = config();
  c.ca_pem = test::make_certificate("some other CA").cert_pem;
  auto r = client(c)->version();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::unreachable);
  EXPECT_THAT(r.error().message, AllOf(HasSubstr(server.url()), HasSubstr("not trusted")));
}

TEST_F(FaultTest, UnusableClientCertificateIsAConfigError) {
  server.start();
  auto c = config();
  c.credentials.client_certificate_pem = "-----BEGIN CERTIFICATE-----\nnot base64\n"
                                         "-----END CERTIFICATE-----\n";
  c.credentials.client_key_pem = "garbage";
  auto r = client(c)->version();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::config);
  EXPECT_THAT(r.error().message, AllOf(HasSubstr(server.url()), HasSubstr("client-certificate")));
}

TEST_F(FaultTest, TlsServerNameIsVerifiedInsteadOfTheHost) {
  std::string host;
  server.routes().Get("/version", [&](const httplib::Request& req, httplib::Response& res) {
    host = req.get_header_value("Host");
    res.set_content(k_version, "application/json");
  });
  server.start();
  auto c = config();
  c.server = "https://localhost:" + std::to_string(server.port());
  c.tls_server_name = "kube.internal";
  auto ok = client(c)->version();
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(host, "localhost:" + std::to_string(server.port())); // the real host, not the SNI

  c.tls_server_name = "other.internal"; // not in the certificate
  auto bad = client(c)->version();
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::unreachable);
}

TEST_F(FaultTest, SslCertFileIsHonouredWhenTheKubeconfigHasNoCa) {
  server.routes().Get("/version", [&](const httplib::Request&, httplib::Response& res) {
    res.set_content(k_version, "application/json");
  });
  server.start();
  const auto ca_file =
      std::filesystem::temp_directory_path() / ("netpol-ca-" + std::to_string(::getpid()) + ".pem");
  std::ofstream(ca_file) << server.ca_pem();
  auto c = config();
  c.ca_pem.clear();
  MapEnvironment env{{"SSL_CERT_FILE", ca_file.string()}};
  auto r = client(c, {}, &env)->version();
  std::filesystem::remove(ca_file);
  ASSERT_TRUE(r) << r.error().message;
}

TEST_F(FaultTest, ConnectionsAreReused) {
  std::set<int> ports;
  server.routes().Get("/version", [&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(mutex);
    ports.insert(req.remote_port);
    res.set_content(k_version, "application/json");
  });
  server.start();
  auto api = client();
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(api->version());
  EXPECT_EQ(ports.size(), 1U);
}

TEST_F(FaultTest, ApplyAllRunsConcurrentlyWithABound) {
  std::atomic<int> in_flight{0};
  std::atomic<int> peak{0};
  server.routes().new_task_queue = [] { return new httplib::ThreadPool(32); };
  server.routes().Patch(".*", [&](const httplib::Request& req, httplib::Response& res) {
    const int now = ++in_flight;
    int seen = peak.load();
    while (now > seen && !peak.compare_exchange_weak(seen, now)) {}
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    --in_flight;
    res.set_content(req.body, "application/json");
  });
  server.start();
  auto api = client();
  std::vector<nlohmann::json> objects;
  for (int i = 0; i < 40; ++i) {
    objects.push_back({{"apiVersion", "v1"},
                       {"kind", "ConfigMap"},
                       {"metadata", {{"name", "c" + std::to_string(i)}, {"namespace", "n"}}}});
  }
  objects.push_back({{"kind", "ConfigMap"}}); // invalid: fails alone, in its place
  auto results = api->apply_all(objects, {});
  ASSERT_EQ(results.size(), objects.size());
  for (size_t i = 0; i < 40; ++i) {
    ASSERT_TRUE(results[i]) << results[i].error().message;
    EXPECT_EQ((*results[i])["metadata"]["name"], "c" + std::to_string(i));
  }
  EXPECT_FALSE(results[40]);
  // This server speaks HTTP/1.1 only: one request per connection at a time, and no more
  // than TransportConfig::max_connections of them; the batch is still one round trip.
  EXPECT_GT(peak, 1);
  EXPECT_LE(peak, 8);
  // (This server closes a connection after five requests, so more than eight get opened.)
  const auto traffic = api->traffic();
  EXPECT_EQ(traffic.requests, 40U);
  EXPECT_EQ(traffic.round_trips, 1U);
}

TEST_F(FaultTest, LogsStreamInChunksAndCanStopEarly) {
  std::string query;
  server.routes().Get(
      "/api/v1/namespaces/n/pods/p/log", [&](const httplib::Request& req, httplib::Response& res) {
        query = req.get_param_value("container") + "|" + req.get_param_value("sinceTime") + "|" +
                req.get_param_value("timestamps") + "|" + req.get_param_value("limitBytes");
        res.set_chunked_content_provider("text/plain",
                                         [n = 0](size_t, httplib::DataSink& sink) mutable {
                                           if (n == 3) {
                                             sink.done();
                                             return true;
                                           }
                                           const auto line = "line " + std::to_string(n++) + "\n";
                                           sink.write(line.data(), line.size());
                                           return true;
                                         });
      });
  server.start();
  auto api = client();
  std::string all;
  LogOptions o;
  o.container = "app";
  o.since_time = "2026-11-26T10:00:00Z";
  o.timestamps = true;
  o.limit_bytes = 1000;
  ASSERT_TRUE(api->stream_logs("n", "p", o, [&](std::string_view d) {
    all += d;
    return true;
  }));
  EXPECT_EQ(all, "line 0\nline 1\nline 2\n");
  EXPECT_EQ(query, "app|2026-11-26T10:00:00Z|true|1000");

  int calls = 0;
  auto stopped = api->stream_logs("n", "p", o, [&](std::string_view) {
    ++calls;
    return false;
  });
  ASSERT_TRUE(stopped) << stopped.error().message; // stopping is not an error
  EXPECT_EQ(calls, 1);
}

// A log stream may take longer than the request timeout while data keeps coming; it fails only
// when nothing arrives for that long.
TEST_F(FaultTest, LogStreamsHaveANoDataLimitInsteadOfATimeout) {
  server.routes().Get("/api/v1/namespaces/n/pods/slow/log",
                      [&](const httplib::Request&, httplib::Response& res) {
                        res.set_chunked_content_provider(
                            "text/plain", [n = 0](size_t, httplib::DataSink& sink) mutable {
                              if (n == 8) {
                                sink.done();
                                return true;
                              }
                              std::this_thread::sleep_for(std::chrono::milliseconds(300));
                              const auto line = "line " + std::to_string(n++) + "\n";
                              sink.write(line.data(), line.size());
                              return true;
                            });
                      });
  std::atomic<bool> stop_stalling{false};
  server.routes().Get("/api/v1/namespaces/n/pods/stalled/log",
                      [&](const httplib::Request&, httplib::Response& res) {
                        res.set_chunked_content_provider(
                            "text/plain", [&, n = 0](size_t, httplib::DataSink& sink) mutable {
                              if (n++ == 0) {
                                sink.write("first\n", 6);
                                return true;
                              }
                              for (int i = 0; i < 200 && !stop_stalling; ++i)
                                std::this_thread::sleep_for(std::chrono::milliseconds(50));
                              sink.done();
                              return true;
                            });
                      });
  server.start();
  // Uncompressed: this server's gzip would hold the chunks back until the end.
  auto plain = config();
  plain.disable_compression = true;
  auto api = client(plain, std::chrono::seconds(2));
  std::string all;
  auto slow = api->stream_logs("n", "slow", {}, [&](std::string_view d) {
    all += d;
    return true;
  });
  ASSERT_TRUE(slow) << slow.error().message; // 2.4 s in all, never 2 s without a byte
  EXPECT_EQ(all.size(), 8 * std::string("line 0\n").size());

  const auto started = std::chrono::steady_clock::now();
  auto stalled = api->stream_logs("n", "stalled", {}, [](std::string_view) { return true; });
  stop_stalling = true;
  ASSERT_FALSE(stalled);
  EXPECT_EQ(stalled.error().code, ErrorCode::timeout);
  EXPECT_THAT(stalled.error().message, HasSubstr("/pods/stalled/log: no data for 2s"));
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
}

// A cancellation aborts a request in flight within about a second, and nothing is sent
// after it; a retry back-off ends early too.
TEST_F(FaultTest, CancellationAbortsRequestsInFlightAndStartsNoNewOnes) {
  std::atomic<bool> release{false};
  std::atomic<int> calls{0};
  server.routes().Get("/version", [&](const httplib::Request&, httplib::Response& res) {
    ++calls;
    for (int i = 0; i < 200 && !release; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    res.set_content(k_version, "application/json");
  });
  server.routes().Get("/apis", [&](const httplib::Request&, httplib::Response& res) {
    ++calls;
    res.status = 503;
    res.set_header("Retry-After", "20");
    res.set_content(status_body(503, "ServiceUnavailable", "busy"), "application/json");
  });
  server.start();
  ConnectOptions o; // the real, cancellable back-off
  auto connected = connect(config(), o);
  ASSERT_TRUE(connected);
  auto& api = **connected;
  std::jthread canceller([] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    cancel::request(SIGTERM);
  });
  auto started = std::chrono::steady_clock::now();
  auto v = api.version();
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().code, ErrorCode::cancelled);
  EXPECT_EQ(v.error().message, "GET /version: cancelled (SIGTERM)");
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(2500));
  const int before = calls;
  EXPECT_FALSE(api.api_groups());
  EXPECT_EQ(calls, before) << "nothing is sent after a cancellation";
  release = true;
  cancel::reset();

  // Cancelled during the 20 s Retry-After wait of a 503.
  std::jthread again([] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    cancel::request(SIGINT);
  });
  started = std::chrono::steady_clock::now();
  auto groups = api.api_groups();
  ASSERT_FALSE(groups);
  EXPECT_EQ(groups.error().code, ErrorCode::cancelled);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(2));
  cancel::reset();
}

TEST_F(FaultTest, RetriesStopAtTheBudget) {
  std::atomic<int> calls{0};
  server.routes().Get("/version", [&](const httplib::Request&, httplib::Response& res) {
    ++calls;
    res.status = 503;
    res.set_header("Retry-After", "20");
    res.set_content(status_body(503, "ServiceUnavailable", "busy"), "application/json");
  });
  server.start();
  auto api = client();
  auto v = api->version();
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().http_status, 503);
  // 20 s, 20 s, then the third wait would pass the 45 s budget: three attempts, not five.
  EXPECT_EQ(calls, 3);
  ASSERT_EQ(sleeps.size(), 2U);
  EXPECT_EQ(sleeps[0], std::chrono::seconds(20));
}

TEST_F(FaultTest, DeleteIsRetriedAfterAServerError) {
  std::atomic<int> calls{0};
  server.routes().Delete("/apis/networking.k8s.io/v1/namespaces/n/networkpolicies/p",
                         [&](const httplib::Request&, httplib::Response& res) {
                           if (++calls == 1) {
                             res.status = 503;
                             res.set_content(status_body(503, "ServiceUnavailable", "busy"),
                                             "application/json");
                             return;
                           }
                           res.set_content(status_body(200, "", ""), "application/json");
                         });
  server.start();
  auto api = client();
  auto removed = api->remove(resources::network_policies, "n", "p", {});
  ASSERT_TRUE(removed) << removed.error().message;
  EXPECT_EQ(calls, 2);
}

// Valid JSON of a shape no Kubernetes server sends (a proxy in between, a broken aggregated
// API): every reading of it is an answer or an error, never an exception.
TEST_F(FaultTest, AnswersOfAnUnexpectedShapeAreReadWithoutCrashing) {
  server.routes().Get("/apis", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"({"groups":[1,{"name":7,"versions":"v1"},{"name":"x.io","versions":[3]}]})",
                    "application/json");
  });
  server.routes().Get("/apis/x.io/v1", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"({"resources":[null,{"name":5,"kind":["Thing"]}]})", "application/json");
  });
  server.routes().Get("/api/v1/namespaces/n/configmaps",
                      [](const httplib::Request&, httplib::Response& res) {
                        res.set_content(R"({"items":"none","metadata":[]})", "application/json");
                      });
  server.routes().Post(".*", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"({"status":{"allowed":"yes"}})", "application/json");
  });
  server.routes().Get("/api/v1/namespaces/n/configmaps/c",
                      [](const httplib::Request&, httplib::Response& res) {
                        res.status = 404;
                        res.set_content(R"({"kind":"Status","details":{"causes":[1,{"field":2}]},
                                           "message":["not","a","string"]})",
                                        "application/json");
                      });
  server.start();
  auto api = client();
  auto groups = api->api_groups();
  ASSERT_TRUE(groups) << groups.error().message;
  auto thing = api->resolve("x.io/v1", "Thing");
  ASSERT_TRUE(thing) << thing.error().message;
  EXPECT_FALSE(*thing);
  auto listed = api->list(resources::config_maps, "n");
  ASSERT_TRUE(listed) << listed.error().message;
  EXPECT_TRUE(listed->empty());
  auto allowed = api->can_i({"get", "", "pods", "n", ""});
  ASSERT_TRUE(allowed);
  EXPECT_FALSE(*allowed) << "only a JSON true allows";
  auto missing = api->get(resources::config_maps, "n", "c");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().http_status, 404);
  EXPECT_THAT(missing.error().message, HasSubstr("get ConfigMap/n/c: "));
}

// A server that hands out the same continue token again would keep a list going for ever.
TEST_F(FaultTest, ARepeatedContinueTokenEndsTheList) {
  std::atomic<int> pages{0};
  server.routes().Get(
      "/api/v1/namespaces/n/configmaps", [&](const httplib::Request&, httplib::Response& res) {
        ++pages;
        res.set_content(R"({"items":[],"metadata":{"continue":"same"}})", "application/json");
      });
  server.start();
  auto api = client();
  auto listed = api->list(resources::config_maps, "n");
  ASSERT_FALSE(listed);
  EXPECT_EQ(listed.error().message,
            "list ConfigMap in namespace n: the server sent the same continue token twice");
  EXPECT_EQ(pages, 2);
}

// A server (or something posing as one) that answers without end must not fill memory: the
// body is cut at the limit and the request fails naming itself, without a retry.
TEST_F(FaultTest, AnAnswerPastTheBodyLimitFailsNamingTheRequest) {
  std::atomic<int> calls{0};
  const std::string big(3 * 1024 * 1024, 'x');
  server.routes().Get("/api/v1/namespaces/n/configmaps",
                      [&](const httplib::Request&, httplib::Response& res) {
                        ++calls;
                        res.set_content(big, "application/json");
                      });
  server.routes().Get("/api/v1/namespaces/n/configmaps/small",
                      [&](const httplib::Request&, httplib::Response& res) {
                        res.set_content(std::string(1024 * 1024, 'y'), "application/json");
                      });
  server.start();
  TransportConfig t;
  t.server = server.url();
  t.ca_pem = server.ca_pem();
  t.compression = false; // the limit holds for the decoded body either way; keep it simple
  t.max_body_bytes = 2 * 1024 * 1024;
  t.retry.sleep = [](Duration) {};
  auto transport = make_curl_transport(t);
  HttpRequest request;
  request.path = "/api/v1/namespaces/n/configmaps?limit=500";
  request.idempotent = true;
  auto r = transport->send(request);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::api);
  EXPECT_THAT(r.error().message,
              AllOf(HasSubstr("GET " + server.url() + "/api/v1/namespaces/n/configmaps: "),
                    HasSubstr("larger than 2 MiB")));
  EXPECT_EQ(calls, 1) << "not retried";
  request.path = "/api/v1/namespaces/n/configmaps/small";
  auto small = transport->send(request);
  ASSERT_TRUE(small) << small.error().message;
  EXPECT_EQ(small->body.size(), 1024u * 1024);
  EXPECT_EQ(k_max_response_body, size_t{256} << 20);
}

TEST_F(FaultTest, RefusedConnectionIsUnreachable) {
  server.start();
  const int port = server.port();
  server.stop();
  auto c = config();
  c.server = "https://127.0.0.1:" + std::to_string(port);
  auto r = client(c)->version();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::unreachable);
  EXPECT_THAT(r.error().message, HasSubstr(c.server));
}

TEST_F(FaultTest, UnauthorizedRunsTheExecPluginAgain) {
  server.routes().Get("/version", [&](const httplib::Request& req, httplib::Response& res) {
    if (req.get_header_value("Authorization") != "Bearer fresh-token") {
      res.status = 401;
      res.set_content(status_body(401, "Unauthorized", "Unauthorized"), "application/json");
      return;
    }
    res.set_content(k_version, "application/json");
  });
  server.start();
  const auto dir =
      std::filesystem::temp_directory_path() / ("netpol-exec-401-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  // First run: a token the server has revoked (expiry in the future, so only the 401 can
  // make the client ask again); later runs: a fresh one.
  std::ofstream(dir / "plugin") << "#!/bin/sh\n"
                                   "cd \"$(dirname \"$0\")\"\n"
                                   "if [ -e ran ]; then t=fresh-token; else t=revoked-token; fi\n"
                                   "echo run >> ran\n"
                                   "echo '{\"apiVersion\":\"client.authentication.k8s.io/v1\","
                                   "\"kind\":\"ExecCredential\",\"status\":{\"token\":\"'$t'\","
                                   "\"expirationTimestamp\":\"2099-01-01T00:00:00Z\"}}'\n";
  std::filesystem::permissions(dir / "plugin", std::filesystem::perms::owner_all);
  auto c = config();
  c.credentials.token.clear();
  ExecConfig e;
  e.command = (dir / "plugin").string();
  e.api_version = "client.authentication.k8s.io/v1";
  e.interactive_mode = "Never";
  c.credentials.exec = e;
  auto api = client(c);
  auto v = api->version();
  std::ifstream ran(dir / "ran");
  const std::string runs(std::istreambuf_iterator<char>(ran), {});
  std::filesystem::remove_all(dir);
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(runs, "run\nrun\n");
  EXPECT_EQ(api->request_count(), 2U);
  EXPECT_TRUE(sleeps.empty()) << "a refreshed credential is sent at once";
}

} // namespace
} // namespace netpol::kube
