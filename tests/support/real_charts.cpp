#include "support/real_charts.hpp"

#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <unistd.h>

#include <fmt/format.h>

#include "cilium/chart_archive.hpp"
#include "support/paths.hpp"
#include "util/process.hpp"
#include "util/yaml.hpp"

namespace netpol::test {

namespace fs = std::filesystem;

fs::path cilium_charts_dir() {
  const char* env = std::getenv("NETPOL_CILIUM_CHARTS_DIR");
  return env != nullptr && *env != '\0' ? fs::path(env) : fs::path(NETPOL_CILIUM_CHARTS_DIR);
}

std::vector<RealChart> pinned_charts() {
  std::vector<RealChart> out;
  std::ifstream in(source_dir() / "charts/cilium-charts.sha256");
  for (std::string line; std::getline(in, line);) {
    std::istringstream words(line);
    RealChart c;
    if (!(words >> c.sha256 >> c.file)) continue;
    // cilium-1.20.0.tgz -> 1.20.0
    c.version = c.file.substr(7, c.file.size() - 7 - 4);
    c.path = cilium_charts_dir() / c.file;
    out.push_back(std::move(c));
  }
  return out;
}

std::string check_chart(const RealChart& chart) {
  static std::mutex mutex;
  static std::map<std::string, std::string> checked;
  std::lock_guard<std::mutex> lock(mutex);
  if (auto it = checked.find(chart.path.string()); it != checked.end()) return it->second;
  std::string why;
  if (!fs::exists(chart.path)) {
    why = fmt::format("real Cilium chart {} not found (NETPOL_CILIUM_CHARTS_DIR={})",
                      chart.path.string(), cilium_charts_dir().string());
  } else if (auto digest = cilium::sha256_file(chart.path.string()); !digest) {
    why = digest.error().message;
  } else if (*digest != chart.sha256) {
    why = fmt::format("{} has sha256 {}, not the pinned {} (charts/cilium-charts.sha256)",
                      chart.path.string(), *digest, chart.sha256);
  }
  checked[chart.path.string()] = why;
  return why;
}

std::optional<std::string> real_helm(int major, std::string* why) {
  static std::mutex mutex;
  static std::map<int, std::pair<std::optional<std::string>, std::string>> found;
  std::lock_guard<std::mutex> lock(mutex);
  if (!found.count(major)) {
    auto r = run_process({"/bin/bash", (source_dir() / "scripts/test-cluster/get-helm.sh").string(),
                          std::to_string(major)});
    std::optional<std::string> path;
    std::string reason;
    if (!r) {
      reason = r.error().message;
    } else if (r->exit_code != 0) {
      reason =
          fmt::format("helm {} could not be obtained (scripts/test-cluster/get-helm.sh {}): {}",
                      major, major, r->err);
    } else {
      std::string out = r->out;
      while (!out.empty() && out.back() == '\n')
        out.pop_back();
      const auto nl = out.rfind('\n');
      path = nl == std::string::npos ? out : out.substr(nl + 1);
    }
    found[major] = {path, reason};
  }
  if (why != nullptr) *why = found[major].second;
  return found[major].first;
}

std::optional<std::vector<nlohmann::json>>
helm_template(const std::string& helm, const fs::path& chart, const nlohmann::json& values,
              const std::string& namespace_name, std::string* error) {
  static std::atomic<int> counter{0};
  const auto values_path = fs::temp_directory_path() /
                           fmt::format("netpol-chart-values-{}-{}.yaml", ::getpid(), counter++);
  std::ofstream(values_path) << to_yaml(values);
  auto r = run_process({helm, "template", "cilium", chart.string(), "--namespace", namespace_name,
                        "--kube-version", "1.30.0", "--values", values_path.string()});
  fs::remove(values_path);
  if (!r || r->exit_code != 0) {
    if (error != nullptr) *error = r ? r->err : r.error().message;
    return std::nullopt;
  }
  auto docs = parse_yaml_documents(r->out, "helm template");
  if (!docs) {
    if (error != nullptr) *error = docs.error().message;
    return std::nullopt;
  }
  std::vector<nlohmann::json> out;
  for (auto& d : *docs) {
    if (d.value.is_object()) out.push_back(std::move(d.value));
  }
  return out;
}

nlohmann::json find_object(const std::vector<nlohmann::json>& objects, const std::string& kind,
                           const std::string& name) {
  for (const auto& o : objects) {
    if (o.value("kind", "") == kind && o.contains("metadata") &&
        o["metadata"].value("name", "") == name) {
      return o;
    }
  }
  return nullptr;
}

} // namespace netpol::test
