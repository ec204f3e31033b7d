#include "detect/collect.hpp"

#include <algorithm>
#include <set>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "detect/names.hpp"
#include "detect/provider_rules.hpp"

namespace netpol::detect {
namespace {

const kube::ResourceInfo& k_nodes = kube::resources::nodes;
const kube::ResourceInfo& k_daemon_sets = kube::resources::daemon_sets;
const kube::ResourceInfo& k_config_maps = kube::resources::config_maps;

// A failure that ends detection: anything but the server's answer about one read (the
// cluster is not there, did not answer in time, the credentials could not be had or were not
// accepted, the command was cancelled). A 403, 404 or 5xx on one read is evidence of what this
// token may see; an authentication failure never is (SPEC §3).
bool is_fatal(const Error& e) {
  return e.code != ErrorCode::api || e.http_status == 401 || kube::is_anonymous(e);
}

class Collector {
public:
  Collector(kube::KubeApi& api, const Hints& hints) : m_api(api) { m_e.hints = hints; }

  Result<Evidence> run() {
    if (m_e.hints.server.empty()) m_e.hints.server = m_api.server();
    if (auto r = read_version(); !r) return fail(r.error());
    if (auto r = read_api_groups(); !r) return fail(r.error());
    if (auto r = read_nodes(); !r) return fail(r.error());
    if (auto r = read_daemon_sets(); !r) return fail(r.error());
    if (auto r = read_config_maps(); !r) return fail(r.error());
    if (auto r = read_cluster_policies(); !r) return fail(r.error());
    return std::move(m_e);
  }

private:
  // Records the outcome; returns the error when it must end detection.
  Result<void> record(const std::string& what, const Error* error) {
    ReadOutcome outcome{what, ReadStatus::ok, {}};
    if (error != nullptr) {
      if (is_fatal(*error)) return fail(*error);
      outcome.status = kube::is_forbidden(*error)   ? ReadStatus::forbidden
                       : kube::is_not_found(*error) ? ReadStatus::not_found
                                                    : ReadStatus::failed;
      outcome.detail = error->message;
      spdlog::debug("detect: {}: {}", what, error->message);
    }
    m_e.reads.push_back(std::move(outcome));
    return {};
  }

  template <class T> Result<void> note(const std::string& what, const Result<T>& result) {
    return record(what, result ? nullptr : &result.error());
  }

  Result<void> read_version() {
    auto v = m_api.version();
    if (auto r = note(k_read_version, v); !r) return r;
    if (v) m_e.version = *v;
    return {};
  }

  Result<void> read_api_groups() {
    auto groups = m_api.api_groups();
    if (auto r = note(k_read_api_groups, groups); !r) return r;
    if (groups) m_e.api_groups = *groups;
    return {};
  }

  Result<void> read_nodes() {
    auto nodes = m_api.list(k_nodes, "");
    if (auto r = note(k_read_nodes, nodes); !r) return r;
    if (nodes) m_e.nodes = std::move(*nodes);
    return {};
  }

  // One cluster-wide list; if that is forbidden, the namespaces providers usually live in.
  Result<void> read_daemon_sets() {
    auto all = m_api.list(k_daemon_sets, "");
    if (auto r = note(k_read_daemon_sets, all); !r) return r;
    if (all) {
      m_e.daemon_sets = std::move(*all);
      return {};
    }
    if (!kube::is_forbidden(all.error())) return {};
    std::vector<nlohmann::json> found;
    bool any = false;
    for (const char* ns : names::k_fallback_namespaces) {
      auto some = m_api.list(k_daemon_sets, ns);
      if (auto r = note(read_daemon_sets_in(ns), some); !r) return r;
      if (some) {
        any = true;
        found.insert(found.end(), some->begin(), some->end());
      }
    }
    if (any) {
      m_e.daemon_sets = std::move(found);
      m_e.daemon_sets_partial = true;
    }
    return {};
  }

  Result<void> read_config_map(const std::string& ns, const std::string& name) {
    auto cm = m_api.get(k_config_maps, ns, name);
    if (auto r = note(detect::read_config_map(ns, name), cm); !r) return r;
    if (cm) m_e.config_maps[ns + "/" + name] = std::move(*cm);
    return {};
  }

  Result<void> read_config_maps() {
    if (!m_e.daemon_sets) return {};
    for (const auto& [ns, name] : config_maps_for(*m_e.daemon_sets)) {
      if (auto r = read_config_map(ns, name); !r) return r;
      if (name != names::k_cilium_config) continue;
      if (const auto* config = m_e.config_map(ns, name)) {
        if (auto flowlog = flowlog_config_for(ns, *config)) {
          if (auto r = read_config_map(flowlog->first, flowlog->second); !r) return r;
        }
      }
    }
    return {};
  }

  // Only where the group is served: a cluster without it pays no request.
  Result<void> read_cluster_policies() {
    if (!m_e.api_groups || std::find(m_e.api_groups->begin(), m_e.api_groups->end(),
                                     names::k_policy_api_group) == m_e.api_groups->end()) {
      return {};
    }
    std::set<std::string> kinds_done;
    for (const auto& type : names::k_cluster_policy_types) {
      if (kinds_done.count(type.kind)) continue;
      auto resource = m_api.resolve(type.api_version, type.kind);
      if (auto r = note(fmt::format("discover {} {}", type.api_version, type.kind), resource); !r) {
        return r;
      }
      if (!resource || !*resource) continue;
      kinds_done.insert(type.kind);
      auto items = m_api.list(**resource, "");
      if (auto r = note(fmt::format("list {}", (*resource)->resource), items); !r) return r;
      if (items) {
        m_e.cluster_policies.insert(m_e.cluster_policies.end(), items->begin(), items->end());
      }
    }
    return {};
  }

  kube::KubeApi& m_api;
  Evidence m_e;
};

} // namespace

Result<Evidence> collect(kube::KubeApi& api, const Hints& hints) {
  return Collector(api, hints).run();
}

} // namespace netpol::detect
