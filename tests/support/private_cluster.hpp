// An API server of one test's own (scripts/test-cluster/start.sh into a fresh temporary
// folder), for tests whose subject is cluster-wide state other tests change: detection reads
// every Node and DaemonSet of the cluster. It takes about 10 s to start on two cores, so a test
// starts one and runs its cases on it; it is stopped and removed with the object.
//
//   PrivateCluster own;
//   ASSERT_TRUE(own.started()) << "scripts/test-cluster/start.sh failed";
//   auto admin = own.cluster().admin();
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "support/test_cluster.hpp"

namespace netpol::test {

class PrivateCluster {
public:
  PrivateCluster();
  ~PrivateCluster();
  PrivateCluster(const PrivateCluster&) = delete;
  PrivateCluster& operator=(const PrivateCluster&) = delete;

  bool started() const { return m_cluster != nullptr; }
  // cluster.env as written by start.sh (NETPOL_TEST_SERVER, NETPOL_TEST_ADMIN_TOKEN, ...).
  const std::map<std::string, std::string>& env() const { return m_env; }
  // The same as a TestCluster (admin client, kubeconfigs, namespaces); only when started().
  const TestCluster& cluster() const { return *m_cluster; }

private:
  std::filesystem::path m_dir;
  std::map<std::string, std::string> m_env;
  std::unique_ptr<TestCluster> m_cluster;
};

} // namespace netpol::test
