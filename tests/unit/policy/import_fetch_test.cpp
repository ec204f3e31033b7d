// Imports downloaded over real TLS from local servers: the job token goes to the GitLab
// instance's host:port over https:// only, is decided again on every redirect hop, and never
// reaches another host, plain http, or an error message.
#include <atomic>
#include <mutex>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include "policy/loader.hpp"
#include "util/hash.hpp"
#include "support/https_server.hpp"
#include "support/temp_dir.hpp"

namespace netpol::policy {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

const std::string k_token = "glcbt-64_secret-job-token-value";

std::string policy(const std::string& name) {
  return "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: " + name +
         "\nspec:\n  podSelector: {}\n";
}

// What one server was asked: the path and the JOB-TOKEN header ("" when absent).
struct Seen {
  std::mutex mutex;
  std::vector<std::pair<std::string, std::string>> requests;
  void record(const httplib::Request& req) {
    std::lock_guard lock(mutex);
    requests.emplace_back(req.path, req.get_header_value("JOB-TOKEN"));
  }
};

class PrivateImport : public ::testing::Test {
protected:
  void SetUp() override {
    // The instance: serves the private file only with the right job token.
    instance.routes().Get("/api/v4/projects/7/repository/files/base.yaml/raw",
                          [this](const httplib::Request& req, httplib::Response& res) {
                            instance_seen.record(req);
                            if (req.get_header_value("JOB-TOKEN") != k_token) {
                              res.status = 401;
                              res.set_content("{\"message\":\"401 Unauthorized\"}",
                                              "application/json");
                              return;
                            }
                            res.set_content(private_body, "text/plain");
                          });
    instance.routes().Get("/to-other", [this](const httplib::Request& req, httplib::Response& res) {
      instance_seen.record(req);
      res.set_redirect(other.url_as_localhost() + "/public.yaml", 302);
    });
    instance.routes().Get("/to-http", [this](const httplib::Request& req, httplib::Response& res) {
      instance_seen.record(req);
      res.set_redirect("http://127.0.0.1:" + std::to_string(plain_port) + "/public.yaml", 302);
    });
    instance.routes().Get("/to-self", [this](const httplib::Request& req, httplib::Response& res) {
      instance_seen.record(req);
      res.set_redirect("/api/v4/projects/7/repository/files/base.yaml/raw", 301);
    });
    // Another host (the same certificate names localhost; the instance is 127.0.0.1).
    other.server.routes().Get("/public.yaml",
                              [this](const httplib::Request& req, httplib::Response& res) {
                                other_seen.record(req);
                                res.set_content(public_body, "text/plain");
                              });
    other.server.routes().Get("/back", [this](const httplib::Request& req, httplib::Response& res) {
      other_seen.record(req);
      res.set_redirect(instance.url() + "/api/v4/projects/7/repository/files/base.yaml/raw", 302);
    });
    plain.Get("/public.yaml", [this](const httplib::Request& req, httplib::Response& res) {
      plain_seen.record(req);
      res.set_content(public_body, "text/plain");
    });
    plain.Get("/api/v4/projects/7/repository/files/base.yaml/raw",
              [this](const httplib::Request& req, httplib::Response& res) {
                plain_seen.record(req);
                res.status = 401;
              });
    instance.start();
    other.server.start();
    plain_port = plain.bind_to_any_port("127.0.0.1");
    ASSERT_GT(plain_port, 0);
    plain_thread = std::thread([this] { plain.listen_after_bind(); });
    while (!plain.is_running())
      std::this_thread::sleep_for(std::chrono::milliseconds(1));

    // Each server's CA in its own file: the instance's as the runner's CI_SERVER_TLS_CA_FILE,
    // the other's as SSL_CERT_FILE.
    instance_ca = dir.write("instance-ca.pem", instance.ca_pem());
    other_ca = dir.write("other-ca.pem", other.server.ca_pem());
    env.set("CI_JOB_TOKEN", k_token);
    env.set("CI_SERVER_URL", instance.url());
    // The instance also answers plain http on plain_port (as far as the settings know).
    env.set("CI_SERVER_HOST", "127.0.0.1");
    env.set("CI_SERVER_PORT", std::to_string(plain_port));
    env.set("CI_SERVER_TLS_CA_FILE", instance_ca);
    env.set("SSL_CERT_FILE", other_ca);
  }

  void TearDown() override {
    plain.stop();
    if (plain_thread.joinable()) plain_thread.join();
  }

  LoadResult import(const std::string& url, const std::string& body) {
    test::TempDir& d = policies;
    d.write("imports.yaml", "imports:\n- url: " + url + "\n  sha256: " + sha256_hex(body) + "\n");
    LoadOptions options;
    options.env = &env;
    return load_policies({d.path().string()}, options);
  }

  static std::vector<std::string> names(const LoadResult& r) {
    std::vector<std::string> out;
    for (const auto& p : r.policies)
      out.push_back(p.name());
    return out;
  }

  static void expect_no_token_in(const LoadResult& r) {
    for (const auto& e : r.errors)
      EXPECT_THAT(e.message, Not(HasSubstr(k_token)));
  }

  struct Other {
    test::HttpsServer server;
    std::string url_as_localhost() const {
      return "https://localhost:" + std::to_string(server.port());
    }
  };

  const std::string private_body = policy("from-private-project");
  const std::string public_body = policy("from-object-storage");
  test::TempDir dir;
  test::TempDir policies;
  test::HttpsServer instance;
  Other other;
  httplib::Server plain;
  std::thread plain_thread;
  int plain_port = 0;
  Seen instance_seen, other_seen, plain_seen;
  std::string instance_ca, other_ca;
  MapEnvironment env;
};

TEST_F(PrivateImport, TheInstanceServesThePrivateFileForTheJobToken) {
  auto r =
      import(instance.url() + "/api/v4/projects/7/repository/files/base.yaml/raw", private_body);
  ASSERT_THAT(r.errors, IsEmpty()) << r.errors.front().message;
  EXPECT_THAT(names(r), ElementsAre("from-private-project"));
  ASSERT_EQ(instance_seen.requests.size(), 1u);
  EXPECT_EQ(instance_seen.requests[0].second, k_token);
}

TEST_F(PrivateImport, AWrongTokenIsRefusedAndTheErrorNamesNoToken) {
  env.set("CI_JOB_TOKEN", "not-the-token");
  auto r =
      import(instance.url() + "/api/v4/projects/7/repository/files/base.yaml/raw", private_body);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_THAT(r.errors[0].message, HasSubstr("HTTP 401 (sent with the job token"));
  EXPECT_THAT(r.errors[0].message, Not(HasSubstr("not-the-token")));
  EXPECT_THAT(names(r), IsEmpty());
}

TEST_F(PrivateImport, WithoutAJobTokenNothingIsSent) {
  env.set("CI_JOB_TOKEN", "");
  auto r =
      import(instance.url() + "/api/v4/projects/7/repository/files/base.yaml/raw", private_body);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_THAT(r.errors[0].message, HasSubstr("HTTP 401"));
  ASSERT_EQ(instance_seen.requests.size(), 1u);
  EXPECT_EQ(instance_seen.requests[0].second, "");
}

TEST_F(PrivateImport, ARedirectToAnotherHostIsFollowedWithoutTheToken) {
  auto r = import(instance.url() + "/to-other", public_body);
  ASSERT_THAT(r.errors, IsEmpty()) << r.errors.front().message;
  EXPECT_THAT(names(r), ElementsAre("from-object-storage"));
  ASSERT_EQ(instance_seen.requests.size(), 1u);
  EXPECT_EQ(instance_seen.requests[0].second, k_token);
  ASSERT_EQ(other_seen.requests.size(), 1u);
  EXPECT_EQ(other_seen.requests[0].second, "") << "the job token reached another host";
}

TEST_F(PrivateImport, TheTokenIsDecidedAgainOnEveryHop) {
  // Another host redirects back to the instance: that hop carries it again; a redirect
  // within the instance too.
  auto r = import(other.url_as_localhost() + "/back", private_body);
  ASSERT_THAT(r.errors, IsEmpty()) << r.errors.front().message;
  ASSERT_EQ(other_seen.requests.size(), 1u);
  EXPECT_EQ(other_seen.requests[0].second, "");
  ASSERT_EQ(instance_seen.requests.size(), 1u);
  EXPECT_EQ(instance_seen.requests[0].second, k_token);

  auto self = import(instance.url() + "/to-self", private_body);
  ASSERT_THAT(self.errors, IsEmpty()) << self.errors.front().message;
  ASSERT_EQ(instance_seen.requests.size(), 3u);
  EXPECT_EQ(instance_seen.requests[1].second, k_token);
  EXPECT_EQ(instance_seen.requests[2].second, k_token);
}

TEST_F(PrivateImport, ARedirectToHttpIsRefused) {
  auto r = import(instance.url() + "/to-http", public_body);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_THAT(r.errors[0].message,
              HasSubstr("redirected to http://127.0.0.1:" + std::to_string(plain_port) +
                        "/public.yaml: only redirects to https:// are followed"));
  EXPECT_THAT(plain_seen.requests, IsEmpty());
  expect_no_token_in(r);
}

TEST_F(PrivateImport, TheTokenNeverGoesOverHttpEvenToTheInstance) {
  auto r = import("http://127.0.0.1:" + std::to_string(plain_port) +
                      "/api/v4/projects/7/repository/files/base.yaml/raw",
                  private_body);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_THAT(r.errors[0].message,
              HasSubstr("HTTP 401 (the job token is sent only over https://)"));
  ASSERT_EQ(plain_seen.requests.size(), 1u);
  EXPECT_EQ(plain_seen.requests[0].second, "");
  expect_no_token_in(r);
}

TEST_F(PrivateImport, TheInstanceCaIsNotTrustedForOtherHosts) {
  // The instance's CA (CI_SERVER_TLS_CA_FILE) vouches for the instance only: the other host,
  // whose CA is not in SSL_CERT_FILE now, fails verification.
  env.set("SSL_CERT_FILE", instance_ca);
  auto r = import(other.url_as_localhost() + "/public.yaml", public_body);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_THAT(r.errors[0].message, HasSubstr("download failed"));
  EXPECT_THAT(other_seen.requests, IsEmpty());
}

TEST_F(PrivateImport, ErrorsNameTheUrlWithoutItsCredentials) {
  auto r =
      import("https://user:url-password@127.0.0.1:" + std::to_string(plain_port) + "/to-nowhere",
             public_body);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_THAT(r.errors[0].message, HasSubstr("import https://user:[REDACTED]@127.0.0.1:"));
  EXPECT_THAT(r.errors[0].message, Not(HasSubstr("url-password")));
  expect_no_token_in(r);
}

} // namespace
} // namespace netpol::policy
