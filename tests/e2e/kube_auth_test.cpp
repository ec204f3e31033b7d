// Every way of authenticating, TLS verification, secret redaction and a cross-check with the
// real kubectl, all against the real kube-apiserver through kubeconfig files.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "kube/client.hpp"
#include "kube/kubeconfig.hpp"
#include "support/paths.hpp"
#include "support/temp_dir.hpp"
#include "support/test_cluster.hpp"
#include "util/log.hpp"

namespace netpol::kube {
namespace {

namespace fs = std::filesystem;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

using test::TempDir;

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Loads `kubeconfig`, connects, and reads something only an authenticated admin may read.
Result<std::string> whoami_namespace(const std::string& kubeconfig) {
  LoadOptions o;
  o.paths = {kubeconfig};
  o.explicit_paths = true;
  auto config = load_client_config(o);
  if (!config) return fail(config.error());
  auto api = connect(*config);
  if (!api) return fail(api.error());
  auto ns = (*api)->get(resources::namespaces, "", "default");
  if (!ns) return fail(ns.error());
  return (*ns)["metadata"]["name"].get<std::string>();
}

TEST(KubeAuth, BearerToken) {
  NETPOL_REQUIRE_TEST_CLUSTER(cluster);
  TempDir dir;
  auto r =
      whoami_namespace(cluster->write_kubeconfig(dir.file("kc"), "token: " + cluster->admin_token));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, "default");

  auto wrong = whoami_namespace(cluster->write_kubeconfig(dir.file("kc2"), "token: wrong-token"));
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().http_status, 401);
  EXPECT_EQ(wrong.error().reason, "Unauthorized");
}

TEST(KubeAuth, TokenFileRelativeToTheKubeconfig) {
  NETPOL_REQUIRE_TEST_CLUSTER(cluster);
  TempDir dir;
  dir.write("token", cluster->admin_token + "\n");
  auto r = whoami_namespace(cluster->write_kubeconfig(dir.file("kc"), "tokenFile: token"));
  ASSERT_TRUE(r) << r.error().message;
}

TEST(KubeAuth, ClientCertificateFilesAndData) {
  NETPOL_REQUIRE_TEST_CLUSTER(cluster);
  TempDir dir;
  auto files = whoami_namespace(
      cluster->write_kubeconfig(dir.file("kc"), "client-certificate: " + cluster->client_cert_file +
                                                    "\nclient-key: " + cluster->client_key_file));
  ASSERT_TRUE(files) << files.error().message;
  auto data = whoami_namespace(cluster->write_kubeconfig(
      dir.file("kc2"),
      "client-certificate-data: " + encode_base64(read_file(cluster->client_cert_file)) +
          "\nclient-key-data: " + encode_base64(read_file(cluster->client_key_file))));
  ASSERT_TRUE(data) << data.error().message;
}

TEST(KubeAuth, ExecPluginRunsOnceForManyRequests) {
  NETPOL_REQUIRE_TEST_CLUSTER(cluster);
  TempDir dir;
  dir.write("plugin.sh",
            "#!/bin/sh\necho run >> \"$(dirname \"$0\")/runs\"\n"
            "test \"$NETPOL_E2E\" = yes || { echo 'env not passed' >&2; exit 1; }\n"
            "cat <<EOF\n{\"apiVersion\":\"client.authentication.k8s.io/v1\","
            "\"kind\":\"ExecCredential\",\"status\":{\"token\":\"" +
                cluster->admin_token +
                "\",\"expirationTimestamp\":\"2099-01-01T00:00:00Z\"}}\nEOF\n",
            fs::perms::owner_all);
  const auto kc = cluster->write_kubeconfig(dir.file("kc"),
                                            "exec:\n  apiVersion: client.authentication.k8s.io/v1\n"
                                            "  command: ./plugin.sh\n  interactiveMode: Never\n"
                                            "  env: [{name: NETPOL_E2E, value: 'yes'}]\n");
  LoadOptions o;
  o.paths = {kc};
  auto config = load_client_config(o);
  ASSERT_TRUE(config) << config.error().message;
  auto api = connect(*config);
  ASSERT_TRUE(api);
  for (int i = 0; i < 3; ++i) {
    auto ns = (*api)->get(resources::namespaces, "", "default");
    ASSERT_TRUE(ns) << ns.error().message;
  }
  EXPECT_EQ(dir.read("runs"), "run\n");

  dir.write("fail.sh", "#!/bin/sh\necho 'please run: login --sso' >&2\nexit 2\n",
            fs::perms::owner_all);
  auto failing = whoami_namespace(cluster->write_kubeconfig(
      dir.file("kc2"), "exec:\n  apiVersion: client.authentication.k8s.io/v1beta1\n"
                       "  command: ./fail.sh\n"));
  ASSERT_FALSE(failing);
  EXPECT_EQ(failing.error().code, ErrorCode::config);
  EXPECT_THAT(failing.error().message,
              AllOf(HasSubstr("exited with status 2"), HasSubstr("please run: login --sso")));
}

TEST(KubeAuth, WrongCaIsAClearErrorNamingTheServer) {
  NETPOL_REQUIRE_TEST_CLUSTER(cluster);
  auto config = cluster->config(cluster->admin_token);
  config.ca_pem = read_file(cluster->client_ca_file); // a real CA, but not the server's
  auto api = connect(config);
  ASSERT_TRUE(api);
  auto r = (*api)->version();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::unreachable);
  EXPECT_THAT(r.error().message, AllOf(HasSubstr(cluster->server), HasSubstr("not trusted")));
}

TEST(KubeAuth, InsecureSkipTlsVerifyAcceptsAnyCertificate) {
  NETPOL_REQUIRE_TEST_CLUSTER(cluster);
  auto config = cluster->config(cluster->admin_token);
  config.ca_pem = read_file(cluster->client_ca_file);
  config.insecure_skip_tls_verify = true;
  auto r = connect(config).value()->version();
  ASSERT_TRUE(r) << r.error().message;
}

TEST(KubeAuth, TlsServerNameIsWhatGetsVerified) {
  NETPOL_REQUIRE_TEST_CLUSTER(cluster);
  auto config = cluster->config(cluster->admin_token);
  config.tls_server_name = "kubernetes.default.svc"; // one of the certificate's names
  auto ok = connect(config).value()->version();
  ASSERT_TRUE(ok) << ok.error().message;
  config.tls_server_name = "not-the-apiserver.example";
  auto bad = connect(config).value()->version();
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::unreachable);
}

TEST(KubeAuth, SecretsNeverReachTheLogAtTraceLevel) {
  NETPOL_REQUIRE_TEST_CLUSTER(cluster);
  TempDir dir;
  std::ostringstream sink;
  log::configure(sink, spdlog::level::trace);
  const auto key_pem = read_file(cluster->client_key_file);
  const auto token_kc = cluster->write_kubeconfig(dir.file("kc"), "token: " + cluster->admin_token);
  const auto cert_kc = cluster->write_kubeconfig(
      dir.file("kc2"),
      "client-certificate-data: " + encode_base64(read_file(cluster->client_cert_file)) +
          "\nclient-key-data: " + encode_base64(key_pem));
  for (const auto& kc : {token_kc, cert_kc}) {
    EXPECT_TRUE(whoami_namespace(kc));
  }
  // Failures log too: a 401 with a wrong token that looks like a real one.
  const std::string wrong = "0123456789abcdef0123456789abcdef";
  EXPECT_FALSE(whoami_namespace(cluster->write_kubeconfig(dir.file("kc3"), "token: " + wrong)));
  log::configure(std::cerr, spdlog::level::warn);
  const auto text = sink.str();
  EXPECT_THAT(text, HasSubstr("GET /api/v1/namespaces/default 200"));
  EXPECT_THAT(text, Not(HasSubstr(cluster->admin_token)));
  EXPECT_THAT(text, Not(HasSubstr(wrong)));
  // Any 40-character slice of the key's base64 body would do; take one from the middle.
  const auto body_start = key_pem.find('\n') + 1;
  EXPECT_THAT(text, Not(HasSubstr(key_pem.substr(body_start, 40))));
  EXPECT_THAT(text, Not(HasSubstr("PRIVATE KEY")));
}

// The same through the built binary: its whole stderr at trace level, for a command that
// reads the cluster.
TEST(KubeAuth, BinaryStderrAtTraceLevelHasNoSecrets) {
  NETPOL_REQUIRE_TEST_CLUSTER(cluster);
  TempDir dir;
  const auto key_pem = read_file(cluster->client_key_file);
  const auto token_kc = cluster->write_kubeconfig(dir.file("kc"), "token: " + cluster->admin_token);
  const auto cert_kc = cluster->write_kubeconfig(
      dir.file("kc2"),
      "client-certificate-data: " + encode_base64(read_file(cluster->client_cert_file)) +
          "\nclient-key-data: " + encode_base64(key_pem));
  for (const auto& kc : {token_kc, cert_kc}) {
    const auto cmd = "cd " + dir.file("") + " && " + test::netpol_binary().string() +
                     " --kubeconfig " + kc + " --log-level trace analyze --live > out 2> err";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << dir.read("err");
    const auto err = dir.read("err");
    EXPECT_THAT(err, HasSubstr("trace: GET /api/v1/namespaces"));
    EXPECT_THAT(err, Not(HasSubstr(cluster->admin_token)));
    EXPECT_THAT(err, Not(HasSubstr(key_pem.substr(key_pem.find('\n') + 1, 40))));
    EXPECT_THAT(err, Not(HasSubstr("PRIVATE KEY")));
  }
}

// The oldest kubectl binary beside the dispatcher (closest to the 1.20 server), or "".
std::string find_kubectl() {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path != nullptr ? path : "");
  std::string d;
  while (std::getline(dirs, d, ':')) {
    std::error_code ec;
    const auto dispatcher = fs::path(d) / "kubectl";
    if (!fs::exists(dispatcher, ec)) continue;
    const auto real_dir = fs::canonical(dispatcher, ec).parent_path();
    for (int minor = 27; minor <= 40; ++minor) {
      const auto candidate = real_dir / ("kubectl.1." + std::to_string(minor));
      if (fs::exists(candidate, ec)) return candidate.string();
    }
  }
  return "";
}

TEST(KubeAuth, KubectlReadsBackWhatNetpolApplied) {
  NETPOL_REQUIRE_TEST_CLUSTER(cluster);
  const auto kubectl = find_kubectl();
  if (kubectl.empty()) NETPOL_SKIP_OR_FAIL("no kubectl.1.NN binary beside kubectl");
  auto api = cluster->admin();
  const auto ns = cluster->create_namespace("kubectl");
  const nlohmann::json policy = {
      {"apiVersion", "networking.k8s.io/v1"},
      {"kind", "NetworkPolicy"},
      {"metadata", {{"name", "allow-dns"}, {"namespace", ns}, {"labels", {{"team", "a"}}}}},
      {"spec",
       {{"podSelector", nlohmann::json::object()},
        {"policyTypes", {"Egress"}},
        {"egress", {{{"ports", {{{"protocol", "UDP"}, {"port", 53}}}}}}}}}};
  ASSERT_TRUE(api->apply(policy, {}));
  TempDir dir;
  const auto cmd = kubectl + " --kubeconfig " + cluster->kubeconfig + " --cache-dir " +
                   dir.file("cache") + " -n " + ns +
                   " get networkpolicy allow-dns --show-managed-fields -o json > " +
                   dir.file("out.json") + " 2> " + dir.file("err");
  ASSERT_EQ(std::system(cmd.c_str()), 0) << dir.read("err");
  auto seen = nlohmann::json::parse(dir.read("out.json"));
  EXPECT_EQ(seen["spec"], policy["spec"]);
  EXPECT_EQ(seen["metadata"]["labels"], policy["metadata"]["labels"]);
  EXPECT_EQ(seen["metadata"]["managedFields"][0]["manager"], "netpol");
  EXPECT_EQ(seen["metadata"]["managedFields"][0]["operation"], "Apply");
}

} // namespace
} // namespace netpol::kube
