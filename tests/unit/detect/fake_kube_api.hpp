// A KubeApi over a fixed set of objects, with rights limited like an RBAC-bound token:
// enough of the API for detection (version, discovery, list, get), counting requests.
#pragma once

#include <atomic>
#include <set>

#include <fmt/format.h>

#include "kube/api.hpp"
#include "unit/detect/scenario.hpp"

namespace netpol::test {

class FakeKubeApi final : public kube::KubeApi {
public:
  explicit FakeKubeApi(DetectScenario scenario) : m_s(std::move(scenario)) {}

  // Makes every request fail as a connection failure would.
  void set_unreachable(bool on) {
    m_failure = on ? std::optional<Error>(Error(ErrorCode::unreachable, "cannot reach " + server() +
                                                                            ": Connection refused"))
                   : std::nullopt;
  }
  // Makes every request from the `after`-th on (0: the first) fail with `error`.
  void set_failure(Error error, uint64_t after = 0) {
    m_failure = std::move(error);
    m_fail_after = after;
  }

  std::string server() const override { return "https://fake.invalid:6443"; }

  Result<nlohmann::json> version() override {
    if (auto e = check("get version")) return tl::unexpected(*e);
    return m_s.version;
  }

  // Served kinds are those of the scenario's CRDs (discovery of one group version).
  Result<std::optional<kube::ResourceInfo>> resolve(const std::string& api_version,
                                                    const std::string& kind) override {
    const auto slash = api_version.find('/');
    const std::string group = slash == std::string::npos ? "" : api_version.substr(0, slash);
    const std::string version = api_version.substr(slash == std::string::npos ? 0 : slash + 1);
    if (auto e = check("discover " + api_version)) return tl::unexpected(*e);
    for (const auto& o : m_s.objects) {
      if (o.value("kind", "") != "CustomResourceDefinition") continue;
      const auto& spec = o["spec"];
      if (spec.value("group", "") != group || spec["names"].value("kind", "") != kind) continue;
      for (const auto& v : spec["versions"]) {
        if (v.value("name", "") == version && v.value("served", false)) {
          return std::optional<kube::ResourceInfo>(
              kube::ResourceInfo{group, version, spec["names"].value("plural", ""), kind,
                                 spec.value("scope", "") == "Namespaced"});
        }
      }
    }
    return std::optional<kube::ResourceInfo>();
  }

  Result<std::vector<std::string>> api_groups() override {
    if (auto e = check("discover api groups")) return tl::unexpected(*e);
    std::vector<std::string> groups = {"apiregistration.k8s.io",
                                       "apps",
                                       "events.k8s.io",
                                       "authentication.k8s.io",
                                       "authorization.k8s.io",
                                       "autoscaling",
                                       "batch",
                                       "certificates.k8s.io",
                                       "networking.k8s.io",
                                       "policy",
                                       "rbac.authorization.k8s.io",
                                       "storage.k8s.io",
                                       "admissionregistration.k8s.io",
                                       "apiextensions.k8s.io",
                                       "scheduling.k8s.io",
                                       "coordination.k8s.io",
                                       "node.k8s.io",
                                       "discovery.k8s.io",
                                       "flowcontrol.apiserver.k8s.io"};
    for (const auto& o : m_s.objects) {
      if (o.value("kind", "") == "CustomResourceDefinition") {
        const std::string group = o["spec"]["group"];
        if (std::find(groups.begin(), groups.end(), group) == groups.end()) groups.push_back(group);
      }
    }
    return groups;
  }

  Result<nlohmann::json> get(const kube::ResourceInfo& resource, const std::string& ns,
                             const std::string& name) override {
    if (auto e = check(fmt::format("get {} in {}", resource.resource, ns)))
      return tl::unexpected(*e);
    for (const auto& o : m_s.objects) {
      if (o.value("kind", "") == resource.kind && o["metadata"].value("namespace", "") == ns &&
          o["metadata"].value("name", "") == name) {
        return o;
      }
    }
    Error e(ErrorCode::api, fmt::format("get {}/{}/{}: {} \"{}\" not found", resource.kind, ns,
                                        name, resource.resource, name));
    e.http_status = 404;
    e.reason = "NotFound";
    return tl::unexpected(e);
  }

  Result<std::vector<nlohmann::json>> list(const kube::ResourceInfo& resource,
                                           const std::string& ns,
                                           const kube::ListOptions&) override {
    const std::string request = ns.empty() || !resource.namespaced
                                    ? fmt::format("list {}", resource.resource)
                                    : fmt::format("list {} in {}", resource.resource, ns);
    if (auto e = check(request)) return tl::unexpected(*e);
    std::vector<nlohmann::json> out;
    for (const auto& o : m_s.objects) {
      if (o.value("kind", "") != resource.kind) continue;
      if (!ns.empty() && resource.namespaced && o["metadata"].value("namespace", "") != ns)
        continue;
      out.push_back(o);
    }
    return out;
  }

  Result<nlohmann::json> apply(const nlohmann::json&, const kube::ApplyOptions&) override {
    return unsupported<nlohmann::json>("apply");
  }
  std::vector<Result<nlohmann::json>> apply_all(const std::vector<nlohmann::json>&,
                                                const kube::ApplyOptions&) override {
    return {};
  }
  Result<void> remove(const kube::ResourceInfo&, const std::string&, const std::string&,
                      const kube::DeleteOptions&) override {
    return unsupported<void>("remove");
  }
  Result<nlohmann::json> create(const nlohmann::json&) override {
    return unsupported<nlohmann::json>("create");
  }
  Result<nlohmann::json> replace_status(const nlohmann::json&) override {
    return unsupported<nlohmann::json>("replace_status");
  }
  Result<void> stream_logs(const std::string&, const std::string&, const kube::LogOptions&,
                           const std::function<bool(std::string_view)>&) override {
    return unsupported<void>("stream_logs");
  }
  Result<bool> can_i(const kube::AccessCheck&) override { return unsupported<bool>("can_i"); }

  uint64_t request_count() const override { return m_requests; }
  const std::vector<std::string>& requests() const { return m_log; }

private:
  // Counts the request; returns the error it meets (unreachable, or 403 when not allowed).
  std::optional<Error> check(const std::string& request) {
    ++m_requests;
    m_log.push_back(request);
    if (m_failure && m_requests > m_fail_after) return m_failure;
    if (!m_s.allows(request)) {
      Error e(ErrorCode::api, request + ": forbidden: User \"limited\" cannot " + request);
      e.http_status = 403;
      e.reason = "Forbidden";
      return e;
    }
    return std::nullopt;
  }

  template <class T> Result<T> unsupported(const char* what) {
    ++m_requests;
    return tl::unexpected(Error(ErrorCode::internal, std::string("fake: ") + what));
  }

  DetectScenario m_s;
  std::optional<Error> m_failure;
  uint64_t m_fail_after = 0;
  uint64_t m_requests = 0;
  std::vector<std::string> m_log;
};

} // namespace netpol::test
