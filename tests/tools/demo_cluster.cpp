// netpol-demo-cluster: turns the local test cluster (a bare kube-apiserver, no controllers,
// no kubelet) into a small Cilium cluster for scripts/demo.sh, and plays its kubelet until
// SIGTERM or SIGINT.
//
//   netpol-demo-cluster [--kubeconfig PATH] [--namespace shop] [--cilium-namespace kube-system]
//                       [--node demo-node]
//
// It seeds, with server-side apply (a second run with the same options updates in place):
//   - namespace NS with pods web, api and db (labels app=…, bound to NODE, status Running);
//   - node NODE whose kubelet endpoint is this process (InternalIP 127.0.0.1 + port), so the
//     API server's pods/<pod>/log proxy reaches it;
//   - in CILIUM-NS: DaemonSet cilium (ready 2/2), ConfigMap cilium-config (policy-audit-mode
//     "true", Hubble exporter to stdout keeping DROPPED and AUDIT) and two agent pods
//     (k8s-app=cilium) on NODE, whose cilium-agent log is a few agent lines (the agents
//     started 20 minutes before) and recorded Hubble flows of NS timed a few minutes before: api →
//     db:5432 AUDIT (three times), the world → web:22 DROPPED (twice), web → api:8080 FORWARDED
//     (not a drop).
// Then it prints "ready" on stdout. On SIGTERM/SIGINT it deletes the node, the DaemonSet, the
// ConfigMap and the agent pods (which, with no kubelet to confirm, stay Terminating without
// their labels) and exits 0; the app stays (namespaces cannot be deleted in the test cluster).
// A second run against the same cluster needs other namespaces or the same --node. Failures
// are one line on stderr and exit 1.
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include <boost/program_options.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "droplog/timestamp.hpp"
#include "kube/api.hpp"
#include "kube/client.hpp"
#include "kube/kubeconfig.hpp"
#include "support/https_server.hpp"
#include "support/kubelet_log.hpp"
#include "util/error.hpp"

namespace {

using netpol::Result;
using nlohmann::json;
namespace kube = netpol::kube;
namespace po = boost::program_options;

constexpr const char* k_field_manager = "netpol-demo-cluster";
constexpr const char* k_agent_image = "quay.io/cilium/cilium:v1.18.2";

struct Options {
  std::string kubeconfig;
  std::string namespace_name = "shop";
  std::string cilium_namespace = "kube-system";
  std::string node = "demo-node";
};

struct AppPod {
  const char* app;
  const char* pod;
  const char* ip;
  int port;
};

// The seeded app: a Deployment-like web and api (generated name suffixes, which the drop log
// strips to the workload name) and a StatefulSet-like db.
const std::vector<AppPod> k_app = {
    {"web", "web-6d4cf56db6-8kxqz", "10.0.1.11", 8080},
    {"api", "api-5c7b9d8f4-m2n7p", "10.0.1.12", 8080},
    {"db", "db-0", "10.0.2.13", 5432},
};
const std::vector<std::string> k_agents = {"cilium-4xk2p", "cilium-9tq7w"};

// Serves the agents' container logs at the path the API server's pods/log proxy calls.
class DemoKubelet {
public:
  DemoKubelet() {
    m_server.routes().Get(
        R"(/containerLogs/([^/]+)/([^/]+)/([^/]+))",
        [this](const httplib::Request& req, httplib::Response& res) {
          const auto key = std::string(req.matches[1]) + "/" + std::string(req.matches[2]) + "/" +
                           std::string(req.matches[3]);
          std::lock_guard lock(m_mutex);
          auto it = m_logs.find(key);
          if (it == m_logs.end()) {
            res.status = 404;
            res.set_content("container not found (\"" + key + "\")", "text/plain");
            return;
          }
          const std::map<std::string, std::string> params(req.params.begin(), req.params.end());
          res.set_content(netpol::test::serve_container_log(it->second, params), "text/plain");
        });
    m_server.start();
  }
  int port() const { return m_server.port(); }
  void set_log(const std::string& ns, const std::string& pod, const std::string& container,
               std::string text) {
    std::lock_guard lock(m_mutex);
    m_logs[ns + "/" + pod + "/" + container] = std::move(text);
  }

private:
  netpol::test::HttpsServer m_server;
  std::mutex m_mutex;
  std::map<std::string, std::string> m_logs;
};

Result<json> apply_object(kube::KubeApi& api, const json& object) {
  kube::ApplyOptions options;
  options.field_manager = k_field_manager;
  options.force = true;
  // Errors name the object already ("apply Pod/ns/name: ...").
  return api.apply(object, options);
}

// Applies `object`, then writes its status as the missing controllers and kubelet would.
Result<void> apply_with_status(kube::KubeApi& api, json object) {
  json status = object["status"];
  object.erase("status");
  auto applied = apply_object(api, object);
  if (!applied) return netpol::fail(applied.error());
  (*applied)["status"] = status;
  auto updated = api.replace_status(*applied);
  if (!updated) return netpol::fail(updated.error());
  return {};
}

json pod_status(const std::string& ip, const std::string& container) {
  return {{"phase", "Running"},
          {"podIP", ip},
          {"podIPs", {{{"ip", ip}}}},
          {"hostIP", "127.0.0.1"},
          {"conditions", {{{"type", "Ready"}, {"status", "True"}}}},
          {"containerStatuses",
           {{{"name", container},
             {"ready", true},
             {"restartCount", 0},
             {"image", container},
             {"imageID", ""},
             {"state", {{"running", json::object()}}}}}}};
}

// One endpoint of a Hubble flow: a pod of the app, or the world.
json endpoint(const std::string& ns, const AppPod* pod, int identity) {
  if (pod == nullptr) return {{"identity", 2}, {"labels", {"reserved:world"}}};
  return {{"identity", identity},
          {"namespace", ns},
          {"labels",
           {std::string("k8s:app=") + pod->app, "k8s:io.kubernetes.pod.namespace=" + ns,
            "k8s:io.cilium.k8s.policy.cluster=default"}},
          {"pod_name", pod->pod}};
}

// One line as the Hubble exporter writes it to the agent's stdout: `from` (or the world at
// `from_ip`) → `to`:`port` over TCP.
std::string flow_line(const std::string& ns, const std::string& node, const std::string& time,
                      const std::string& verdict, const AppPod* from, const char* from_ip,
                      const AppPod& to, int port, int source_port) {
  json flow = {
      {"time", time},
      {"verdict", verdict},
      {"IP",
       {{"source", from ? from->ip : from_ip}, {"destination", to.ip}, {"ipVersion", "IPv4"}}},
      {"l4",
       {{"TCP",
         {{"source_port", source_port}, {"destination_port", port}, {"flags", {{"SYN", true}}}}}}},
      {"source", endpoint(ns, from, 41000)},
      {"destination", endpoint(ns, &to, 42000)},
      {"Type", "L3_L4"},
      {"node_name", node},
      {"traffic_direction", "INGRESS"},
      {"is_reply", false},
      {"Summary", "TCP Flags: SYN"}};
  if (verdict == "DROPPED") {
    flow["drop_reason"] = 133;
    flow["drop_reason_desc"] = "POLICY_DENIED";
    flow["event_type"] = {{"type", 1}, {"sub_type", 133}};
  } else if (verdict == "AUDIT") {
    flow["event_type"] = {{"type", 5}};
    flow["policy_match_type"] = 0;
  } else {
    flow["event_type"] = {{"type", 4}};
    flow["trace_observation_point"] = "TO_ENDPOINT";
  }
  return json{{"flow", flow}, {"node_name", node}, {"time", time}}.dump();
}

// The two agents' recorded logs, timed minutes before `now_ns`: the agents started before
// NETPOL_SINCE=15m, the flows are inside it. Every line starts with the time it was written,
// as in a container runtime's log file (the kubelet above serves it as pods/log does).
std::vector<std::string> agent_logs(const Options& o, int64_t now_ns) {
  auto at = [&](double minutes_ago) {
    return netpol::droplog::format_rfc3339(now_ns - static_cast<int64_t>(minutes_ago * 60e9));
  };
  const AppPod& web = k_app[0];
  const AppPod& api = k_app[1];
  const AppPod& db = k_app[2];
  const std::string& ns = o.namespace_name;
  const std::string& node = o.node;
  auto line = [&](double minutes_ago, const std::string& text) {
    return at(minutes_ago) + " " + text + "\n";
  };
  const std::string start = line(
      20, fmt::format("level=info msg=\"Cilium 1.18.2 started\" subsys=daemon time={}", at(20)));
  std::string first = start;
  first += line(20, "level=info msg=\"Policy audit mode enabled\" subsys=daemon");
  first +=
      line(11.5, flow_line(ns, node, at(11.5), "FORWARDED", &web, nullptr, api, api.port, 51012));
  first += line(9, flow_line(ns, node, at(9), "AUDIT", &api, nullptr, db, db.port, 44310));
  first +=
      line(6.2, flow_line(ns, node, at(6.2), "FORWARDED", &web, nullptr, api, api.port, 51044));
  first += line(4, flow_line(ns, node, at(4), "AUDIT", &api, nullptr, db, db.port, 44388));
  first += line(2, "level=info msg=\"Exporting flows\" subsys=hubble");
  first += line(1.5, flow_line(ns, node, at(1.5), "AUDIT", &api, nullptr, db, db.port, 44402));
  std::string second = start;
  second += line(8, flow_line(ns, node, at(8), "DROPPED", nullptr, "203.0.113.9", web, 22, 60122));
  second += line(3, flow_line(ns, node, at(3), "DROPPED", nullptr, "203.0.113.9", web, 22, 60190));
  return {first, second};
}

const json k_agent_labels = {{"k8s-app", "cilium"},
                             {"app.kubernetes.io/name", "cilium-agent"},
                             {"app.kubernetes.io/part-of", "cilium"}};

// An agent pod as applied: with its labels, or without them (see unseed).
json agent_pod(const Options& o, const std::string& name, bool labelled) {
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata",
           {{"name", name},
            {"namespace", o.cilium_namespace},
            {"labels", labelled ? k_agent_labels : json::object()}}},
          {"spec",
           {{"nodeName", o.node},
            {"hostNetwork", true},
            {"containers", {{{"name", "cilium-agent"}, {"image", k_agent_image}}}}}}};
}

Result<void> seed(kube::KubeApi& api, const Options& o, DemoKubelet& kubelet) {
  const std::string& ns = o.namespace_name;
  for (const auto& name : {ns, o.cilium_namespace}) {
    auto made = apply_object(
        api, {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", name}}}});
    if (!made) return netpol::fail(made.error());
  }

  json node_status = {{"addresses", {{{"type", "InternalIP"}, {"address", "127.0.0.1"}}}},
                      {"daemonEndpoints", {{"kubeletEndpoint", {{"Port", kubelet.port()}}}}},
                      {"conditions", {{{"type", "Ready"}, {"status", "True"}}}},
                      {"nodeInfo",
                       {{"kubeletVersion", "v1.20.2"},
                        {"containerRuntimeVersion", "containerd://1.7.20"},
                        {"osImage", "Debian GNU/Linux 12 (bookworm)"},
                        {"operatingSystem", "linux"},
                        {"architecture", "amd64"}}}};
  if (auto r = apply_with_status(
          api, {{"apiVersion", "v1"},
                {"kind", "Node"},
                {"metadata",
                 {{"name", o.node},
                  {"labels", {{"kubernetes.io/hostname", o.node}, {"kubernetes.io/os", "linux"}}}}},
                {"status", node_status}});
      !r) {
    return r;
  }

  for (const auto& p : k_app) {
    json pod = {{"apiVersion", "v1"},
                {"kind", "Pod"},
                {"metadata", {{"name", p.pod}, {"namespace", ns}, {"labels", {{"app", p.app}}}}},
                {"spec",
                 {{"nodeName", o.node},
                  {"containers",
                   {{{"name", p.app},
                     {"image", fmt::format("registry.example.com/shop/{}:1.0", p.app)},
                     {"ports", {{{"containerPort", p.port}, {"protocol", "TCP"}}}}}}}}},
                {"status", pod_status(p.ip, p.app)}};
    if (auto r = apply_with_status(api, pod); !r) return r;
  }

  const int agents = static_cast<int>(k_agents.size());
  json daemon_set = {
      {"apiVersion", "apps/v1"},
      {"kind", "DaemonSet"},
      {"metadata",
       {{"name", "cilium"}, {"namespace", o.cilium_namespace}, {"labels", k_agent_labels}}},
      {"spec",
       {{"selector", {{"matchLabels", {{"k8s-app", "cilium"}}}}},
        {"template",
         {{"metadata", {{"labels", k_agent_labels}}},
          {"spec",
           {{"hostNetwork", true},
            {"containers",
             {{{"name", "cilium-agent"},
               {"image", k_agent_image},
               {"command", {"cilium-agent"}},
               {"args", {"--config-dir=/tmp/cilium/config-map"}}}}}}}}}}},
      {"status",
       {{"currentNumberScheduled", agents},
        {"desiredNumberScheduled", agents},
        {"numberAvailable", agents},
        {"numberMisscheduled", 0},
        {"numberReady", agents},
        {"updatedNumberScheduled", agents}}}};
  if (auto r = apply_with_status(api, daemon_set); !r) return r;

  auto config = apply_object(
      api, {{"apiVersion", "v1"},
            {"kind", "ConfigMap"},
            {"metadata", {{"name", "cilium-config"}, {"namespace", o.cilium_namespace}}},
            {"data",
             {{"enable-policy", "default"},
              {"policy-audit-mode", "true"},
              {"enable-hubble", "true"},
              {"hubble-export-file-path", "stdout"},
              {"hubble-export-allowlist", R"({"verdict":["DROPPED","AUDIT"]})"},
              {"hubble-export-denylist", ""},
              {"hubble-listen-address", ":4244"},
              {"routing-mode", "tunnel"},
              {"tunnel-protocol", "vxlan"}}}});
  if (!config) return netpol::fail(config.error());

  const auto now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  const auto logs = agent_logs(o, now);
  for (size_t i = 0; i < k_agents.size(); ++i) {
    json pod = agent_pod(o, k_agents[i], true);
    pod["status"] = pod_status("127.0.0.1", "cilium-agent");
    if (auto r = apply_with_status(api, pod); !r) return r;
    kubelet.set_log(o.cilium_namespace, k_agents[i], "cilium-agent", logs[i]);
  }
  return {};
}

// What the tool seeded that would mislead other users of the cluster once it stops serving.
void unseed(kube::KubeApi& api, const Options& o) {
  auto remove = [&](const kube::ResourceInfo& r, const std::string& ns, const std::string& name) {
    auto removed = api.remove(r, ns, name);
    if (!removed && !kube::is_not_found(removed.error())) {
      std::cerr << "netpol-demo-cluster: " << removed.error().message << "\n";
    }
  };
  // A pod bound to a node is deleted only once its kubelet confirms, which no kubelet will
  // here: the pods stay (Terminating), so first they lose the labels `drops` and detection
  // look for (this tool is their only field manager: applying the pod without them removes
  // them).
  for (const auto& agent : k_agents) {
    auto relabelled = apply_object(api, agent_pod(o, agent, false));
    if (!relabelled) std::cerr << "netpol-demo-cluster: " << relabelled.error().message << "\n";
    remove(kube::resources::pods, o.cilium_namespace, agent);
  }
  remove(kube::resources::daemon_sets, o.cilium_namespace, "cilium");
  remove(kube::resources::config_maps, o.cilium_namespace, "cilium-config");
  remove(kube::resources::nodes, "", o.node);
}

Result<std::unique_ptr<kube::KubeApi>> connect(const Options& o) {
  kube::LoadOptions load;
  if (!o.kubeconfig.empty()) {
    load.paths = {o.kubeconfig};
    load.explicit_paths = true;
  } else if (const char* env = std::getenv("KUBECONFIG"); env != nullptr && *env != '\0') {
    std::string paths = env;
    for (size_t start = 0; start <= paths.size();) {
      const auto colon = std::min(paths.find(':', start), paths.size());
      if (colon > start) load.paths.push_back(paths.substr(start, colon - start));
      start = colon + 1;
    }
  }
  auto config = kube::load_client_config(load);
  if (!config) return netpol::fail(config.error());
  return kube::connect(*config);
}

} // namespace

int main(int argc, char** argv) {
  Options o;
  po::options_description options("netpol-demo-cluster options");
  // clang-format off
  options.add_options()
    ("help,h", "show this help")
    ("kubeconfig", po::value(&o.kubeconfig)->value_name("PATH"), "the cluster (default: KUBECONFIG, ~/.kube/config)")
    ("namespace,n", po::value(&o.namespace_name)->value_name("NS"), "the app's namespace (default shop)")
    ("cilium-namespace", po::value(&o.cilium_namespace)->value_name("NS"), "where the Cilium objects go (default kube-system)")
    ("node", po::value(&o.node)->value_name("NAME"), "the node served by this process (default demo-node)");
  // clang-format on
  try {
    po::variables_map args;
    po::store(po::command_line_parser(argc, argv).options(options).run(), args);
    po::notify(args);
    if (args.count("help")) {
      std::cout << "Usage: netpol-demo-cluster [options]\n"
                   "Seeds a small app and a Cilium in audit mode into a test cluster, serves\n"
                   "the agents' logs as their kubelet, prints \"ready\", and serves until\n"
                   "SIGTERM or SIGINT.\n\n"
                << options;
      return 0;
    }
  } catch (const po::error& e) {
    std::cerr << "netpol-demo-cluster: " << e.what() << "\n";
    return 2;
  }

  // Blocked before any thread starts, so every thread inherits the mask and sigwait below
  // is the one place the signals arrive.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  auto api = connect(o);
  if (!api) {
    std::cerr << "netpol-demo-cluster: " << api.error().message << "\n";
    return 1;
  }
  try {
    DemoKubelet kubelet;
    if (auto seeded = seed(**api, o, kubelet); !seeded) {
      std::cerr << "netpol-demo-cluster: " << seeded.error().message << "\n";
      unseed(**api, o);
      return 1;
    }
    std::cerr << fmt::format("netpol-demo-cluster: namespace {} (web, api, db), Cilium in audit "
                             "mode in {}, agent logs served for node {} on port {}\n",
                             o.namespace_name, o.cilium_namespace, o.node, kubelet.port());
    std::cout << "ready" << std::endl;
    int signal = 0;
    sigwait(&stop_signals, &signal);
    unseed(**api, o);
  } catch (const std::exception& e) {
    // HttpsServer reports TLS setup and bind failures by exception.
    std::cerr << "netpol-demo-cluster: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
