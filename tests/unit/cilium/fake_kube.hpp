// A small in-memory KubeApi for the Cilium unit tests: objects by resource, namespace and
// name; list with equality label selectors; failures injected per resource. Everything the
// Cilium code does not call fails loudly.
#pragma once

#include <functional>
#include <map>
#include <sstream>
#include <tuple>

#include "kube/api.hpp"

namespace netpol::cilium::test {

class FakeKube final : public kube::KubeApi {
public:
  using Key = std::tuple<std::string, std::string, std::string>; // plural, namespace, name

  void put(const kube::ResourceInfo& r, nlohmann::json object) {
    const auto& md = object["metadata"];
    m_objects[{r.resource, md.value("namespace", ""), md.value("name", "")}] = std::move(object);
  }
  // Every later request for this resource fails with `error`.
  void fail_on(const kube::ResourceInfo& r, Error error) {
    m_failures[r.resource] = std::move(error);
  }
  // Called before every get/list (tests change the cluster between polls with it).
  std::function<void()> before_request;

  std::vector<Key> removed;

  std::string server() const override { return "https://fake"; }
  Result<nlohmann::json> version() override { return unsupported("version"); }
  Result<std::optional<kube::ResourceInfo>> resolve(const std::string&,
                                                    const std::string&) override {
    return unsupported("resolve");
  }
  Result<std::vector<std::string>> api_groups() override { return unsupported("api_groups"); }

  Result<nlohmann::json> get(const kube::ResourceInfo& r, const std::string& ns,
                             const std::string& name) override {
    ++m_requests;
    if (before_request) before_request();
    if (auto f = m_failures.find(r.resource); f != m_failures.end()) return fail(f->second);
    auto it = m_objects.find({r.resource, ns, name});
    if (it == m_objects.end()) return not_found(r, ns, name);
    return it->second;
  }

  Result<std::vector<nlohmann::json>> list(const kube::ResourceInfo& r, const std::string& ns,
                                           const kube::ListOptions& options) override {
    ++m_requests;
    if (before_request) before_request();
    if (auto f = m_failures.find(r.resource); f != m_failures.end()) return fail(f->second);
    std::vector<nlohmann::json> out;
    for (const auto& [key, object] : m_objects) {
      if (std::get<0>(key) != r.resource) continue;
      if (!ns.empty() && std::get<1>(key) != ns) continue;
      if (!matches(object, options.label_selector)) continue;
      out.push_back(object);
    }
    return out;
  }

  Result<nlohmann::json> apply(const nlohmann::json&, const kube::ApplyOptions&) override {
    return unsupported("apply");
  }
  std::vector<Result<nlohmann::json>> apply_all(const std::vector<nlohmann::json>&,
                                                const kube::ApplyOptions&) override {
    return {};
  }
  Result<void> remove(const kube::ResourceInfo& r, const std::string& ns, const std::string& name,
                      const kube::DeleteOptions&) override {
    ++m_requests;
    if (auto f = m_failures.find(r.resource); f != m_failures.end()) return fail(f->second);
    if (m_objects.erase({r.resource, ns, name}) == 0) return not_found(r, ns, name);
    removed.emplace_back(r.resource, ns, name);
    return {};
  }
  Result<nlohmann::json> create(const nlohmann::json&) override { return unsupported("create"); }
  Result<nlohmann::json> replace_status(const nlohmann::json&) override {
    return unsupported("replace_status");
  }
  Result<void> stream_logs(const std::string&, const std::string&, const kube::LogOptions&,
                           const std::function<bool(std::string_view)>&) override {
    return unsupported("stream_logs");
  }
  Result<bool> can_i(const kube::AccessCheck&) override { return unsupported("can_i"); }
  uint64_t request_count() const override { return m_requests; }

private:
  static tl::unexpected<Error> unsupported(const char* what) {
    return fail(ErrorCode::internal, std::string("FakeKube: ") + what + " is not faked");
  }
  static tl::unexpected<Error> not_found(const kube::ResourceInfo& r, const std::string& ns,
                                         const std::string& name) {
    Error e(ErrorCode::api, "get " + r.kind + "/" + ns + "/" + name + ": not found");
    e.http_status = 404;
    e.reason = "NotFound";
    return fail(std::move(e));
  }
  // "a=b,c=d" only: all the Cilium code uses.
  static bool matches(const nlohmann::json& object, const std::string& selector) {
    std::stringstream ss(selector);
    for (std::string term; std::getline(ss, term, ',');) {
      const auto eq = term.find('=');
      const auto key = term.substr(0, eq);
      const auto value = term.substr(eq + 1);
      const auto labels = object["metadata"].value("labels", nlohmann::json::object());
      if (!labels.contains(key) || labels[key] != value) return false;
    }
    return true;
  }

  std::map<Key, nlohmann::json> m_objects;
  std::map<std::string, Error> m_failures;
  uint64_t m_requests = 0;
};

} // namespace netpol::cilium::test
