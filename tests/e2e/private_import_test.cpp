// The netpol binary importing a policy from a private project of its GitLab instance (a local
// HTTPS server standing in for it): the import is served only for the right JOB-TOKEN, a
// redirect to another host is followed without it, http is refused for redirects and gets no
// token, and the token appears in no byte netpol writes, at --log-level trace.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include "policy/loader.hpp"
#include "support/child_process.hpp"
#include "support/https_server.hpp"
#include "support/temp_dir.hpp"
#include "util/hash.hpp"

namespace netpol {
namespace {

namespace fs = std::filesystem;
using test::ChildProcess;
using test::HttpsServer;
using test::TempDir;
using ::testing::HasSubstr;
using ::testing::Not;

const std::string k_token = "glcbt-64_e2e-secret-job-token";
const std::string k_file = "/api/v4/projects/42/packages/generic/network-policies/1.4.0/base.yaml";

std::string policy(const std::string& name) {
  return "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: " + name +
         "\nspec:\n  podSelector: {}\n";
}

std::string read_all(const fs::path& dir) {
  std::string all;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    std::ifstream in(e.path(), std::ios::binary);
    all += std::string(std::istreambuf_iterator<char>(in), {});
  }
  return all;
}

class PrivateImportE2e : public ::testing::Test {
protected:
  void SetUp() override {
    instance.routes().Get(k_file, [this](const httplib::Request& req, httplib::Response& res) {
      record(req, "instance");
      if (req.get_header_value("JOB-TOKEN") != k_token) {
        res.status = 404; // what GitLab answers for a private project's file
        res.set_content("{\"message\":\"404 Project Not Found\"}", "application/json");
        return;
      }
      res.set_content(private_body, "text/plain");
    });
    instance.routes().Get(
        "/redirected", [this](const httplib::Request& req, httplib::Response& res) {
          record(req, "instance");
          res.set_redirect("https://localhost:" + std::to_string(other.port()) + "/object", 302);
        });
    instance.routes().Get("/to-http", [this](const httplib::Request& req, httplib::Response& res) {
      record(req, "instance");
      res.set_redirect("http://127.0.0.1:1/object", 302);
    });
    other.routes().Get("/object", [this](const httplib::Request& req, httplib::Response& res) {
      record(req, "other");
      res.set_content(other_body, "text/plain");
    });
    plain.Get(k_file, [this](const httplib::Request& req, httplib::Response& res) {
      record(req, "plain");
      res.status = 404;
    });
    instance.start();
    other.start();
    plain_port = plain.bind_to_any_port("127.0.0.1");
    ASSERT_GT(plain_port, 0);
    plain_thread = std::thread([this] { plain.listen_after_bind(); });
    while (!plain.is_running())
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    ca_file = work.write("ca.pem", instance.ca_pem() + other.ca_pem());
  }

  void TearDown() override {
    plain.stop();
    if (plain_thread.joinable()) plain_thread.join();
  }

  void record(const httplib::Request& req, const std::string& who) {
    std::lock_guard lock(mutex);
    seen.push_back(who + " " + req.path + " token=" + req.get_header_value("JOB-TOKEN"));
  }

  // `netpol lint` of a policy directory importing `url`, as a job of the instance.
  std::unique_ptr<ChildProcess> lint(const std::string& url, const std::string& body,
                                     const std::string& token = k_token) {
    const std::string name = "case" + std::to_string(++cases);
    work.write(name + "/policies/imports.yaml",
               "imports:\n- url: " + url + "\n  sha256: " + sha256_hex(body) + "\n");
    fs::create_directories(work.path() / name / "out");
    auto child = std::make_unique<ChildProcess>(
        std::vector<std::string>{NETPOL_BINARY, "--log-level", "trace", "lint",
                                 (work.path() / name / "policies").string()},
        std::map<std::string, std::string>{
            {"CI_JOB_TOKEN", token},
            {"CI_SERVER_URL", instance.url()},
            {"CI_SERVER_HOST", "127.0.0.1"},
            // The instance's address on plain http too, as far as netpol is told.
            {"CI_SERVER_PORT", std::to_string(plain_port)},
            {"CI_API_V4_URL", instance.url() + "/api/v4"},
            {"SSL_CERT_FILE", ca_file},
            {"GITLAB_CI", "true"}},
        (work.path() / name / "out").string());
    const auto rc = child->wait(std::chrono::seconds(120));
    EXPECT_TRUE(rc.has_value());
    exit_code = rc.value_or(-1);
    // Nothing netpol wrote (stdout, stderr, the files beside them) names the token.
    EXPECT_THAT(child->out() + child->err() + read_all(work.path() / name / "out"),
                Not(HasSubstr(k_token)));
    return child;
  }

  const std::string private_body = policy("from-private-project");
  const std::string other_body = policy("from-object-storage");
  TempDir work;
  HttpsServer instance;
  HttpsServer other;
  httplib::Server plain;
  std::thread plain_thread;
  int plain_port = 0;
  std::string ca_file;
  std::mutex mutex;
  std::vector<std::string> seen;
  int cases = 0;
  int exit_code = -1;
};

TEST_F(PrivateImportE2e, ServedForTheJobTokenOnly) {
  auto ok = lint(instance.url() + k_file, private_body);
  EXPECT_EQ(exit_code, 0) << ok->err();
  EXPECT_THAT(ok->out(), HasSubstr("1 objects, 0 invalid; 0 errors"));
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0], "instance " + k_file + " token=" + k_token);

  auto wrong = lint(instance.url() + k_file, private_body, "a-wrong-token-value");
  EXPECT_NE(exit_code, 0);
  EXPECT_THAT(wrong->err(), HasSubstr("HTTP 404 (sent with the job token"));
  EXPECT_THAT(wrong->err(), Not(HasSubstr("a-wrong-token-value")));
}

TEST_F(PrivateImportE2e, ARedirectToAnotherHostDoesNotCarryTheToken) {
  auto child = lint(instance.url() + "/redirected", other_body);
  EXPECT_EQ(exit_code, 0) << child->err();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0], "instance /redirected token=" + k_token);
  EXPECT_EQ(seen[1], "other /object token=");
}

TEST_F(PrivateImportE2e, HttpIsRefusedAndGetsNoToken) {
  auto redirect = lint(instance.url() + "/to-http", other_body);
  EXPECT_NE(exit_code, 0);
  EXPECT_THAT(redirect->err(),
              HasSubstr("redirected to http://127.0.0.1:1/object: only redirects to https:// "
                        "are followed"));

  // A plain http:// import of the instance's own address: fetched, never with the token; the
  // message says why no token went with it.
  seen.clear();
  auto plain_import = lint("http://127.0.0.1:" + std::to_string(plain_port) + k_file, private_body);
  EXPECT_NE(exit_code, 0);
  EXPECT_THAT(plain_import->err(),
              HasSubstr("HTTP 404 (the job token is sent only over https://)"));
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0], "plain " + k_file + " token=");
}

} // namespace
} // namespace netpol
