// The engine against published truth tables: all Kubernetes e2e NetworkPolicy cases
// (tests/data/netpol/k8s-e2e-netpol) and the network policy recipes' probes
// (tests/data/netpol/ahmetb-recipes). One test per case; every row is checked both through the
// full matrix and through the single-connection query, so the two paths cannot drift apart.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "analyze/engine.hpp"
#include "analyze/input.hpp"
#include "support/paths.hpp"

namespace netpol::analyze {
namespace {

namespace fs = std::filesystem;

struct CaseResult {
  size_t rows = 0;
  std::vector<std::string> mismatches;
};

std::vector<std::vector<std::string>> read_tsv(const fs::path& file) {
  std::vector<std::vector<std::string>> rows;
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> cols;
    std::stringstream ss(line);
    std::string col;
    while (std::getline(ss, col, '\t'))
      cols.push_back(col);
    rows.push_back(std::move(cols));
  }
  return rows;
}

Cluster load_topology(const fs::path& dir) {
  Cluster cluster;
  for (const char* file : {"namespaces.yaml", "pods.yaml"}) {
    auto docs = load_yaml_file((dir / file).string());
    EXPECT_TRUE(docs.has_value()) << (dir / file);
    if (!docs) continue;
    for (const auto& doc : *docs) {
      auto ok = add_cluster_object(cluster, doc.value, "default",
                                   [&](const std::string& p) { return doc.where(p); });
      EXPECT_TRUE(ok.has_value()) << ok.error().message;
    }
  }
  return cluster;
}

std::vector<std::string> subdirs(const fs::path& dir, const std::string& prefix = "") {
  std::vector<std::string> out;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const auto name = entry.path().filename().string();
    if (entry.is_directory() && name.rfind(prefix, 0) == 0) out.push_back(name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

fs::path e2e_root() {
  return netpol::test::testdata("netpol/k8s-e2e-netpol/cases");
}
fs::path recipes_root() {
  return netpol::test::testdata("netpol/ahmetb-recipes/cases");
}

// expected-TCP-80.tsv -> {80, TCP}
PortProtocol port_of(const std::string& file_name) {
  const auto first = file_name.find('-');
  const auto second = file_name.find('-', first + 1);
  const auto dot = file_name.rfind('.');
  auto protocol = parse_protocol(file_name.substr(first + 1, second - first - 1));
  return {std::stoi(file_name.substr(second + 1, dot - second - 1)), protocol.value()};
}

CaseResult run_e2e_case(const std::string& name) {
  CaseResult result;
  for (const auto& step : subdirs(e2e_root() / name, "step")) {
    const fs::path dir = e2e_root() / name / step;
    Cluster cluster = load_topology(dir);
    auto policies = load_policies({(dir / "policies.yaml").string()}, "default");
    if (!policies) {
      result.mismatches.push_back(step + ": " + policies.error().message);
      continue;
    }
    Engine engine(cluster, policies->policies);
    for (const auto& entry : fs::directory_iterator(dir)) {
      const auto file = entry.path().filename().string();
      if (file.rfind("expected-", 0) != 0) continue;
      const PortProtocol port = port_of(file);
      const auto matrix = engine.matrix(port);
      for (const auto& row : read_tsv(entry.path())) {
        if (row.size() >= 4 && row[3] == "loopback-ignored") continue;
        ++result.rows;
        const auto from = cluster.find_pod(row[0]);
        const auto to = cluster.find_pod(row[1]);
        if (!from || !to) {
          result.mismatches.push_back(
              fmt::format("{} {}: unknown pod in {} -> {}", step, file, row[0], row[1]));
          continue;
        }
        const bool want = row[2] == "allow";
        const bool got = matrix.allowed(*from, *to);
        const bool single = engine.allowed(Endpoint::of_pod(*from), Endpoint::of_pod(*to), port);
        if (got != want || single != want) {
          result.mismatches.push_back(fmt::format("{} {}: {} -> {}: want {}, matrix {}, query {}",
                                                  step, file, row[0], row[1], row[2], got, single));
        }
      }
    }
  }
  return result;
}

Endpoint endpoint_of(const Cluster& cluster, const std::string& text) {
  if (text.rfind("ip:", 0) == 0) {
    return Endpoint::outside(IpAddress::parse(text.substr(3)).value());
  }
  return Endpoint::of_pod(cluster.find_pod(text).value());
}

CaseResult run_recipe(const std::string& name) {
  CaseResult result;
  const fs::path dir = recipes_root() / name;
  Cluster cluster = load_topology(dir);
  auto policies = load_policies({(dir / "policies.yaml").string()}, "default");
  if (!policies) {
    result.mismatches.push_back(policies.error().message);
    return result;
  }
  Engine engine(cluster, policies->policies);
  for (const auto& row : read_tsv(dir / "expected.tsv")) {
    ++result.rows;
    const PortProtocol port{std::stoi(row[3]), parse_protocol(row[2]).value()};
    const Endpoint from = endpoint_of(cluster, row[0]);
    const Endpoint to = endpoint_of(cluster, row[1]);
    const bool want = row[4] == "allow";
    bool got = engine.allowed(from, to, port);
    if (from.pod && to.pod) {
      got = got && engine.matrix(port).allowed(*from.pod, *to.pod);
    }
    if (got != want) {
      result.mismatches.push_back(fmt::format("{} -> {} {}/{}: want {} ({}: {})", row[0], row[1],
                                              row[2], row[3], row[4], row[5],
                                              row.size() > 6 ? row[6] : ""));
    }
  }
  return result;
}

std::string test_name(const ::testing::TestParamInfo<std::string>& info) {
  std::string out;
  for (char c : info.param)
    out += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return out;
}

class KubernetesE2e : public ::testing::TestWithParam<std::string> {};

TEST_P(KubernetesE2e, TruthTableHolds) {
  const auto result = run_e2e_case(GetParam());
  EXPECT_GT(result.rows, 0u);
  for (const auto& m : result.mismatches)
    ADD_FAILURE() << m;
}

INSTANTIATE_TEST_SUITE_P(Analyze, KubernetesE2e, ::testing::ValuesIn(subdirs(e2e_root())),
                         test_name);

class Recipes : public ::testing::TestWithParam<std::string> {};

TEST_P(Recipes, ProbesHold) {
  const auto result = run_recipe(GetParam());
  EXPECT_GT(result.rows, 0u);
  for (const auto& m : result.mismatches)
    ADD_FAILURE() << m;
}

INSTANTIATE_TEST_SUITE_P(Analyze, Recipes, ::testing::ValuesIn(subdirs(recipes_root())), test_name);

// The suites are complete: every case and every row of the data is evaluated.
TEST(AnalyzeConformance, CoversEveryRowOfBothSuites) {
  size_t e2e_rows = 0, e2e_failed = 0, recipe_rows = 0, recipe_failed = 0;
  const auto e2e_cases = subdirs(e2e_root());
  for (const auto& name : e2e_cases) {
    auto r = run_e2e_case(name);
    e2e_rows += r.rows;
    e2e_failed += r.mismatches.size();
  }
  const auto recipes = subdirs(recipes_root());
  for (const auto& name : recipes) {
    auto r = run_recipe(name);
    recipe_rows += r.rows;
    recipe_failed += r.mismatches.size();
  }
  EXPECT_EQ(e2e_cases.size(), 48u);
  EXPECT_EQ(e2e_rows, 506u);
  EXPECT_EQ(recipes.size(), 16u);
  EXPECT_EQ(recipe_rows, 48u);
  EXPECT_EQ(e2e_failed + recipe_failed, 0u);
  std::cout << fmt::format("[conformance] k8s e2e {}/{} rows; recipes {}/{} probes\n",
                           e2e_rows - e2e_failed, e2e_rows, recipe_rows - recipe_failed,
                           recipe_rows);
}

} // namespace
} // namespace netpol::analyze
