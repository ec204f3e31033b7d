#include "support/private_cluster.hpp"

#include <cstdlib>
#include <fstream>

#include <fmt/format.h>

#include "support/paths.hpp"

namespace netpol::test {
namespace {

namespace fs = std::filesystem;

std::map<std::string, std::string> read_cluster_env(const fs::path& dir) {
  std::map<std::string, std::string> vars;
  std::ifstream in(dir / "cluster.env");
  std::string line;
  while (std::getline(in, line)) {
    const auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string value = line.substr(eq + 1);
    if (value.size() >= 2 && value.front() == '\'' && value.back() == '\'') {
      value = value.substr(1, value.size() - 2);
    }
    vars[line.substr(0, eq)] = value;
  }
  return vars;
}

} // namespace

PrivateCluster::PrivateCluster() {
  std::string pattern = (fs::temp_directory_path() / "netpol-private-cluster-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) return;
  m_dir = pattern;
  const auto start = source_dir() / "scripts/test-cluster/start.sh";
  // The log goes beside the folder: start.sh refuses a folder holding files it did not make.
  const std::string cmd =
      fmt::format("'{}' '{}' >'{}.log' 2>&1", start.string(), m_dir.string(), m_dir.string());
  if (std::system(cmd.c_str()) != 0) return;
  m_env = read_cluster_env(m_dir);
  m_cluster = TestCluster::load(m_dir.string());
}

PrivateCluster::~PrivateCluster() {
  if (m_dir.empty()) return;
  const auto stop = source_dir() / "scripts/test-cluster/stop.sh";
  (void)std::system(
      fmt::format("'{}' '{}' >/dev/null 2>&1", stop.string(), m_dir.string()).c_str());
  std::error_code ec;
  fs::remove_all(m_dir, ec);
  fs::remove(m_dir.string() + ".log", ec);
}

} // namespace netpol::test
