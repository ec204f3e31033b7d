// `netpol apply --provider-file`: the provider.json of an earlier `netpol detect` is input like
// any other (a FIFO, a device, a huge file, repeated keys), refused by name before anything
// is sent to the cluster.
#include <sys/stat.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/run_cli.hpp"
#include "support/temp_dir.hpp"

namespace netpol::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const std::string k_provider = R"({
  "kubernetes_version": "v1.20.2",
  "flavor": "generic",
  "provider": {"name": "cilium", "version": "1.20.0", "namespace": "kube-system",
               "enforces_network_policy": true, "audit_mode": false,
               "drop_log_source": "none", "ready": true, "confidence": "high"},
  "other_providers": [], "evidence": [], "confidence": "high"
})";

class ApplyProviderFile : public ::testing::Test {
protected:
  ApplyProviderFile() {
    // Nothing listens on port 1: whatever gets past the provider file fails to connect.
    m_dir.write("kc", "apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters:\n- name: k\n"
                      "  cluster: {server: 'https://127.0.0.1:1'}\nusers:\n- name: u\n"
                      "  user: {token: provider-test-token}\ncontexts:\n- name: c\n"
                      "  context: {cluster: k, user: u}\n");
    m_dir.write("policies/.keep", "");
  }
  CliResult apply(const std::string& provider_file) {
    return run_cli({"--kubeconfig", m_dir.file("kc"), "--output-dir", m_dir.file("out"),
                    "--request-timeout", "2s", "apply", "--mode", "enforce", "--policies",
                    m_dir.file("policies"), "--provider-file", provider_file},
                   {{"CI_PROJECT_ID", "77"}, {"CI_ENVIRONMENT_SLUG", "review"}});
  }
  TempDir m_dir;
};

TEST_F(ApplyProviderFile, AGoodFileIsReadAndTheClusterAskedNext) {
  auto r = apply(m_dir.write("provider.json", k_provider));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr("cannot connect to https://127.0.0.1:1"));
}

TEST_F(ApplyProviderFile, ARepeatedKeyNamesTheKeyAndLine) {
  // Last-wins would have read "enforces_network_policy": false after a reviewer read true.
  std::string text = k_provider;
  text.replace(text.find("\"audit_mode\""), 0, "\n    \"enforces_network_policy\": false, ");
  const auto path = m_dir.write("provider.json", text);
  auto r = apply(path);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr("netpol: error: " + path +
                               ":6: duplicate key \"enforces_network_policy\" (also at line 5)"));
  EXPECT_THAT(r.err, Not(HasSubstr("cannot connect")));
}

TEST_F(ApplyProviderFile, SpecialBigAndMalformedFilesAreRefusedByName) {
  ASSERT_EQ(::mkfifo(m_dir.file("fifo.json").c_str(), 0600), 0);
  m_dir.write("big.json", "{\"flavor\": \"" + std::string(2 * 1024 * 1024, 'x') + "\"}");
  m_dir.write("wrong-type.json", R"({"flavor": "generic", "provider": {"name": "cilium",
    "enforces_network_policy": "yes"}})");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {m_dir.file("fifo.json"), "fifo.json: not a regular file (a FIFO)"},
      {"/dev/zero", "/dev/zero: not a regular file (a character device)"},
      {m_dir.file("big.json"), "big.json: larger than 1 MiB"},
      {m_dir.write("truncated.json", "{\"flavor\": \n"), "truncated.json:2:1: not valid JSON"},
      {m_dir.file("wrong-type.json"), "not a provider.json written by `netpol detect`"},
      {m_dir.file("missing.json"), "missing.json: cannot read file"},
  };
  for (const auto& [path, expected] : cases) {
    auto r = apply(path);
    EXPECT_EQ(r.exit_code, 2) << path << ": " << r.err;
    EXPECT_THAT(r.err, HasSubstr(expected)) << path;
    EXPECT_THAT(r.err, Not(HasSubstr("internal error"))) << path;
  }
}

} // namespace
} // namespace netpol::test
