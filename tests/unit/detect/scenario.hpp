// Detection scenarios from tests/data/detect/<name>/: the kubeconfig hints and rights
// (cluster.json), the /version body (version.json), the cluster's objects shaped as the
// platform really deploys them (objects.yaml) and the expected provider.json — or, where a
// token may read too little to conclude anything, expected-error.txt: the start of the error
// detection must end with. The unit tests
// serve them through the fake KubeApi (support/fake_kube_api.hpp); the end-to-end test seeds
// them into a real API server.
#pragma once

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "detect/evidence.hpp"
#include "support/fake_kube_api.hpp"
#include "support/paths.hpp"
#include "util/yaml.hpp"

namespace netpol::test {

// The cluster (FakeCluster: version.json, objects.yaml, the rights of cluster.json) and what
// detection must conclude on it.
struct DetectScenario : FakeCluster {
  std::string name;
  std::filesystem::path dir;
  detect::Hints hints;
  nlohmann::json expected;    // provider.json; null when the file is missing
  std::string expected_error; // expected-error.txt (first line); "" when detection succeeds
};

inline nlohmann::json read_json_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) return nullptr;
  std::stringstream ss;
  ss << in.rdbuf();
  return nlohmann::json::parse(ss.str());
}

inline DetectScenario load_detect_scenario(const std::string& name) {
  DetectScenario s;
  s.name = name;
  s.dir = testdata("detect") / name;
  const auto cluster = read_json_file(s.dir / "cluster.json");
  s.hints.server = cluster.value("server", "");
  s.hints.context_name = cluster.value("context", "");
  s.hints.cluster_name = cluster.value("cluster", "");
  if (cluster.contains("allowed")) s.allowed = cluster["allowed"].get<std::vector<std::string>>();
  s.version = read_json_file(s.dir / "version.json");
  auto docs = load_yaml_file((s.dir / "objects.yaml").string());
  if (docs) {
    for (auto& d : *docs) {
      if (!d.value.is_null()) s.objects.push_back(std::move(d.value));
    }
  }
  s.expected = read_json_file(s.dir / "provider.json");
  std::ifstream error(s.dir / "expected-error.txt");
  std::getline(error, s.expected_error);
  return s;
}

inline std::vector<std::string> detect_scenario_names() {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(testdata("detect"))) {
    if (entry.is_directory()) names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

} // namespace netpol::test
