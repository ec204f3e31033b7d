// How much `netpol detect` costs: API requests and time per detection.
//
//   netpol_bench_detect                  every fixture cluster through the in-memory fake
//   netpol_bench_detect CLUSTER_DIR      also a real API server (scripts/test-cluster/start.sh
//                                        DIR), with the admin and the no-rights token
//
// The fake measures collection + classification CPU time; the real server adds HTTPS, TLS
// handshake (a fresh client per detection, as each CLI run has) and the server's own work.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <vector>

#include <fmt/format.h>

#include "detect/detect.hpp"
#include "kube/client.hpp"
#include "support/fake_kube_api.hpp"
#include "unit/detect/scenario.hpp"

namespace {

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

struct Stats {
  double min = 0, median = 0, max = 0;
};

Stats stats(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return {v.front(), v[v.size() / 2], v.back()};
}

std::map<std::string, std::string> read_env(const fs::path& dir) {
  std::map<std::string, std::string> vars;
  std::ifstream in(dir / "cluster.env");
  for (std::string line; std::getline(in, line);) {
    if (auto eq = line.find('='); eq != std::string::npos) {
      vars[line.substr(0, eq)] = line.substr(eq + 1);
    }
  }
  return vars;
}

void bench_fixtures() {
  constexpr int k_runs = 200;
  std::printf("%-28s %9s %14s\n", "fixture (fake API)", "requests", "µs/detection");
  for (const auto& name : netpol::test::detect_scenario_names()) {
    const auto scenario = netpol::test::load_detect_scenario(name);
    uint64_t requests = 0;
    const auto start = Clock::now();
    for (int i = 0; i < k_runs; ++i) {
      netpol::test::FakeKubeApi api(scenario);
      auto d = netpol::detect::detect(api, scenario.hints);
      requests = d ? d->api_requests : 0;
    }
    std::printf("%-28s %9llu %14.0f\n", name.c_str(), static_cast<unsigned long long>(requests),
                ms_since(start) * 1000.0 / k_runs);
  }
}

void bench_cluster(const fs::path& dir) {
  constexpr int k_runs = 20;
  const auto env = read_env(dir);
  std::stringstream ca;
  ca << std::ifstream(env.at("NETPOL_TEST_CA")).rdbuf();
  std::printf("\n%-28s %9s %10s %10s %10s\n", "real API server", "requests", "min ms", "median ms",
              "max ms");
  for (const char* who : {"NETPOL_TEST_ADMIN_TOKEN", "NETPOL_TEST_NOBODY_TOKEN"}) {
    std::vector<double> times;
    uint64_t requests = 0;
    for (int i = 0; i < k_runs; ++i) {
      netpol::kube::ClientConfig config;
      config.server = env.at("NETPOL_TEST_SERVER");
      config.ca_pem = ca.str();
      config.credentials.token = env.at(who);
      const auto start = Clock::now();
      auto api = netpol::kube::connect(config);
      if (!api) {
        std::fprintf(stderr, "connect: %s\n", api.error().message.c_str());
        return;
      }
      auto d = netpol::detect::detect(**api, {});
      times.push_back(ms_since(start));
      if (!d) {
        std::fprintf(stderr, "detect: %s\n", d.error().message.c_str());
        return;
      }
      requests = d->api_requests;
    }
    const auto s = stats(times);
    std::printf("%-28s %9llu %10.1f %10.1f %10.1f\n",
                std::string(who).find("ADMIN") != std::string::npos ? "admin token"
                                                                    : "no-rights token",
                static_cast<unsigned long long>(requests), s.min, s.median, s.max);
  }
}

} // namespace

int main(int argc, char** argv) {
  bench_fixtures();
  if (argc > 1) bench_cluster(argv[1]);
  return 0;
}
