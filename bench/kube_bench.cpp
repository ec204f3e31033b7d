// Kubernetes client against the local test cluster (scripts/test-cluster/start.sh DIR, then
// NETPOL_TEST_CLUSTER_DIR=DIR netpol_bench_kube): request latency with connection reuse,
// server-side apply one by one vs apply_all, and list page sizes. Each benchmark reports the
// HTTP requests it sent per iteration.
#include <cstdlib>
#include <fstream>
#include <map>
#include <random>

#include <benchmark/benchmark.h>

#include "kube/client.hpp"

namespace {

using netpol::kube::KubeApi;
namespace resources = netpol::kube::resources;

struct Cluster {
  std::unique_ptr<KubeApi> api;
  std::string ns;
};

Cluster* cluster() {
  static Cluster* c = []() -> Cluster* {
    const char* dir = std::getenv("NETPOL_TEST_CLUSTER_DIR");
    if (dir == nullptr) return nullptr;
    std::ifstream in(std::string(dir) + "/cluster.env");
    std::map<std::string, std::string> env;
    for (std::string line; std::getline(in, line);) {
      if (auto eq = line.find('='); eq != std::string::npos)
        env[line.substr(0, eq)] = line.substr(eq + 1);
    }
    netpol::kube::ClientConfig config;
    config.server = env["NETPOL_TEST_SERVER"];
    std::ifstream ca(env["NETPOL_TEST_CA"]);
    config.ca_pem.assign(std::istreambuf_iterator<char>(ca), {});
    config.credentials.token = env["NETPOL_TEST_ADMIN_TOKEN"];
    auto api = netpol::kube::connect(config);
    if (!api) return nullptr;
    auto* result = new Cluster{std::move(*api), "bench-" + std::to_string(std::random_device{}())};
    if (!result->api->create(
            {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", result->ns}}}})) {
      return nullptr;
    }
    return result;
  }();
  return c;
}

nlohmann::json config_map(const std::string& ns, int i, int generation) {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", {{"name", "cm-" + std::to_string(i)}, {"namespace", ns}}},
          {"data", {{"generation", std::to_string(generation)}}}};
}

void report_requests(benchmark::State& state, uint64_t before) {
  state.counters["requests/iter"] =
      benchmark::Counter(static_cast<double>(cluster()->api->request_count() - before),
                         benchmark::Counter::kAvgIterations);
}

void BM_Version(benchmark::State& state) {
  auto* c = cluster();
  if (c == nullptr) return state.SkipWithError("NETPOL_TEST_CLUSTER_DIR: no test cluster");
  const auto before = c->api->request_count();
  for (auto _ : state) {
    if (!c->api->version()) state.SkipWithError("version failed");
  }
  report_requests(state, before);
}
BENCHMARK(BM_Version)->Unit(benchmark::kMillisecond);

// Every iteration changes the data, so each apply is a real write.
void BM_ApplySequential(benchmark::State& state) {
  auto* c = cluster();
  if (c == nullptr) return state.SkipWithError("NETPOL_TEST_CLUSTER_DIR: no test cluster");
  const auto before = c->api->request_count();
  int generation = 0;
  for (auto _ : state) {
    ++generation;
    for (int i = 0; i < state.range(0); ++i) {
      if (!c->api->apply(config_map(c->ns, i, generation), {})) state.SkipWithError("apply failed");
    }
  }
  report_requests(state, before);
}
BENCHMARK(BM_ApplySequential)->Arg(50)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_ApplyAll(benchmark::State& state) {
  auto* c = cluster();
  if (c == nullptr) return state.SkipWithError("NETPOL_TEST_CLUSTER_DIR: no test cluster");
  const auto before = c->api->request_count();
  int generation = 1000;
  for (auto _ : state) {
    ++generation;
    std::vector<nlohmann::json> objects;
    for (int i = 0; i < state.range(0); ++i)
      objects.push_back(config_map(c->ns, i, generation));
    for (const auto& r : c->api->apply_all(objects, {})) {
      if (!r) state.SkipWithError("apply_all failed");
    }
  }
  report_requests(state, before);
}
BENCHMARK(BM_ApplyAll)->Arg(50)->Unit(benchmark::kMillisecond)->UseRealTime();

// Lists the 50 objects above plus 450 more, in pages of range(0).
void BM_List500(benchmark::State& state) {
  auto* c = cluster();
  if (c == nullptr) return state.SkipWithError("NETPOL_TEST_CLUSTER_DIR: no test cluster");
  static const bool seeded = [c] {
    std::vector<nlohmann::json> objects;
    for (int i = 0; i < 500; ++i)
      objects.push_back(config_map(c->ns, i, 0));
    for (const auto& r : c->api->apply_all(objects, {})) {
      if (!r) return false;
    }
    return true;
  }();
  if (!seeded) return state.SkipWithError("seeding failed");
  const auto before = c->api->request_count();
  for (auto _ : state) {
    auto items =
        c->api->list(resources::config_maps, c->ns, {"", "", static_cast<int>(state.range(0))});
    if (!items || items->size() != 500) state.SkipWithError("list failed");
  }
  report_requests(state, before);
}
BENCHMARK(BM_List500)->Arg(500)->Arg(50)->Unit(benchmark::kMillisecond)->UseRealTime();

} // namespace

BENCHMARK_MAIN();
