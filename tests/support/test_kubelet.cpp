#include "support/test_kubelet.hpp"

#include <gtest/gtest.h>

#include "support/kubelet_log.hpp"

namespace netpol::test {

TestKubelet::TestKubelet() {
  m_server.routes().Get(
      R"(/containerLogs/([^/]+)/([^/]+)/([^/]+))",
      [this](const httplib::Request& req, httplib::Response& res) {
        std::map<std::string, std::string> params(req.params.begin(), req.params.end());
        params["path"] = req.path;
        const auto key = std::string(req.matches[1]) + "/" + std::string(req.matches[2]) + "/" +
                         std::string(req.matches[3]);
        std::string text;
        {
          std::lock_guard lock(m_mutex);
          m_requests.push_back(params);
          if (params.count("previous") != 0 && params.at("previous") == "true") {
            auto it = m_previous_logs.find(key);
            if (it == m_previous_logs.end()) {
              res.status = 400;
              res.set_content("previous terminated container \"" + std::string(req.matches[3]) +
                                  "\" in pod \"" + std::string(req.matches[2]) + "\" not found",
                              "text/plain");
              return;
            }
            text = it->second;
          } else {
            auto it = m_logs.find(key);
            if (it == m_logs.end()) {
              res.status = 404;
              res.set_content("container not found (\"" + key + "\")", "text/plain");
              return;
            }
            text = it->second;
          }
        }
        res.set_content(serve_container_log(text, params), "text/plain");
      });
  m_server.start();
}

void TestKubelet::set_log(const std::string& namespace_name, const std::string& pod,
                          const std::string& container, std::string text) {
  std::lock_guard lock(m_mutex);
  m_logs[namespace_name + "/" + pod + "/" + container] = std::move(text);
}

void TestKubelet::set_previous_log(const std::string& namespace_name, const std::string& pod,
                                   const std::string& container, std::string text) {
  std::lock_guard lock(m_mutex);
  m_previous_logs[namespace_name + "/" + pod + "/" + container] = std::move(text);
}

std::vector<std::map<std::string, std::string>> TestKubelet::requests() const {
  std::lock_guard lock(m_mutex);
  return m_requests;
}

void TestKubelet::register_node(kube::KubeApi& api, const std::string& node_name) const {
  nlohmann::json node = {
      {"apiVersion", "v1"}, {"kind", "Node"}, {"metadata", {{"name", node_name}}}};
  auto created = api.create(node);
  ASSERT_TRUE(created) << created.error().message;
  (*created)["status"] = {{"addresses", {{{"type", "InternalIP"}, {"address", "127.0.0.1"}}}},
                          {"daemonEndpoints", {{"kubeletEndpoint", {{"Port", port()}}}}},
                          {"conditions", {{{"type", "Ready"}, {"status", "True"}}}}};
  auto updated = api.replace_status(*created);
  ASSERT_TRUE(updated) << updated.error().message;
}

void TestKubelet::create_pod(kube::KubeApi& api, const std::string& namespace_name,
                             const std::string& pod, const std::string& node_name,
                             const std::vector<std::string>& containers) {
  auto list = nlohmann::json::array();
  for (const auto& c : containers)
    list.push_back({{"name", c}, {"image", "test/" + c}});
  auto created = api.create({{"apiVersion", "v1"},
                             {"kind", "Pod"},
                             {"metadata", {{"name", pod}, {"namespace", namespace_name}}},
                             {"spec", {{"nodeName", node_name}, {"containers", list}}}});
  ASSERT_TRUE(created) << created.error().message;
}

} // namespace netpol::test
