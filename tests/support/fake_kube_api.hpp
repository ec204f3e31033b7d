// A KubeApi over objects held in memory, for unit tests of feature code (detection, Cilium's
// readiness, configuration and pod checks). It answers as an API server holding those objects
// would: /version, the API groups and kinds their CRDs define, get, list (equality label
// selectors), delete. It fails as one can: a request a limited token may not make (403), every
// request once the server is unreachable or from the n-th on, every request for one resource.
// It counts and logs the requests. What no feature under test calls (apply, create, status,
// logs, access reviews) fails with ErrorCode::internal.
#pragma once

#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "kube/api.hpp"

namespace netpol::test {

// What the fake serves.
struct FakeCluster {
  nlohmann::json version;              // the /version body
  std::vector<nlohmann::json> objects; // each with kind, metadata.name (and .namespace)
  // Requests the token may make ("get version", "list daemonsets in kube-system", ...);
  // nullopt = every request is allowed.
  std::optional<std::vector<std::string>> allowed;

  bool allows(const std::string& request) const {
    return !allowed || std::find(allowed->begin(), allowed->end(), request) != allowed->end();
  }
};

class FakeKubeApi final : public kube::KubeApi {
public:
  using Key = std::tuple<std::string, std::string, std::string>; // plural, namespace, name

  FakeKubeApi() = default;
  explicit FakeKubeApi(FakeCluster cluster) : m_cluster(std::move(cluster)) {}

  // Adds `object` as a `r` (its kind set, as a server's answers have it), in place of one of
  // the same kind, namespace and name.
  void put(const kube::ResourceInfo& r, nlohmann::json object) {
    if (!object.contains("kind")) object["kind"] = r.kind;
    if (auto* held = find(r, namespace_of(object), name_of(object))) {
      *held = std::move(object);
    } else {
      m_cluster.objects.push_back(std::move(object));
    }
  }
  // Every later request for this resource fails with `error`.
  void fail_on(const kube::ResourceInfo& r, Error error) {
    m_failures[r.resource] = std::move(error);
  }
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
  // Called before every request (tests change the cluster between polls with it).
  std::function<void()> before_request;

  // What delete removed, in order.
  std::vector<Key> removed;
  // Every request, as "get version", "list daemonsets in kube-system", ...
  const std::vector<std::string>& requests() const { return m_log; }

  std::string server() const override { return "https://fake.invalid:6443"; }

  Result<nlohmann::json> version() override {
    if (auto e = check("get version")) return tl::unexpected(*e);
    return m_cluster.version;
  }

  // Served kinds are those of the CRDs held (discovery of one group version).
  Result<std::optional<kube::ResourceInfo>> resolve(const std::string& api_version,
                                                    const std::string& kind) override {
    const auto slash = api_version.find('/');
    const std::string group = slash == std::string::npos ? "" : api_version.substr(0, slash);
    const std::string version = api_version.substr(slash == std::string::npos ? 0 : slash + 1);
    if (auto e = check("discover " + api_version)) return tl::unexpected(*e);
    for (const auto& o : m_cluster.objects) {
      if (o.value("kind", "") != "CustomResourceDefinition") continue;
      const auto spec = o.value("spec", nlohmann::json::object());
      const auto names = spec.value("names", nlohmann::json::object());
      if (spec.value("group", "") != group || names.value("kind", "") != kind) continue;
      for (const auto& v : spec.value("versions", nlohmann::json::array())) {
        if (v.value("name", "") == version && v.value("served", false)) {
          return std::optional<kube::ResourceInfo>(
              kube::ResourceInfo{group, version, names.value("plural", ""), kind,
                                 spec.value("scope", "") == "Namespaced"});
        }
      }
    }
    return std::optional<kube::ResourceInfo>();
  }

  // The groups of a v1.20 server plus those of the CRDs held.
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
    for (const auto& o : m_cluster.objects) {
      if (o.value("kind", "") != "CustomResourceDefinition") continue;
      const std::string group = o.value("spec", nlohmann::json::object()).value("group", "");
      if (!group.empty() && std::find(groups.begin(), groups.end(), group) == groups.end())
        groups.push_back(group);
    }
    return groups;
  }

  Result<nlohmann::json> get(const kube::ResourceInfo& resource, const std::string& ns,
                             const std::string& name) override {
    if (auto e = check(fmt::format("get {} in {}", resource.resource, ns), &resource))
      return tl::unexpected(*e);
    if (const auto* held = find(resource, ns, name)) return *held;
    return tl::unexpected(not_found("get", resource, ns, name));
  }

  Result<std::vector<nlohmann::json>> list(const kube::ResourceInfo& resource,
                                           const std::string& ns,
                                           const kube::ListOptions& options) override {
    const std::string request = ns.empty() || !resource.namespaced
                                    ? fmt::format("list {}", resource.resource)
                                    : fmt::format("list {} in {}", resource.resource, ns);
    if (auto e = check(request, &resource)) return tl::unexpected(*e);
    std::vector<nlohmann::json> out;
    for (const auto& o : m_cluster.objects) {
      if (o.value("kind", "") != resource.kind) continue;
      if (!ns.empty() && resource.namespaced && namespace_of(o) != ns) continue;
      if (!matches(o, options.label_selector)) continue;
      out.push_back(o);
    }
    return out;
  }

  Result<void> remove(const kube::ResourceInfo& resource, const std::string& ns,
                      const std::string& name, const kube::DeleteOptions&) override {
    if (auto e = check(fmt::format("delete {} in {}", resource.resource, ns), &resource))
      return tl::unexpected(*e);
    auto& objects = m_cluster.objects;
    const auto* held = find(resource, ns, name);
    if (held == nullptr) return tl::unexpected(not_found("delete", resource, ns, name));
    objects.erase(objects.begin() + (held - objects.data()));
    removed.emplace_back(resource.resource, ns, name);
    return {};
  }

  Result<nlohmann::json> apply(const nlohmann::json&, const kube::ApplyOptions&) override {
    return unsupported<nlohmann::json>("apply");
  }
  std::vector<Result<nlohmann::json>> apply_all(const std::vector<nlohmann::json>&,
                                                const kube::ApplyOptions&) override {
    return {};
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

private:
  nlohmann::json* find(const kube::ResourceInfo& resource, const std::string& ns,
                       const std::string& name) {
    for (auto& o : m_cluster.objects) {
      if (o.value("kind", "") == resource.kind && namespace_of(o) == ns && name_of(o) == name)
        return &o;
    }
    return nullptr;
  }

  // Counts and logs the request; returns the error it meets: the server unreachable or
  // failing, a failure injected for `resource`, or 403 when the token may not make it.
  std::optional<Error> check(const std::string& request,
                             const kube::ResourceInfo* resource = nullptr) {
    ++m_requests;
    m_log.push_back(request);
    if (before_request) before_request();
    if (m_failure && m_requests > m_fail_after) return m_failure;
    if (resource != nullptr) {
      if (auto f = m_failures.find(resource->resource); f != m_failures.end()) return f->second;
    }
    if (!m_cluster.allows(request)) {
      Error e(ErrorCode::api, request + ": forbidden: User \"limited\" cannot " + request);
      e.http_status = 403;
      e.reason = "Forbidden";
      return e;
    }
    return std::nullopt;
  }

  template <class T> Result<T> unsupported(const char* what) {
    ++m_requests;
    return tl::unexpected(
        Error(ErrorCode::internal, std::string("FakeKubeApi: ") + what + " is not faked"));
  }

  static Error not_found(const char* verb, const kube::ResourceInfo& resource,
                         const std::string& ns, const std::string& name) {
    Error e(ErrorCode::api, fmt::format("{} {}/{}/{}: {} \"{}\" not found", verb, resource.kind, ns,
                                        name, resource.resource, name));
    e.http_status = 404;
    e.reason = "NotFound";
    return e;
  }

  static std::string metadata_field(const nlohmann::json& object, const char* field) {
    const auto it = object.find("metadata");
    if (it == object.end() || !it->is_object()) return {};
    const auto v = it->find(field);
    return v != it->end() && v->is_string() ? v->get<std::string>() : std::string();
  }
  static std::string namespace_of(const nlohmann::json& object) {
    return metadata_field(object, "namespace");
  }
  static std::string name_of(const nlohmann::json& object) {
    return metadata_field(object, "name");
  }

  // "a=b,c=d" only: all the features under test use.
  static bool matches(const nlohmann::json& object, const std::string& selector) {
    std::stringstream ss(selector);
    for (std::string term; std::getline(ss, term, ',');) {
      const auto eq = term.find('=');
      const auto key = term.substr(0, eq);
      const auto value = term.substr(eq + 1);
      const auto labels = object.value("metadata", nlohmann::json::object())
                              .value("labels", nlohmann::json::object());
      if (!labels.contains(key) || labels[key] != value) return false;
    }
    return true;
  }

  FakeCluster m_cluster;
  std::map<std::string, Error> m_failures; // by resource (plural)
  std::optional<Error> m_failure;
  uint64_t m_fail_after = 0;
  uint64_t m_requests = 0;
  std::vector<std::string> m_log;
};

} // namespace netpol::test
