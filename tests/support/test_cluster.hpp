// The real kube-apiserver that ctest starts for the end-to-end tests (scripts/test-cluster/).
//
//   TEST(Apply, Something) {
//     NETPOL_REQUIRE_TEST_CLUSTER(cluster);            // skips when run outside ctest
//     auto api = cluster->admin();                     // connected KubeApi, user "admin"
//     const auto ns = cluster->create_namespace("apply"); // fresh, e.g. "apply-3f9c0a1b"
//     const auto kc = cluster->write_kubeconfig(dir + "/kc", "token: " + cluster->nobody_token);
//     ...
//   }
//
// Namespaces cannot be deleted in this cluster (no controllers): every test makes its own.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "kube/api.hpp"
#include "kube/kubeconfig.hpp"
#include "support/require.hpp"

namespace netpol::test {

struct TestCluster {
  std::string dir;     // NETPOL_TEST_CLUSTER_DIR
  std::string server;  // https://127.0.0.1:PORT
  std::string ca_file; // the server's certificate, to trust as CA
  std::string ca_pem;
  std::string admin_token;      // user admin, group system:masters
  std::string nobody_token;     // user nobody, no rights
  std::string limited_token;    // user limited, no rights until a test grants some
  std::string client_cert_file; // user cert-admin, group system:masters
  std::string client_key_file;
  std::string client_ca_file;     // signs client certificates the server accepts
  std::string client_ca_key_file; // (CN = user, O = group)
  std::string kubeconfig;         // admin token, context netpol-test, namespace default

  // The cluster named by NETPOL_TEST_CLUSTER_DIR/cluster.env; nullptr when the variable is
  // unset. A set variable with an unreadable file is a test failure (ADD_FAILURE).
  static const TestCluster* find();
  // The cluster scripts/test-cluster/start.sh started in `dir` (a PrivateCluster's); nullptr,
  // with ADD_FAILURE, when its cluster.env cannot be read.
  static std::unique_ptr<TestCluster> load(const std::string& dir);

  // Connection settings for a bearer token (CA = the server's certificate).
  kube::ClientConfig config(const std::string& token) const;
  // A connected client; fails the test when connect() fails.
  std::unique_ptr<kube::KubeApi> connect(const std::string& token) const;
  std::unique_ptr<kube::KubeApi> admin() const { return connect(admin_token); }

  // Creates a namespace named "<prefix>-<random>" (prefix cleaned to a DNS label) and
  // returns its name; fails the test when the server refuses.
  std::string create_namespace(const std::string& prefix) const;

  // Writes a kubeconfig to `path` with one context "test" (current-context) for this server
  // and a user whose stanza is `user_yaml` (YAML lines at user level, e.g. "token: x" or
  // "tokenFile: t"). Returns `path`.
  std::string write_kubeconfig(const std::string& path, const std::string& user_yaml,
                               const std::string& namespace_name = "") const;

  // Writes a kubeconfig (as write_kubeconfig) for a user of its own: a client certificate
  // (CN `user`, O `groups`) signed by the cluster's client CA, in files beside `path`. The user
  // has no rights but discovery until a test binds some to it or to one of its groups, and
  // shares none with another test's: RBAC grants add up, so tests that grant cluster-wide
  // rights in parallel each need their own identity. Returns `path`.
  std::string write_identity_kubeconfig(const std::string& path, const std::string& user,
                                        const std::vector<std::string>& groups,
                                        const std::string& namespace_name = "") const;
};

// Creates `pod` and plays its kubelet: sets its status to Running with `ip` as its pod IP
// (this cluster runs no kubelet, so a pod stays Pending without an IP otherwise, and analyze
// leaves such pods out). Fails the test when the server refuses.
void create_running_pod(kube::KubeApi& api, const nlohmann::json& pod, const std::string& ip);

} // namespace netpol::test

// Declares `var` (const TestCluster*), or skips the test when no cluster is configured (fails
// it under CI=true).
#define NETPOL_REQUIRE_TEST_CLUSTER(var)                                                           \
  const ::netpol::test::TestCluster* var = ::netpol::test::TestCluster::find();                    \
  if (var == nullptr) NETPOL_SKIP_OR_FAIL("NETPOL_TEST_CLUSTER_DIR is not set (run through "       \
                                          "ctest)")
