// An in-memory API server of policy objects for the policy workflow tests (plan, apply, the
// desired state): serves and lists what it holds by label selector, answers access reviews,
// and records what the workflow applies and deletes. Not the general fake of KubeApi.
#pragma once

#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "kube/api.hpp"

namespace netpol::test {

// Serves NetworkPolicy (and Cilium kinds when `cilium`; a list of them answers 404 otherwise,
// as the real server does), lists by label selector, answers access reviews (everything is
// allowed but `denied`), records what is applied and deleted, counts requests. Thread-safe, as
// KubeApi must be: the plan lists every kind at once, and access reviews go out together.
class InMemoryPolicyApi final : public kube::KubeApi {
public:
  using json = nlohmann::json;

  bool cilium = false;
  std::set<std::string> forbidden; // resources whose LIST answers 403
  std::set<std::string> denied;    // access reviews answered no: "verb resource namespace"
  std::vector<std::string> groups; // api_groups()
  std::vector<json> objects;
  std::vector<std::string> log;
  std::vector<std::string> asked;   // access reviews: "verb resource namespace"
  std::vector<std::string> applied; // "Kind/ns/name" sent by apply_all, " (dry run)" appended
  std::vector<std::string> removed; // "resource ns/name" deleted

  std::string server() const override { return "https://memory.invalid"; }
  Result<json> version() override { return json::object(); }
  Result<std::optional<kube::ResourceInfo>> resolve(const std::string& api_version,
                                                    const std::string& kind) override {
    std::lock_guard lock(m_mutex);
    log.push_back("resolve " + kind);
    if (api_version == "networking.k8s.io/v1" && kind == "NetworkPolicy")
      return kube::resources::network_policies;
    if (cilium && api_version == "cilium.io/v2" && kind == "CiliumNetworkPolicy")
      return kube::resources::cilium_network_policies;
    if (cilium && api_version == "cilium.io/v2" && kind == "CiliumClusterwideNetworkPolicy")
      return kube::ResourceInfo{"cilium.io", "v2", "ciliumclusterwidenetworkpolicies", kind, false};
    return std::optional<kube::ResourceInfo>();
  }
  Result<std::vector<std::string>> api_groups() override {
    std::lock_guard lock(m_mutex);
    log.push_back("api groups");
    return groups;
  }
  Result<json> get(const kube::ResourceInfo&, const std::string&, const std::string&) override {
    return json();
  }
  Result<std::vector<json>> list(const kube::ResourceInfo& r, const std::string& ns,
                                 const kube::ListOptions& options) override {
    std::lock_guard lock(m_mutex);
    log.push_back("list " + r.resource + " " + ns + " " + options.label_selector);
    if (!cilium && r.group == "cilium.io") {
      Error e(ErrorCode::api, "list " + r.kind + ": the server could not find the resource");
      e.http_status = 404;
      return tl::unexpected(e);
    }
    if (forbidden.count(r.resource)) {
      Error e(ErrorCode::api, "list " + r.kind + ": forbidden");
      e.http_status = 403;
      return tl::unexpected(e);
    }
    std::vector<json> out;
    for (const auto& o : objects) {
      if (o["kind"] != r.kind || (r.namespaced && o["metadata"].value("namespace", "") != ns))
        continue;
      bool match = true;
      std::stringstream ss(options.label_selector);
      std::string term;
      while (std::getline(ss, term, ',')) {
        const auto eq = term.find('=');
        const auto& labels = o["metadata"].value("labels", json::object());
        match = match && labels.value(term.substr(0, eq), "") == term.substr(eq + 1);
      }
      if (match) out.push_back(o);
    }
    return out;
  }
  Result<json> apply(const json& o, const kube::ApplyOptions&) override { return o; }
  std::vector<Result<json>> apply_all(const std::vector<json>& os,
                                      const kube::ApplyOptions& options) override {
    std::lock_guard lock(m_mutex);
    for (const auto& o : os)
      applied.push_back(kube::describe(o) + (options.dry_run ? " (dry run)" : ""));
    return {os.begin(), os.end()};
  }
  Result<void> remove(const kube::ResourceInfo& r, const std::string& ns, const std::string& name,
                      const kube::DeleteOptions&) override {
    std::lock_guard lock(m_mutex);
    removed.push_back(r.resource + " " + ns + "/" + name);
    return {};
  }
  Result<json> create(const json& o) override { return o; }
  Result<json> replace_status(const json& o) override { return o; }
  Result<void> stream_logs(const std::string&, const std::string&, const kube::LogOptions&,
                           const std::function<bool(std::string_view)>&) override {
    return {};
  }
  Result<bool> can_i(const kube::AccessCheck& check) override {
    std::lock_guard lock(m_mutex);
    const std::string question = check.verb + " " + check.resource + " " + check.namespace_name;
    asked.push_back(question);
    return denied.count(question) == 0;
  }
  uint64_t request_count() const override {
    std::lock_guard lock(m_mutex);
    return log.size();
  }

private:
  mutable std::mutex m_mutex;
};

} // namespace netpol::test
