// Cost of `netpol analyze` on generated clusters: 250 to 4,000 pods under 500 policies, and
// of joining a plan's preview with 1 M observed flows (Preview).
// Each run reports the time of one port's full matrix (engine construction included, as the
// command pays it) and the process's peak RSS so far. Sizes run in ascending order, so the
// peak belongs to the largest size run; run one size alone for its own peak:
//   netpol_bench_analyze --benchmark_filter='Matrix/4000'
#include <sys/resource.h>

#include <optional>
#include <streambuf>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "analyze/engine.hpp"
#include "analyze/input.hpp"
#include "analyze/observed.hpp"
#include "analyze/output.hpp"
#include "model/evidence.hpp"

namespace netpol::analyze {
namespace {

using nlohmann::json;

constexpr int k_policies = 500;
constexpr int k_pods_per_namespace = 50;
constexpr int k_apps_per_namespace = 10;

double peak_rss_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0; // ru_maxrss is in KiB on Linux
}

// Namespaces of 50 pods (10 apps x 5 replicas), labelled like real workloads, with named
// ports, IPs 10.<ns>.<pod> and team/env namespace labels.
Cluster make_cluster(int pods) {
  Cluster cluster;
  const int namespaces = std::max(1, pods / k_pods_per_namespace);
  for (int n = 0; n < namespaces; ++n) {
    const std::string ns = fmt::format("ns{}", n);
    json ns_object = {
        {"kind", "Namespace"},
        {"metadata",
         {{"name", ns},
          {"labels",
           {{"team", fmt::format("team{}", n % 10)}, {"env", n % 3 == 0 ? "prod" : "dev"}}}}}};
    (void)add_cluster_object(cluster, ns_object, "default", {});
  }
  for (int i = 0; i < pods; ++i) {
    const int n = i % namespaces;
    const int k = i / namespaces;
    const int app = k % k_apps_per_namespace;
    json pod = {{"kind", "Pod"},
                {"metadata",
                 {{"name", fmt::format("app{}-5d8f7c9b4-{:05d}", app, k)},
                  {"namespace", fmt::format("ns{}", n)},
                  {"labels",
                   {{"app", fmt::format("app{}", app)},
                    {"tier", app < 3   ? "frontend"
                             : app < 7 ? "backend"
                                       : "db"},
                    {"version", fmt::format("v{}", k % 3)},
                    {"pod-template-hash", "5d8f7c9b4"}}}}},
                {"spec",
                 {{"containers",
                   {{{"name", "main"},
                     {"ports",
                      {{{"containerPort", 8080}, {"name", "http"}},
                       {{"containerPort", 9090}, {"name", "metrics"}},
                       {{"containerPort", 5432 + app % 2}, {"name", "db"}}}}}}}}},
                {"status", {{"podIP", fmt::format("10.{}.{}.{}", n / 250, n % 250, k % 250 + 1)}}}};
    (void)add_cluster_object(cluster, pod, "default", {});
  }
  return cluster;
}

// 500 policies of the shapes teams write, spread over the namespaces: default deny, same-app
// ingress, cross-namespace AND peers on named ports, matchExpressions, egress with DNS and
// ipBlock except, and some CiliumNetworkPolicies.
std::vector<Policy> make_policies(int pods) {
  const int namespaces = std::max(1, pods / k_pods_per_namespace);
  PolicySet set;
  for (int i = 0; i < k_policies; ++i) {
    const std::string ns = fmt::format("ns{}", i % namespaces);
    const std::string app = fmt::format("app{}", i % k_apps_per_namespace);
    json policy;
    switch (i % 8) {
    case 0:
      policy = json::parse(fmt::format(
          R"({{"kind":"NetworkPolicy","metadata":{{"name":"deny-{}","namespace":"{}"}},
              "spec":{{"podSelector":{{}},"policyTypes":["Ingress","Egress"]}}}})",
          i, ns));
      break;
    case 1:
      policy = json::parse(fmt::format(
          R"({{"kind":"NetworkPolicy","metadata":{{"name":"same-app-{}","namespace":"{}"}},
              "spec":{{"podSelector":{{"matchLabels":{{"app":"{}"}}}},
                       "ingress":[{{"from":[{{"podSelector":{{"matchLabels":{{"app":"{}"}}}}}}],
                                   "ports":[{{"port":8080}}]}}]}}}})",
          i, ns, app, app));
      break;
    case 2:
      policy = json::parse(fmt::format(
          R"({{"kind":"NetworkPolicy","metadata":{{"name":"team-{}","namespace":"{}"}},
              "spec":{{"podSelector":{{"matchLabels":{{"tier":"backend"}}}},
                       "ingress":[{{"from":[{{"namespaceSelector":{{"matchLabels":{{"team":"team{}"}}}},
                                             "podSelector":{{"matchLabels":{{"tier":"frontend"}}}}}}],
                                   "ports":[{{"port":"http"}},{{"port":"metrics"}}]}}]}}}})",
          i, ns, i % 10));
      break;
    case 3:
      policy = json::parse(fmt::format(
          R"({{"kind":"NetworkPolicy","metadata":{{"name":"expr-{}","namespace":"{}"}},
              "spec":{{"podSelector":{{"matchExpressions":[{{"key":"tier","operator":"In","values":["db"]}}]}},
                       "ingress":[{{"from":[{{"podSelector":{{"matchExpressions":[
                                      {{"key":"tier","operator":"NotIn","values":["frontend"]}},
                                      {{"key":"version","operator":"Exists"}}]}}}}],
                                   "ports":[{{"port":5432,"endPort":5433}}]}}]}}}})",
          i, ns));
      break;
    case 4:
      policy = json::parse(fmt::format(
          R"({{"kind":"NetworkPolicy","metadata":{{"name":"egress-{}","namespace":"{}"}},
              "spec":{{"podSelector":{{"matchLabels":{{"tier":"frontend"}}}},"policyTypes":["Egress"],
                       "egress":[{{"to":[{{"namespaceSelector":{{"matchLabels":{{"kubernetes.io/metadata.name":"kube-system"}}}}}}],
                                  "ports":[{{"port":53,"protocol":"UDP"}},{{"port":53}}]}},
                                 {{"to":[{{"podSelector":{{"matchLabels":{{"tier":"backend"}}}}}}]}},
                                 {{"to":[{{"ipBlock":{{"cidr":"10.0.0.0/8","except":["10.0.{}.0/24"]}}}}],
                                  "ports":[{{"port":"http"}}]}}]}}}})",
          i, ns, i % 250));
      break;
    case 5:
      policy = json::parse(fmt::format(
          R"({{"kind":"NetworkPolicy","metadata":{{"name":"monitoring-{}","namespace":"{}"}},
              "spec":{{"podSelector":{{}},
                       "ingress":[{{"from":[{{"namespaceSelector":{{"matchLabels":{{"env":"prod"}}}}}}],
                                   "ports":[{{"port":"metrics"}}]}}]}}}})",
          i, ns));
      break;
    case 6:
      policy = json::parse(fmt::format(
          R"({{"kind":"CiliumNetworkPolicy","metadata":{{"name":"cnp-{}","namespace":"{}"}},
              "spec":{{"endpointSelector":{{"matchLabels":{{"app":"{}"}}}},
                       "ingress":[{{"fromEndpoints":[{{"matchLabels":{{"tier":"frontend"}}}},
                                      {{"matchLabels":{{"k8s:io.kubernetes.pod.namespace":"ns{}"}}}}],
                                   "toPorts":[{{"ports":[{{"port":"8080","protocol":"TCP"}}]}}]}}]}}}})",
          i, ns, app, (i + 1) % namespaces));
      break;
    default:
      policy = json::parse(fmt::format(
          R"({{"kind":"NetworkPolicy","metadata":{{"name":"allow-all-{}","namespace":"{}"}},
              "spec":{{"podSelector":{{"matchLabels":{{"app":"{}","version":"v1"}}}},"ingress":[{{}}]}}}})",
          i, ns, app));
    }
    (void)add_policy_object(set, policy, "default", {});
  }
  return set.policies;
}

void Matrix(benchmark::State& state) {
  const int pods = static_cast<int>(state.range(0));
  const Cluster cluster = make_cluster(pods);
  const std::vector<Policy> policies = make_policies(pods);
  size_t allowed = 0;
  for (auto _ : state) {
    const Engine engine(cluster, policies);
    const auto matrix = engine.matrix({8080, Protocol::tcp});
    allowed = matrix.count();
    benchmark::DoNotOptimize(allowed);
  }
  state.counters["pods"] = pods;
  state.counters["policies"] = static_cast<double>(policies.size());
  state.counters["allowed_pairs"] = static_cast<double>(allowed);
  state.counters["peak_rss_MB"] = peak_rss_mb();
}
BENCHMARK(Matrix)->Arg(250)->Arg(500)->Arg(1000)->Arg(2000)->Arg(4000)->Unit(
    benchmark::kMillisecond);

// The whole default analysis: every port the policies name plus the other port.
void AllPorts(benchmark::State& state) {
  const int pods = static_cast<int>(state.range(0));
  const Cluster cluster = make_cluster(pods);
  const std::vector<Policy> policies = make_policies(pods);
  size_t ports = 0;
  for (auto _ : state) {
    const auto results = analyze_ports(cluster, policies, nullptr, std::nullopt, {});
    ports = results.size();
    benchmark::DoNotOptimize(ports);
  }
  state.counters["ports"] = static_cast<double>(ports);
  state.counters["peak_rss_MB"] = peak_rss_mb();
}
BENCHMARK(AllPorts)->Arg(250)->Arg(500)->Arg(1000)->Arg(2000)->Arg(4000)->Unit(
    benchmark::kMillisecond);

// A stream buffer that only counts what is written to it.
struct CountingBuffer : std::streambuf {
  size_t count = 0;
  std::streamsize xsputn(const char*, std::streamsize n) override {
    count += static_cast<size_t>(n);
    return n;
  }
  int_type overflow(int_type c) override {
    ++count;
    return c;
  }
};

// Writing the JSON of one port's matrix, discarded (the output can be far larger than the
// matrix; it is streamed, so memory stays near the matrix's).
void Json(benchmark::State& state) {
  const int pods = static_cast<int>(state.range(0));
  const Cluster cluster = make_cluster(pods);
  const std::vector<Policy> policies = make_policies(pods);
  const Engine engine(cluster, policies);
  PortResult result{{{8080, Protocol::tcp}, false}, engine.matrix({8080, Protocol::tcp}), {}};
  CountingBuffer counter;
  std::ostream sink(&counter);
  size_t bytes = 0;
  for (auto _ : state) {
    const size_t start = counter.count;
    write_json(sink, cluster, result, {});
    bytes = counter.count - start;
  }
  state.counters["json_MB"] = static_cast<double>(bytes) / 1e6;
  state.counters["peak_rss_MB"] = peak_rss_mb();
}
BENCHMARK(Json)->Arg(250)->Arg(500)->Arg(1000)->Arg(2000)->Arg(4000)->Unit(benchmark::kMillisecond);

// 1 M observed flows over 20,000 distinct connections between the generated workloads (the
// evidence as droplog reads it: aggregated, so its size follows the connections).
model::FlowEvidence make_evidence(int pods) {
  const int namespaces = std::max(1, pods / k_pods_per_namespace);
  model::FlowEvidence evidence;
  constexpr int k_connections = 20'000;
  constexpr std::uint64_t k_flows = 1'000'000;
  const int ports[] = {8080, 9090, 5432, 5433, 443, 53};
  for (int i = 0; i < k_connections; ++i) {
    model::ObservedConnection c;
    const int from_ns = i % namespaces, to_ns = (i / 7) % namespaces;
    c.source = {fmt::format("ns{}", from_ns), fmt::format("app{}", i % k_apps_per_namespace), ""};
    c.destination = {fmt::format("ns{}", to_ns),
                     fmt::format("app{}", (i / 3) % k_apps_per_namespace), ""};
    c.port = ports[i % 6];
    c.count = k_flows / k_connections;
    c.first_seen = "2026-12-01T00:00:00Z";
    c.last_seen = "2026-12-02T00:00:00Z";
    evidence.connections.push_back(std::move(c));
  }
  evidence.flows_read = k_flows;
  evidence.since = "2026-12-01T00:00:00Z";
  evidence.until = "2026-12-02T00:00:00Z";
  evidence.files = {"flows-summary.json"};
  return evidence;
}

// The preview a plan computes and writes (every port; the diff against the policies in force,
// here a quarter of the planned ones; connectivity.txt, JUnit and connectivity.json's diff),
// without evidence (arg 0) and joined with 1 M observed flows (arg 1): the join's cost is the
// difference.
void Preview(benchmark::State& state) {
  const int pods = 2000;
  const bool with_evidence = state.range(0) != 0;
  const Cluster cluster = make_cluster(pods);
  const std::vector<Policy> planned = make_policies(pods);
  std::vector<Policy> base;
  for (size_t i = 0; i < planned.size(); i += 4)
    base.push_back(planned[i]);
  const model::FlowEvidence evidence = make_evidence(pods);
  CountingBuffer counter;
  std::ostream sink(&counter);
  size_t will_break_count = 0;
  for (auto _ : state) {
    const auto results = analyze_ports(cluster, planned, &base, std::nullopt, {});
    std::optional<ObservedIndex> observed;
    if (with_evidence) {
      std::vector<AnalysedPort> ports;
      for (const auto& r : results)
        ports.push_back(r.port);
      observed.emplace(cluster, evidence, ports);
      will_break_count = will_break(results, *observed).size();
    }
    const ObservedIndex* seen = observed ? &*observed : nullptr;
    const std::string text = to_text(cluster, results, planned.size(), seen);
    report::JUnitReport junit("plan");
    add_junit_cases(junit, cluster, results, {}, seen);
    write_json_results(sink, cluster, results, {.connectivity = false, .diff = true, .observed = seen});
    benchmark::DoNotOptimize(text.size());
  }
  state.counters["will_break"] = static_cast<double>(will_break_count);
  state.counters["peak_rss_MB"] = peak_rss_mb();
}
BENCHMARK(Preview)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

} // namespace
} // namespace netpol::analyze

BENCHMARK_MAIN();
