#include "detect/collect.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "detect/classify.hpp"
#include "detect/names.hpp"

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

// The first DaemonSet read that did not succeed, when none did.
const ReadOutcome* daemon_sets_unreadable(const Evidence& e) {
  for (const auto& r : e.reads) {
    if (r.what.rfind("list daemonsets", 0) == 0 && r.status != ReadStatus::ok) return &r;
  }
  return nullptr;
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
    if (!m_e.daemon_sets) {
      // Without DaemonSets there is no telling which provider runs: "none" would be a guess
      // that reads like a finding (an authorization failure is never evidence).
      const ReadOutcome* why = daemon_sets_unreadable(m_e);
      const bool forbidden = why != nullptr && why->status == ReadStatus::forbidden;
      Error e(ErrorCode::api,
              fmt::format("detect: cannot tell the network provider without listing DaemonSets "
                          "({}){}",
                          why != nullptr ? why->detail : "no list was readable",
                          forbidden ? "; grant `list daemonsets` cluster-wide or in kube-system "
                                      "(see docs/cluster-access.md)"
                                    : ""));
      if (forbidden) {
        e.http_status = 403;
        e.reason = "Forbidden";
      }
      return fail(std::move(e));
    }
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

  kube::KubeApi& m_api;
  Evidence m_e;
};

} // namespace

Result<Evidence> collect(kube::KubeApi& api, const Hints& hints) {
  return Collector(api, hints).run();
}

} // namespace netpol::detect
