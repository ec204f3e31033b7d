#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "kube/credentials.hpp"

namespace netpol::kube {
namespace {

namespace fs = std::filesystem;
using ::testing::AllOf;
using ::testing::HasSubstr;

// A plugin script in a fresh folder; it appends a line to `runs` on every run.
class Plugin {
public:
  explicit Plugin(const std::string& body) {
    static int n = 0;
    m_dir = fs::temp_directory_path() /
            ("netpol-exec-" + std::to_string(::getpid()) + "-" + std::to_string(++n));
    fs::create_directories(m_dir);
    std::ofstream(m_dir / "plugin")
        << "#!/bin/sh\necho run >> '" << (m_dir / "runs").string() << "'\n"
        << body;
    fs::permissions(m_dir / "plugin", fs::perms::owner_all);
  }
  ~Plugin() { fs::remove_all(m_dir); }

  ClientConfig config(const std::string& api_version = "client.authentication.k8s.io/v1") const {
    ClientConfig c;
    c.server = "https://api.example:6443";
    ExecConfig e;
    e.command = (m_dir / "plugin").string();
    e.api_version = api_version;
    e.interactive_mode = "Never";
    e.where = "kc:10";
    c.credentials.exec = e;
    return c;
  }
  std::string file(const std::string& name) const {
    std::ifstream in(m_dir / name);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  std::string path(const std::string& name) const { return (m_dir / name).string(); }

private:
  fs::path m_dir;
};

std::string credential(const std::string& status,
                       const std::string& api_version = "client.authentication.k8s.io/v1") {
  return "cat <<'EOF'\n{\"apiVersion\":\"" + api_version +
         "\",\"kind\":\"ExecCredential\",\"status\":" + status + "}\nEOF\n";
}

TEST(ExecPlugin, TokenIsCachedUntilItExpires) {
  Plugin p(credential(R"({"token":"exec-token-1","expirationTimestamp":"2999-01-01T00:00:00Z"})"));
  CredentialSource source(p.config());
  for (int i = 0; i < 3; ++i) {
    auto auth = source.current();
    ASSERT_TRUE(auth) << auth.error().message;
    EXPECT_EQ(auth->bearer_token, "exec-token-1");
  }
  EXPECT_EQ(source.exec_runs(), 1);
  EXPECT_TRUE(source.invalidate()); // a 401 makes the next request run it again
  ASSERT_TRUE(source.current());
  EXPECT_EQ(source.exec_runs(), 2);
}

TEST(ExecPlugin, ExpiredCredentialRunsEveryTime) {
  Plugin p(credential(R"({"token":"t-old","expirationTimestamp":"2000-01-01T00:00:00Z"})"));
  CredentialSource source(p.config());
  ASSERT_TRUE(source.current());
  ASSERT_TRUE(source.current());
  EXPECT_EQ(source.exec_runs(), 2);
}

TEST(ExecPlugin, ReceivesExecInfoArgsAndEnv) {
  Plugin p("printf '%s' \"$KUBERNETES_EXEC_INFO\" > \"$OUT/info\"\n"
           "printf '%s %s' \"$1\" \"$2\" > \"$OUT/args\"\n" +
           credential(R"({"clientCertificateData":"CERT","clientKeyData":"KEY"})",
                      "client.authentication.k8s.io/v1beta1"));
  auto config = p.config("client.authentication.k8s.io/v1beta1");
  config.ca_pem = "CA";
  config.credentials.exec->args = {"get", "token"};
  config.credentials.exec->env = {{"OUT", p.path("")}};
  config.credentials.exec->provide_cluster_info = true;
  config.credentials.exec->cluster_config = {{"audience", "x"}};
  auto cred = run_exec_plugin(config);
  ASSERT_TRUE(cred) << cred.error().message;
  EXPECT_EQ(cred->client_certificate_pem, "CERT");
  EXPECT_EQ(cred->client_key_pem, "KEY");
  EXPECT_FALSE(cred->expires);
  EXPECT_EQ(p.file("args"), "get token");
  const auto info = nlohmann::json::parse(p.file("info"));
  EXPECT_EQ(info["kind"], "ExecCredential");
  EXPECT_EQ(info["apiVersion"], "client.authentication.k8s.io/v1beta1");
  EXPECT_EQ(info["spec"]["interactive"], false);
  EXPECT_EQ(info["spec"]["cluster"]["server"], "https://api.example:6443");
  EXPECT_EQ(info["spec"]["cluster"]["certificate-authority-data"], "Q0E=");
  EXPECT_EQ(info["spec"]["cluster"]["config"]["audience"], "x");
}

TEST(ExecPlugin, FailuresAreClear) {
  struct Case {
    const char* name;
    std::string script;
    std::vector<std::string> expected;
  };
  const std::vector<Case> cases = {
      {"non-zero exit",
       "echo 'token expired, run login' >&2\nexit 3\n",
       {"kc:10", "exited with status 3", "token expired, run login"}},
      {"not JSON", "echo hello\n", {"not JSON"}},
      {"wrong kind", "echo '{\"kind\":\"Secret\"}'\n", {"not an ExecCredential"}},
      {"other version",
       credential(R"({"token":"x"})", "client.authentication.k8s.io/v1beta1"),
       {"configured for client.authentication.k8s.io/v1",
        "returned client.authentication.k8s.io/v1beta1"}},
      {"empty status", credential("{}"), {"neither a token nor a client certificate"}},
      {"half a certificate",
       credential(R"({"clientCertificateData":"C"})"),
       {"both clientCertificateData and clientKeyData"}},
      {"bad timestamp",
       credential(R"({"token":"abcd","expirationTimestamp":"tomorrow"})"),
       {"expirationTimestamp 'tomorrow'"}},
      // Of two tokens, which one would be sent? Neither: the output is refused, by key and
      // line, without either value.
      {"repeated key",
       credential("{\"token\":\"first-tok-0001\",\n\"token\":\"second-tok-0002\"}"),
       {"printed an ExecCredential with a duplicate key \"token\" (also at line 1)"}},
      // A plugin that floods stdout is stopped at 1 MiB, not read into memory to the end.
      {"endless output", "exec cat /dev/zero\n", {"printed more than 1 MiB and was stopped"}},
  };
  for (const auto& c : cases) {
    Plugin p(c.script);
    auto r = run_exec_plugin(p.config());
    ASSERT_FALSE(r) << c.name;
    EXPECT_EQ(r.error().code, ErrorCode::config) << c.name;
    for (const auto& s : c.expected)
      EXPECT_THAT(r.error().message, HasSubstr(s)) << c.name;
    EXPECT_THAT(r.error().message, ::testing::Not(HasSubstr("-tok-000"))) << c.name;
  }
}

TEST(ExecPlugin, APluginThatNeverExitsIsStoppedAtTheRequestTimeout) {
  Plugin p("sleep 60\n");
  CredentialSource source(p.config(), std::chrono::milliseconds(300));
  const auto started = std::chrono::steady_clock::now();
  auto r = source.current();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::config);
  EXPECT_THAT(r.error().message, HasSubstr("did not finish within 300ms (--request-timeout)"));
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10));
}

TEST(ExecPlugin, MissingCommandShowsTheInstallHint) {
  ClientConfig c;
  ExecConfig e;
  e.command = "netpol-no-such-plugin";
  e.api_version = "client.authentication.k8s.io/v1";
  e.interactive_mode = "Never";
  e.install_hint = "install it from example.com";
  c.credentials.exec = e;
  auto r = run_exec_plugin(c);
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().message,
              AllOf(HasSubstr("netpol-no-such-plugin"), HasSubstr("command not found"),
                    HasSubstr("install it from example.com")));
}

TEST(TokenFile, IsReReadAfterUnauthorized) {
  Plugin p("");
  std::ofstream(p.path("token")) << "first-token\n";
  ClientConfig c;
  c.credentials.token = "first-token";
  c.credentials.token_file = p.path("token");
  CredentialSource source(c);
  EXPECT_EQ(source.current()->bearer_token, "first-token");
  EXPECT_FALSE(source.invalidate()); // unchanged file: retrying would not help
  std::ofstream(p.path("token")) << "rotated-token\n";
  EXPECT_TRUE(source.invalidate());
  EXPECT_EQ(source.current()->bearer_token, "rotated-token");
}

// A token file replaced by a FIFO after loading must not block a refresh for ever; the
// last good token stays in use.
TEST(TokenFile, AFifoInItsPlaceDoesNotBlock) {
  Plugin p("");
  std::ofstream(p.path("token")) << "first-token\n";
  ClientConfig c;
  c.credentials.token = "first-token";
  c.credentials.token_file = p.path("token");
  CredentialSource source(c);
  EXPECT_EQ(source.current()->bearer_token, "first-token");
  fs::remove(p.path("token"));
  ASSERT_EQ(::mkfifo(p.path("token").c_str(), 0600), 0);
  EXPECT_FALSE(source.invalidate()); // returns: the FIFO is never opened
  EXPECT_EQ(source.current()->bearer_token, "first-token");
}

TEST(Rfc3339, ParsesOffsetsAndFractions) {
  const auto z = parse_expiration_timestamp("2026-11-26T17:00:00Z");
  ASSERT_TRUE(z);
  EXPECT_EQ(parse_expiration_timestamp("2026-11-26T18:00:00.123456+01:00"), z);
  EXPECT_EQ(parse_expiration_timestamp("2026-11-26T12:00:00-05:00"), z);
  EXPECT_FALSE(parse_expiration_timestamp("2026-11-26 17:00"));
  EXPECT_FALSE(parse_expiration_timestamp("2026-13-26T17:00:00Z"));
  EXPECT_FALSE(parse_expiration_timestamp("2026-11-26T-1:00:00Z"));
}

// Found by the exec_credential fuzzer: year 1013 overflowed the clock's nanoseconds.
TEST(Rfc3339, TimesOutsideTheClocksRangeAreClampedNotOverflowed) {
  EXPECT_EQ(parse_expiration_timestamp("1013-11-26T17:00:00Z"),
            std::chrono::system_clock::from_time_t(0) + std::chrono::hours(24 * 329 + 17));
  EXPECT_TRUE(parse_expiration_timestamp("9999-12-31T23:59:59Z"));
}

TEST(ExecCredential, OutputOfTheWrongShapeIsAnError) {
  ExecConfig e;
  e.command = "plugin";
  e.api_version = "client.authentication.k8s.io/v1";
  e.where = "kc:3";
  for (
      const char* out :
      {"", "[]", R"({"kind":1,"apiVersion":2})",
       R"({"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","status":[]})",
       R"({"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","status":{"token":7}})"}) {
    auto r = parse_exec_credential(out, e);
    ASSERT_FALSE(r) << out;
    EXPECT_EQ(r.error().code, ErrorCode::config);
    EXPECT_THAT(r.error().message, ::testing::StartsWith("kc:3: exec plugin 'plugin': ")) << out;
  }
  auto ok = parse_exec_credential(
      R"({"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","status":{"token":"tok-123456"}})",
      e);
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->token, "tok-123456");
}

} // namespace
} // namespace netpol::kube
