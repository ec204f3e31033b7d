// A stand-in kubelet so pod logs flow through the real API server in end-to-end tests: the
// server proxies GET pods/<pod>/log to https://<node InternalIP>:<kubeletEndpoint port>
// /containerLogs/<ns>/<pod>/<container>, and this HTTPS server answers from a map the test
// fills.
//
//   TestKubelet kubelet;                                // serves on a free port
//   kubelet.set_log(ns, "web-0", "app", "line 1\n");
//   kubelet.register_node(*api, node_name);             // Node pointing at this kubelet
//   TestKubelet::create_pod(*api, ns, "web-0", node_name, {"app"});
//   api->stream_logs(ns, "web-0", {.container = "app"}, ...);
//   kubelet.requests().back().at("sinceTime")           // what the server asked for
//
// Logs are served as support/kubelet_log.hpp says: a line stored with its time first is
// served with it only for timestamps=true, and left out when before sinceTime.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "kube/api.hpp"
#include "support/https_server.hpp"

namespace netpol::test {

class TestKubelet {
public:
  TestKubelet();

  int port() const { return m_server.port(); }

  // The text served for one container (timestamps, sinceTime and limitBytes honoured).
  void set_log(const std::string& namespace_name, const std::string& pod,
               const std::string& container, std::string text);
  // The log of the container's previous instance, served for previous=true. Without one, such
  // a request is answered 400 as the kubelet does.
  void set_previous_log(const std::string& namespace_name, const std::string& pod,
                        const std::string& container, std::string text);

  // Query parameters of every containerLogs request so far, plus "path".
  std::vector<std::map<std::string, std::string>> requests() const;

  // Creates Node `node_name` whose status points at this kubelet (InternalIP 127.0.0.1,
  // daemonEndpoints.kubeletEndpoint.Port). Fails the test on error.
  void register_node(kube::KubeApi& api, const std::string& node_name) const;

  // Creates Pod `pod` in `namespace_name`, bound to `node_name`, with these containers.
  static void create_pod(kube::KubeApi& api, const std::string& namespace_name,
                         const std::string& pod, const std::string& node_name,
                         const std::vector<std::string>& containers);

private:
  HttpsServer m_server;
  mutable std::mutex m_mutex;
  std::map<std::string, std::string> m_logs;          // "ns/pod/container" -> text
  std::map<std::string, std::string> m_previous_logs; // the same, of previous instances
  std::vector<std::map<std::string, std::string>> m_requests;
};

} // namespace netpol::test
