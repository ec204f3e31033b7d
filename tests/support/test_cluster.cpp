#include "support/test_cluster.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <sstream>

#include "kube/client.hpp"
#include "support/tls.hpp"

namespace netpol::test {
namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// cluster.env values are written with bash's printf %q: plain, or with backslash escapes.
std::string unquote(const std::string& value) {
  if (value.size() >= 2 && value.front() == '\'' && value.back() == '\'') {
    return value.substr(1, value.size() - 2);
  }
  std::string out;
  for (size_t i = 0; i < value.size(); ++i) {
    if (value[i] == '\\' && i + 1 < value.size()) ++i;
    out += value[i];
  }
  return out;
}

} // namespace

std::unique_ptr<TestCluster> TestCluster::load(const std::string& dir) {
  std::ifstream in(dir + "/cluster.env");
  if (!in) {
    ADD_FAILURE() << "cannot read " << dir << "/cluster.env: did test_cluster.start run?";
    return nullptr;
  }
  std::map<std::string, std::string> env;
  std::string line;
  while (std::getline(in, line)) {
    const auto eq = line.find('=');
    if (eq != std::string::npos) env[line.substr(0, eq)] = unquote(line.substr(eq + 1));
  }
  auto c = std::make_unique<TestCluster>();
  c->dir = dir;
  c->server = env["NETPOL_TEST_SERVER"];
  c->ca_file = env["NETPOL_TEST_CA"];
  c->ca_pem = read_file(c->ca_file);
  c->admin_token = env["NETPOL_TEST_ADMIN_TOKEN"];
  c->nobody_token = env["NETPOL_TEST_NOBODY_TOKEN"];
  c->limited_token = env["NETPOL_TEST_LIMITED_TOKEN"];
  c->client_cert_file = env["NETPOL_TEST_CLIENT_CERT"];
  c->client_key_file = env["NETPOL_TEST_CLIENT_KEY"];
  c->client_ca_file = env["NETPOL_TEST_CLIENT_CA"];
  c->client_ca_key_file = env["NETPOL_TEST_CLIENT_CA_KEY"];
  c->kubeconfig = env["NETPOL_TEST_KUBECONFIG"];
  if (c->server.empty() || c->ca_pem.empty() || c->admin_token.empty()) {
    ADD_FAILURE() << dir << "/cluster.env lacks NETPOL_TEST_SERVER, NETPOL_TEST_CA or "
                  << "NETPOL_TEST_ADMIN_TOKEN";
    return nullptr;
  }
  return c;
}

const TestCluster* TestCluster::find() {
  static std::once_flag once;
  static std::unique_ptr<TestCluster> cluster;
  std::call_once(once, [] {
    const char* dir = std::getenv("NETPOL_TEST_CLUSTER_DIR");
    if (dir != nullptr && *dir != '\0') cluster = load(dir);
  });
  return cluster.get();
}

kube::ClientConfig TestCluster::config(const std::string& token) const {
  kube::ClientConfig c;
  c.server = server;
  c.ca_pem = ca_pem;
  c.credentials.token = token;
  c.source = "test cluster";
  return c;
}

std::unique_ptr<kube::KubeApi> TestCluster::connect(const std::string& token) const {
  auto api = kube::connect(config(token));
  if (!api) {
    ADD_FAILURE() << "connect: " << api.error().message;
    return nullptr;
  }
  return std::move(*api);
}

std::string TestCluster::create_namespace(const std::string& prefix) const {
  std::string clean;
  for (char ch : prefix) {
    const auto c = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    clean += std::isalnum(static_cast<unsigned char>(c)) ? c : '-';
  }
  clean = clean.substr(0, 40);
  while (!clean.empty() && clean.back() == '-')
    clean.pop_back();
  if (clean.empty()) clean = "test";
  static std::mt19937 rng{std::random_device{}()};
  static std::mutex mutex;
  auto api = admin();
  for (int attempt = 0; attempt < 5; ++attempt) {
    char suffix[16];
    {
      std::lock_guard lock(mutex);
      std::snprintf(suffix, sizeof suffix, "%08x", static_cast<unsigned>(rng()));
    }
    const auto name = clean + "-" + suffix;
    auto created =
        api->create({{"apiVersion", "v1"},
                     {"kind", "Namespace"},
                     {"metadata", {{"name", name}, {"labels", {{"netpol-test", clean}}}}}});
    if (created) return name;
    if (!kube::is_conflict(created.error())) {
      ADD_FAILURE() << "create namespace " << name << ": " << created.error().message;
      return name;
    }
  }
  ADD_FAILURE() << "no free namespace name for " << clean;
  return clean;
}

std::string TestCluster::write_kubeconfig(const std::string& path, const std::string& user_yaml,
                                          const std::string& namespace_name) const {
  std::ofstream out(path);
  out << "apiVersion: v1\nkind: Config\ncurrent-context: test\n"
      << "clusters:\n- name: test\n  cluster:\n    server: " << server
      << "\n    certificate-authority: " << ca_file << "\n"
      << "users:\n- name: test\n  user:\n";
  std::istringstream lines(user_yaml);
  std::string line;
  while (std::getline(lines, line))
    out << "    " << line << "\n";
  out << "contexts:\n- name: test\n  context:\n    cluster: test\n    user: test\n";
  if (!namespace_name.empty()) out << "    namespace: " << namespace_name << "\n";
  return path;
}

std::string TestCluster::write_identity_kubeconfig(const std::string& path, const std::string& user,
                                                   const std::vector<std::string>& groups,
                                                   const std::string& namespace_name) const {
  const TestCertificate ca{read_file(client_ca_file), read_file(client_ca_key_file)};
  const auto leaf = make_certificate(user, {}, {}, &ca, groups);
  const std::string cert = path + ".crt", key = path + ".key";
  std::ofstream(cert, std::ios::trunc) << leaf.cert_pem;
  std::ofstream(key, std::ios::trunc) << leaf.key_pem;
  std::filesystem::permissions(key, std::filesystem::perms::owner_read |
                                        std::filesystem::perms::owner_write);
  return write_kubeconfig(path, "client-certificate: " + cert + "\nclient-key: " + key,
                          namespace_name);
}

void create_running_pod(kube::KubeApi& api, const nlohmann::json& pod, const std::string& ip) {
  auto created = api.create(pod);
  ASSERT_TRUE(created) << created.error().message;
  (*created)["status"] = {{"phase", "Running"}, {"podIP", ip}, {"podIPs", {{{"ip", ip}}}}};
  auto updated = api.replace_status(*created);
  ASSERT_TRUE(updated) << updated.error().message;
}

} // namespace netpol::test
