#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "kube/kubeconfig.hpp"
#include "support/paths.hpp"
#include "support/temp_dir.hpp"

namespace netpol::kube {
namespace {

namespace fs = std::filesystem;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

using test::TempDir;

Result<ClientConfig> load(const std::vector<std::string>& paths, const std::string& context = "",
                          bool explicit_paths = false) {
  LoadOptions o;
  o.paths = paths;
  o.context = context;
  o.explicit_paths = explicit_paths;
  return load_client_config(o);
}

std::string data(const std::string& name) {
  return test::testdata("k8s/kubeconfig/" + name).string();
}

// A kubeconfig with one context "c" around the given cluster and user stanzas.
std::string single(const std::string& cluster_fields, const std::string& user_fields) {
  return "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
         "clusters:\n- name: k\n  cluster:\n" +
         cluster_fields + "users:\n- name: u\n  user:\n" + user_fields +
         "contexts:\n- name: c\n  context: {cluster: k, user: u}\n";
}

TEST(Kubeconfig, MergesLikeKubectl) {
  // The same list kubectl merged into merge-expected.json: first file wins per entry, a
  // missing file is skipped, a repeated file is read once.
  const std::vector<std::string> paths = {data("merge-a.yaml"), data("missing.yaml"),
                                          data("merge-b.yaml"), data("merge-a.yaml")};
  std::ifstream in(data("merge-expected.json"));
  const auto expected = nlohmann::json::parse(in);
  for (const auto& [context, c] : expected["contexts"].items()) {
    auto cfg = load(paths, context);
    ASSERT_TRUE(cfg) << cfg.error().message;
    const auto& cluster = expected["clusters"][c["cluster"].get<std::string>()];
    const auto& user = expected["users"][c["user"].get<std::string>()];
    EXPECT_EQ(cfg->server, cluster["server"].get<std::string>()) << context;
    EXPECT_EQ(cfg->insecure_skip_tls_verify, cluster.value("insecure-skip-tls-verify", false));
    EXPECT_EQ(cfg->credentials.token, user["token"].get<std::string>()) << context;
    EXPECT_EQ(cfg->credentials.username, user.value("username", "")) << context;
    EXPECT_EQ(cfg->namespace_name, c.value("namespace", "")) << context;
  }
  auto current = load(paths);
  ASSERT_TRUE(current);
  EXPECT_EQ(current->context_name, expected["current-context"].get<std::string>());
}

TEST(Kubeconfig, GitLabAgentFileNeedsAContextChoice) {
  auto none = load({data("gitlab-agent-ci.CONSTRUCTED.yaml")});
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, ErrorCode::config);
  EXPECT_THAT(none.error().message, AllOf(HasSubstr("no current-context"), HasSubstr("--context"),
                                          HasSubstr("platform/k8s-agents:prod-agent"),
                                          HasSubstr("platform/k8s-agents:staging-agent")));
  // The token never appears in an error.
  EXPECT_THAT(none.error().message, Not(HasSubstr("EXAMPLEjobtoken")));

  auto prod = load({data("gitlab-agent-ci.CONSTRUCTED.yaml")}, "platform/k8s-agents:prod-agent");
  ASSERT_TRUE(prod) << prod.error().message;
  EXPECT_EQ(prod->server, "https://kas.gitlab.com/k8s-proxy"); // prefix kept, '/' trimmed
  EXPECT_EQ(prod->credentials.token, "ci:1234:glcbt-64_EXAMPLEjobtoken");
  EXPECT_EQ(prod->namespace_name, "team-a");
  EXPECT_TRUE(prod->ca_pem.empty());

  auto staging =
      load({data("gitlab-agent-ci.CONSTRUCTED.yaml")}, "platform/k8s-agents:staging-agent");
  ASSERT_TRUE(staging);
  EXPECT_EQ(staging->credentials.token, "ci:5678:glcbt-64_EXAMPLEjobtoken");
  EXPECT_EQ(staging->namespace_name, "");
}

TEST(Kubeconfig, UnknownContextListsTheChoices) {
  auto r = load({data("merge-a.yaml"), data("merge-b.yaml")}, "nope");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::config);
  EXPECT_THAT(r.error().message, AllOf(HasSubstr("'nope'"), HasSubstr("ctx-a, ctx-b")));
}

TEST(Kubeconfig, TheOnlyContextIsUsedWithoutCurrentContext) {
  TempDir dir;
  const auto path = dir.write("kc", "clusters: [{name: k, cluster: {server: 'https://h:1'}}]\n"
                                    "contexts: [{name: only, context: {cluster: k}}]\n");
  auto r = load({path});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->context_name, "only");
  EXPECT_EQ(r->server, "https://h:1");
}

TEST(Kubeconfig, FileReferencesAreRelativeToTheKubeconfigFolder) {
  TempDir dir;
  dir.write("certs/ca.pem", "CA-FROM-FILE");
  dir.write("certs/client.crt", "CERT-FROM-FILE");
  dir.write("certs/client.key", "KEY-FROM-FILE");
  dir.write("token.txt", "  file-token\n");
  const auto path = dir.write(
      "sub/../kc", single("    server: https://h:6443/\n    certificate-authority: certs/ca.pem\n"
                          "    tls-server-name: api.internal\n    proxy-url: http://proxy:3128\n"
                          "    disable-compression: true\n",
                          "    tokenFile: token.txt\n    client-certificate: certs/client.crt\n"
                          "    client-key: certs/client.key\n"));
  auto r = load({path});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->ca_pem, "CA-FROM-FILE");
  EXPECT_EQ(r->credentials.client_certificate_pem, "CERT-FROM-FILE");
  EXPECT_EQ(r->credentials.client_key_pem, "KEY-FROM-FILE");
  EXPECT_EQ(r->credentials.token, "file-token");
  EXPECT_EQ(r->credentials.token_file, dir.file("token.txt"));
  EXPECT_EQ(r->tls_server_name, "api.internal");
  EXPECT_EQ(r->proxy_url, "http://proxy:3128");
  EXPECT_TRUE(r->disable_compression);
  EXPECT_EQ(r->server, "https://h:6443");
}

TEST(Kubeconfig, DataFieldsWinOverFilesAndTokenWinsOverTokenFile) {
  TempDir dir;
  const auto path =
      dir.write("kc", single("    server: https://h\n    certificate-authority: missing.pem\n"
                             "    certificate-authority-data: " +
                                 encode_base64("CA-DATA") + "\n",
                             "    token: inline\n    tokenFile: missing-token\n"
                             "    client-certificate-data: " +
                                 encode_base64("CERT") + "\n    client-key-data: |\n      " +
                                 encode_base64("KEY") + "\n"));
  auto r = load({path});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->ca_pem, "CA-DATA");
  EXPECT_EQ(r->credentials.token, "inline");
  EXPECT_EQ(r->credentials.client_key_pem, "KEY");
}

struct BadCase {
  const char* name;
  std::string cluster;
  std::string user;
  std::vector<std::string> expected; // substrings of the error
};

TEST(Kubeconfig, ErrorsNameTheFileLineAndField) {
  const std::string ca_b64 = encode_base64("CA");
  const std::vector<BadCase> cases = {
      {"bad base64",
       "    server: https://h\n    certificate-authority-data: '%%%'\n",
       "    {}\n",
       {"kc:8:", "clusters[k].certificate-authority-data", "not valid base64"}},
      {"missing CA file",
       "    server: https://h\n    certificate-authority: nope.pem\n",
       "    {}\n",
       {"kc:8:", "clusters[k].certificate-authority", "nope.pem"}},
      {"missing token file",
       "    server: https://h\n",
       "    tokenFile: /nonexistent/t\n",
       {"users[u].tokenFile", "/nonexistent/t"}},
      {"key without certificate",
       "    server: https://h\n",
       "    client-key-data: S0VZ\n",
       {"users[u].client-certificate", "is required"}},
      {"no server",
       "    insecure-skip-tls-verify: true\n",
       "    {}\n",
       {"clusters[k].server", "is required"}},
      {"not https", "    server: ftp://h\n", "    {}\n", {"clusters[k].server", "https://"}},
      // kubectl's rule and wording (client-go transport).
      {"insecure beside a CA",
       "    server: https://h\n    certificate-authority-data: " + ca_b64 +
           "\n    insecure-skip-tls-verify: true\n",
       "    {}\n",
       {"clusters[k].insecure-skip-tls-verify",
        "specifying a root certificates file with the insecure flag is not allowed"}},
      {"token over plain http",
       "    server: http://api.example:8080\n",
       "    token: t0000-secret\n",
       {"clusters[k].server", "http://api.example:8080 is plain http", "clear text"}},
      {"client certificate over plain http",
       "    server: http://10.0.0.1\n",
       "    client-certificate-data: " + ca_b64 + "\n    client-key-data: " + ca_b64 + "\n",
       {"clusters[k].server", "is plain http"}},
      {"bool as string",
       "    server: https://h\n    insecure-skip-tls-verify: 'yes'\n",
       "    {}\n",
       {"clusters[k].insecure-skip-tls-verify", "true or false"}},
      {"auth-provider",
       "    server: https://h\n",
       "    auth-provider: {name: gcp}\n",
       {"users[u].auth-provider", "'gcp' is not supported", "exec"}},
      {"basic and token",
       "    server: https://h\n",
       "    token: t0000\n    username: a\n    password: secretpw\n",
       {"users[u].username", "one authentication method"}},
      {"exec v1 without interactiveMode",
       "    server: https://h\n",
       "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: x\n",
       {"users[u].exec.interactiveMode", "required"}},
      {"exec alpha",
       "    server: https://h\n",
       "    exec:\n      apiVersion: client.authentication.k8s.io/v1alpha1\n      command: x\n",
       {"users[u].exec.apiVersion", "not supported"}},
      {"exec without command",
       "    server: https://h\n",
       "    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n",
       {"users[u].exec.command", "is required"}},
  };
  for (const auto& c : cases) {
    TempDir dir;
    const auto path = dir.write("kc", single(c.cluster, c.user));
    auto r = load({path});
    ASSERT_FALSE(r) << c.name;
    EXPECT_EQ(r.error().code, ErrorCode::config) << c.name;
    for (const auto& s : c.expected) {
      EXPECT_THAT(r.error().message, HasSubstr(s)) << c.name;
    }
    EXPECT_THAT(r.error().message, Not(HasSubstr("secretpw"))) << c.name;
  }
}

TEST(Kubeconfig, PlainHttpCarriesCredentialsOnlyToLoopback) {
  TempDir dir;
  for (const char* server :
       {"http://127.0.0.1:8001", "http://localhost:8001", "http://[::1]:8001"}) {
    auto r = load({dir.write(
        "kc", single(std::string("    server: ") + server + "\n", "    token: proxy-token\n"))});
    ASSERT_TRUE(r) << server << ": " << r.error().message;
    EXPECT_EQ(r->server, server);
  }
  // No credentials: nothing to leak (the run warns that nothing is encrypted).
  auto anonymous = load({dir.write("kc", single("    server: http://api.example\n", "    {}\n"))});
  ASSERT_TRUE(anonymous) << anonymous.error().message;
}

// The host is parsed as libcurl parses it and must read the same as written: anything a
// Go client (helm) would resolve by DNS, or send elsewhere, is not loopback.
TEST(Kubeconfig, LoopbackIsTheHostParsedNotAPrefix) {
  for (const char* url :
       {"http://127.0.0.1", "http://127.0.0.1:8001/", "http://127.255.3.4:1/prefix",
        "http://localhost:8001", "http://LocalHost", "http://[::1]:8001", "http://[::1]",
        "http://user@127.0.0.1:8001"}) {
    EXPECT_TRUE(is_loopback_url(url)) << url;
  }
  for (const char* url :
       {"http://127.evil.example",          // a name that starts with "127."
        "http://127.evil.example:8001/x",   //
        "http://127.0.0.1.nip.io",          // DNS that answers 127.0.0.1 today
        "http://0x7f.1",                    // libcurl: 127.0.0.1; Go: a name to look up
        "http://2130706433",                // likewise
        "http://0177.0.0.1",                // octal
        "http://127.1",                     // short form
        "http://[::ffff:127.0.0.1]",        // IPv4-mapped: spell it 127.0.0.1
        "http://[0:0:0:0:0:0:0:1]",         // spell it [::1]
        "http://evil.example?x@127.0.0.1/", // the query is not userinfo
        "http://evil.example#@127.0.0.1/",  // nor the fragment
        "http://127.0.0.1@evil.example/",   // userinfo, then the real host
        "http://localhost.evil.example",    //
        "http://localhost.",                //
        "http://128.0.0.1", "http://10.0.0.1", "http://[::2]", "http://", "not a url"}) {
    EXPECT_FALSE(is_loopback_url(url)) << url;
  }
}

TEST(Kubeconfig, PlainHttpLookalikesOfLoopbackGetNoToken) {
  TempDir dir;
  for (const char* server :
       {"http://127.evil.example:8001", "http://0x7f.1:8001", "http://evil.example?x@127.0.0.1/"}) {
    auto r = load({dir.write(
        "kc", single(std::string("    server: ") + server + "\n", "    token: proxy-token\n"))});
    ASSERT_FALSE(r) << server;
    EXPECT_EQ(r.error().code, ErrorCode::config);
    EXPECT_THAT(r.error().message, HasSubstr("is plain http")) << server;
    EXPECT_THAT(r.error().message, Not(HasSubstr("proxy-token")));
  }
  // Through a proxy even a loopback server's plain http would show the token to the proxy.
  auto proxied = load({dir.write("kc", single("    server: http://127.0.0.1:8001\n    proxy-url: "
                                              "http://proxy.example:3128\n",
                                              "    token: proxy-token\n"))});
  ASSERT_FALSE(proxied);
  EXPECT_THAT(proxied.error().message, HasSubstr("clusters[k].proxy-url"));
  EXPECT_THAT(proxied.error().message, HasSubstr("through a proxy"));
}

TEST(Kubeconfig, SpecialFilesAreRefusedByName) {
  TempDir dir;
  const auto fifo = dir.file("token.fifo");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  auto r =
      load({dir.write("kc", single("    server: https://h\n", "    tokenFile: " + fifo + "\n"))});
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().message, HasSubstr("not a regular file (a FIFO)"));
  auto zero = load({"/dev/zero"}, "", true);
  ASSERT_FALSE(zero);
  EXPECT_EQ(zero.error().code, ErrorCode::config);
  EXPECT_THAT(zero.error().message, HasSubstr("/dev/zero: not a regular file"));
}

TEST(Kubeconfig, MissingReferencesAndBadSyntax) {
  TempDir dir;
  const auto no_cluster = dir.write("a", "current-context: c\n"
                                         "contexts: [{name: c, context: {cluster: gone}}]\n");
  auto r = load({no_cluster});
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().message, AllOf(HasSubstr("contexts[c].cluster"), HasSubstr("'gone'")));

  const auto no_user = dir.write("b", single("    server: https://h\n", "    {}\n") +
                                          "- name: d\n  context: {cluster: k, user: ghost}\n");
  r = load({no_user}, "d");
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().message, AllOf(HasSubstr("contexts[d].user"), HasSubstr("'ghost'")));

  const auto syntax = dir.write("c", "clusters: [\n  - {name: x\n");
  r = load({syntax});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::config);
  EXPECT_THAT(r.error().message, HasSubstr(syntax + ":"));

  const auto no_name = dir.write("d", "clusters:\n- cluster: {server: https://h}\n");
  r = load({no_name});
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().message, AllOf(HasSubstr(no_name + ":2:"), HasSubstr("name is missing")));
}

TEST(Kubeconfig, ExplicitFilesMustExistListedOnesMayBeMissing) {
  auto r = load({"/nonexistent/kc"}, "", true);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::config);
  // Says that it is the kubeconfig and how to give one, not only that a file is missing.
  EXPECT_THAT(r.error().message,
              AllOf(HasSubstr("kubeconfig /nonexistent/kc: cannot read file"),
                    HasSubstr("point --kubeconfig or KUBECONFIG at the cluster's kubeconfig")));

  r = load({"/nonexistent/a", "/nonexistent/b"});
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().message, AllOf(HasSubstr("none of the kubeconfig files exist"),
                                       HasSubstr("/nonexistent/a, /nonexistent/b"),
                                       HasSubstr("--kubeconfig or KUBECONFIG")));
}

TEST(Kubeconfig, UnquotedNumbersAreStrings) {
  TempDir dir;
  const auto path = dir.write("kc", single("    server: https://h\n", "    token: 123456789\n"));
  auto r = load({path});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->credentials.token, "123456789");
}

TEST(Kubeconfig, ExecStanza) {
  TempDir dir;
  const auto path =
      dir.write("kc", single("    server: https://h\n    extensions:\n"
                             "    - name: client.authentication.k8s.io/exec\n"
                             "      extension: {audience: netpol}\n",
                             "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n"
                             "      command: ./bin/plugin\n      args: [get-token, 42]\n"
                             "      env: [{name: A, value: b}]\n      interactiveMode: Never\n"
                             "      provideClusterInfo: true\n      installHint: install it\n"));
  auto r = load({path});
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_TRUE(r->credentials.exec);
  const auto& e = *r->credentials.exec;
  EXPECT_EQ(e.command, dir.file("bin/plugin")); // a path: relative to the kubeconfig
  EXPECT_EQ(e.args, (std::vector<std::string>{"get-token", "42"}));
  ASSERT_EQ(e.env.size(), 1U);
  EXPECT_EQ(e.env[0].first, "A");
  EXPECT_TRUE(e.provide_cluster_info);
  EXPECT_EQ(e.cluster_config, nlohmann::json({{"audience", "netpol"}}));

  const auto bare = dir.write(
      "kc2",
      single("    server: https://h\n",
             "    exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: aws}\n"));
  r = load({bare});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->credentials.exec->command, "aws"); // a name: looked up in PATH when run
}

TEST(Kubeconfig, DefaultFileIsHomeKubeConfig) {
  TempDir dir;
  dir.write(".kube/config", single("    server: https://home:6443\n", "    token: tok-home\n"));
  MapEnvironment env{{"HOME", dir.path().string()}};
  LoadOptions o;
  o.env = &env;
  auto r = load_client_config(o);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->server, "https://home:6443");

  MapEnvironment empty{{"HOME", dir.file("nowhere")}};
  o.env = &empty;
  r = load_client_config(o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::config);
  EXPECT_THAT(r.error().message, HasSubstr("KUBECONFIG"));
}

TEST(Kubeconfig, InClusterServiceAccount) {
  TempDir dir;
  dir.write("sa/token", "sa-token\n");
  dir.write("sa/ca.crt", "SA-CA");
  dir.write("sa/namespace", "team-x\n");
  MapEnvironment env{{"HOME", dir.file("nowhere")},
                     {"KUBERNETES_SERVICE_HOST", "10.96.0.1"},
                     {"KUBERNETES_SERVICE_PORT", "443"}};
  LoadOptions o;
  o.env = &env;
  o.service_account_dir = dir.file("sa");
  auto r = load_client_config(o);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->server, "https://10.96.0.1:443");
  EXPECT_EQ(r->credentials.token, "sa-token");
  EXPECT_EQ(r->credentials.token_file, dir.file("sa/token"));
  EXPECT_EQ(r->ca_pem, "SA-CA");
  EXPECT_EQ(r->namespace_name, "team-x");

  env.set("KUBERNETES_SERVICE_HOST", "fd00::1");
  env.set("POD_NAMESPACE", "from-env");
  r = load_client_config(o);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->server, "https://[fd00::1]:443");
  EXPECT_EQ(r->namespace_name, "from-env");

  o.service_account_dir = dir.file("missing");
  r = load_client_config(o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::config);
  EXPECT_THAT(r.error().message, AllOf(HasSubstr("in-cluster"), HasSubstr("missing/token")));
}

TEST(Base64, RoundTripsAndRejectsGarbage) {
  EXPECT_EQ(decode_base64(encode_base64("hello world!")), "hello world!");
  EXPECT_EQ(decode_base64("aGk=\n"), "hi");
  EXPECT_EQ(decode_base64(""), "");
  EXPECT_FALSE(decode_base64("a$=="));
  EXPECT_FALSE(decode_base64("abc"));
}

} // namespace
} // namespace netpol::kube
