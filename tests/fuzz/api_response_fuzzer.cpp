// libFuzzer target: any bytes as the API server's answers — the first byte picks the HTTP
// status, the rest is the body of every answer — read by every KubeApi call netpol makes,
// then by the readers of listed objects (analyze's live model). Each must give an answer or an
// Error; none may crash, throw, hang or leak.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "analyze/live.hpp"
#include "kube/client.hpp"

namespace {

using netpol::Result;
using netpol::kube::HttpRequest;
using netpol::kube::HttpResponse;

class Replay final : public netpol::kube::HttpTransport {
public:
  Replay(int status, std::string body) : m_status(status), m_body(std::move(body)) {}
  Result<HttpResponse> send(const HttpRequest& request) override {
    ++m_count;
    HttpResponse r;
    r.status = m_status;
    r.content_type = "application/json";
    if (request.on_data && m_status >= 200 && m_status < 300) {
      request.on_data(m_body);
    } else {
      r.body = m_body;
    }
    return r;
  }
  std::vector<Result<HttpResponse>> send_all(const std::vector<HttpRequest>& requests) override {
    std::vector<Result<HttpResponse>> out;
    for (const auto& r : requests)
      out.push_back(send(r));
    return out;
  }
  uint64_t request_count() const override { return m_count; }

private:
  int m_status;
  std::string m_body;
  uint64_t m_count = 0;
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static const int k_statuses[] = {200, 201, 400, 401, 403, 404, 409, 410, 422, 429, 500, 503};
  const int status = k_statuses[data[0] % (sizeof k_statuses / sizeof k_statuses[0])];
  std::string body(reinterpret_cast<const char*>(data + 1), size - 1);
  auto api = netpol::kube::make_client("https://fuzz.invalid",
                                       std::make_unique<Replay>(status, std::move(body)));
  namespace resources = netpol::kube::resources;
  (void)api->version();
  (void)api->api_groups();
  (void)api->resolve("x.io/v1", "Thing");
  (void)api->resolve("cilium.io/v2", "CiliumNetworkPolicy");
  (void)api->get(resources::config_maps, "n", "c");
  (void)api->can_i({"patch", "networking.k8s.io", "networkpolicies", "n", ""});
  const nlohmann::json policy = {{"apiVersion", "networking.k8s.io/v1"},
                                 {"kind", "NetworkPolicy"},
                                 {"metadata", {{"name", "p"}, {"namespace", "n"}}},
                                 {"spec", {{"podSelector", nlohmann::json::object()}}}};
  (void)api->apply(policy, {});
  (void)api->remove(resources::network_policies, "n", "p", {});
  (void)api->stream_logs("n", "p", {}, [](std::string_view) { return true; });
  // The list's items, read as analyze reads the cluster (a list follows `continue`: the
  // answer must not name one, or the replay would loop; a continue that repeats is the
  // server's bug and bounded by its pages).
  netpol::analyze::LiveObjects objects;
  if (auto pods = api->list(resources::pods, "")) objects.pods = std::move(*pods);
  if (auto namespaces = api->list(resources::namespaces, ""))
    objects.namespaces = std::move(*namespaces);
  if (auto policies = api->list(resources::network_policies, ""))
    objects.policies = std::move(*policies);
  if (auto cilium = api->list(resources::cilium_network_policies, ""))
    objects.policies.insert(objects.policies.end(), cilium->begin(), cilium->end());
  (void)netpol::analyze::cluster_from(objects);
  (void)netpol::analyze::policies_from(objects.policies);
  return 0;
}
