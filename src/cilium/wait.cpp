#include "cilium/wait.hpp"
#include "util/cancel.hpp"

#include <algorithm>
#include <thread>

#include <fmt/format.h>

namespace netpol::cilium {
namespace {

using nlohmann::json;

int64_t number(const json& object, const char* pointer, int64_t fallback = 0) {
  const json::json_pointer ptr(pointer);
  if (!object.contains(ptr)) return fallback;
  const auto& v = object.at(ptr);
  return v.is_number_integer() ? v.get<int64_t>() : fallback;
}

std::string text(const json& object, const char* pointer) {
  const json::json_pointer ptr(pointer);
  if (!object.contains(ptr) || !object.at(ptr).is_string()) return {};
  return object.at(ptr).get<std::string>();
}

// The first line of a container's last words, short enough for one error line.
std::string first_line(std::string s, size_t limit = 200) {
  if (auto nl = s.find('\n'); nl != std::string::npos) s.resize(nl);
  if (s.size() > limit) s = s.substr(0, limit) + "...";
  return s;
}

struct Part {
  std::string summary;   // "cilium 2/3 ready"
  std::string not_ready; // empty when ready
};

// "name ready/desired ready", or "name rolling out" while the controller has not yet seen the
// latest spec (kubectl rollout status's first check): then nothing else can be judged.
Part rollout_part(const json& object, const std::string& where, int64_t ready, int64_t desired) {
  const std::string name = text(object, "/metadata/name");
  const auto generation = number(object, "/metadata/generation");
  const auto observed = number(object, "/status/observedGeneration");
  Part p;
  p.summary = fmt::format("{} {}/{} ready", name, ready, desired);
  if (observed < generation) {
    p.not_ready = fmt::format("{}: rollout not observed yet (generation {}, observed {})", where,
                              generation, observed);
    p.summary = fmt::format("{} rolling out", name);
  }
  return p;
}

Part daemon_set_part(const json& ds, const std::string& where) {
  const auto desired = number(ds, "/status/desiredNumberScheduled");
  const auto ready = number(ds, "/status/numberReady");
  const auto updated = number(ds, "/status/updatedNumberScheduled");
  Part p = rollout_part(ds, where, ready, desired);
  if (!p.not_ready.empty()) return p;
  if (desired == 0) {
    p.not_ready = fmt::format("{}: no pods scheduled", where);
  } else if (ready < desired) {
    p.not_ready = fmt::format("{}: {}/{} pods ready", where, ready, desired);
  } else if (updated < desired) {
    p.not_ready = fmt::format("{}: {}/{} pods updated", where, updated, desired);
  }
  return p;
}

Part deployment_part(const json& d, const std::string& where) {
  const auto desired = number(d, "/spec/replicas", 1);
  const auto replicas = number(d, "/status/replicas");
  const auto ready = number(d, "/status/readyReplicas");
  const auto updated = number(d, "/status/updatedReplicas");
  Part p = rollout_part(d, where, ready, desired);
  if (!p.not_ready.empty()) return p;
  if (updated < desired) {
    p.not_ready = fmt::format("{}: {}/{} replicas updated", where, updated, desired);
  } else if (ready < desired) {
    p.not_ready = fmt::format("{}: {}/{} replicas ready", where, ready, desired);
  } else if (replicas > desired) {
    p.not_ready = fmt::format("{}: {} old replicas still running", where, replicas - desired);
  }
  return p;
}

// Fails on a crash-looping container; notes other waiting reasons (image pulls, config
// errors) as not ready.
Result<void> check_pods(kube::KubeApi& api, const std::string& ns, const std::string& selector,
                        std::vector<std::string>& not_ready) {
  kube::ListOptions options;
  options.label_selector = selector;
  auto pods = api.list(kube::resources::pods, ns, options);
  if (!pods) return fail(pods.error());
  for (const auto& pod : *pods) {
    const std::string name = text(pod, "/metadata/name");
    for (const char* field : {"/status/initContainerStatuses", "/status/containerStatuses"}) {
      const json::json_pointer ptr(field);
      if (!pod.contains(ptr) || !pod.at(ptr).is_array()) continue;
      for (const auto& cs : pod.at(ptr)) {
        const std::string reason = text(cs, "/state/waiting/reason");
        if (reason.empty() || reason == "ContainerCreating" || reason == "PodInitializing") {
          continue;
        }
        const std::string container = text(cs, "/name");
        if (reason == "CrashLoopBackOff") {
          std::string last = text(cs, "/lastState/terminated/reason");
          const auto exit_code = number(cs, "/lastState/terminated/exitCode", -1);
          const std::string message = text(cs, "/lastState/terminated/message");
          std::string detail = fmt::format("{} restarts", number(cs, "/restartCount"));
          if (!last.empty()) detail += fmt::format(", last exit: {}", last);
          if (exit_code >= 0) detail += fmt::format(" (code {})", exit_code);
          if (!message.empty()) detail += ": " + first_line(message);
          Error e(ErrorCode::check_failed,
                  fmt::format("pod {}/{} container {} is crash-looping (CrashLoopBackOff, {})", ns,
                              name, container, detail));
          e.details.push_back(
              fmt::format("See why: kubectl -n {} logs {} -c {} --previous", ns, name, container));
          return fail(std::move(e));
        }
        std::string line = fmt::format("pod {}/{} container {}: {}", ns, name, container, reason);
        if (auto msg = text(cs, "/state/waiting/message"); !msg.empty()) {
          line += ": " + first_line(msg);
        }
        not_ready.push_back(std::move(line));
      }
    }
  }
  return {};
}

bool crd_established(const json& crd) {
  const json::json_pointer ptr("/status/conditions");
  if (!crd.contains(ptr) || !crd.at(ptr).is_array()) return false;
  return std::any_of(crd.at(ptr).begin(), crd.at(ptr).end(), [](const json& c) {
    return c.value("type", "") == "Established" && c.value("status", "") == "True";
  });
}

bool retryable(const Error& e) {
  return e.code == ErrorCode::unreachable || e.code == ErrorCode::timeout ||
         (e.code == ErrorCode::api && (e.http_status == 429 || e.http_status >= 500));
}

} // namespace

const std::vector<std::string>& required_crds() {
  static const std::vector<std::string> k_crds = {
      "ciliumnetworkpolicies.cilium.io",
      "ciliumclusterwidenetworkpolicies.cilium.io",
      "ciliumendpoints.cilium.io",
  };
  return k_crds;
}

Result<Readiness> check_readiness(kube::KubeApi& api, const std::string& ns) {
  Readiness r;
  std::vector<std::string> summary;

  struct Workload {
    const kube::ResourceInfo& resource;
    const char* name;
    bool optional; // not installed unless asked for: absent is fine
  };
  const Workload workloads[] = {
      {kube::resources::daemon_sets, defaults::k_agent_daemonset, false},
      {kube::resources::deployments, defaults::k_operator_deployment, false},
      {kube::resources::deployments, defaults::k_relay_deployment, true},
  };
  for (const auto& w : workloads) {
    const std::string where = fmt::format("{}/{}/{}", w.resource.kind, ns, w.name);
    auto object = api.get(w.resource, ns, w.name);
    if (!object) {
      if (!kube::is_not_found(object.error())) return fail(object.error());
      if (!w.optional) {
        r.not_ready.push_back(where + ": not found");
        summary.push_back(fmt::format("{} missing", w.name));
      }
      continue;
    }
    const Part p = &w.resource == &kube::resources::daemon_sets ? daemon_set_part(*object, where)
                                                                : deployment_part(*object, where);
    summary.push_back(p.summary);
    if (!p.not_ready.empty()) r.not_ready.push_back(p.not_ready);
  }

  for (const char* selector : {defaults::k_agent_selector, defaults::k_operator_selector}) {
    if (auto checked = check_pods(api, ns, selector, r.not_ready); !checked) {
      return fail(checked.error());
    }
  }

  int crds_present = 0;
  for (const auto& crd : required_crds()) {
    auto object = api.get(kube::resources::custom_resource_definitions, "", crd);
    if (!object) {
      if (!kube::is_not_found(object.error())) return fail(object.error());
      r.not_ready.push_back(fmt::format("CustomResourceDefinition/{}: not registered yet (the "
                                        "operator registers it)",
                                        crd));
      continue;
    }
    if (!crd_established(*object)) {
      r.not_ready.push_back(fmt::format("CustomResourceDefinition/{}: not established yet", crd));
      continue;
    }
    ++crds_present;
  }
  summary.push_back(fmt::format("CRDs {}/{}", crds_present, required_crds().size()));

  r.ready = r.not_ready.empty();
  for (const auto& s : summary) {
    if (!r.summary.empty()) r.summary += ", ";
    r.summary += s;
  }
  return r;
}

Result<Readiness> wait_ready(kube::KubeApi& api, const WaitOptions& options,
                             const std::function<void(std::string_view)>& progress) {
  // The default wait ends early when the command is cancelled (util/cancel).
  const auto sleep = options.sleep
                         ? options.sleep
                         : std::function<void(Duration)>([](Duration d) { cancel::wait_for(d); });
  const auto start = options.now();
  const auto deadline = start + options.timeout;
  std::optional<std::chrono::steady_clock::time_point> last_progress;
  Readiness last;
  while (true) {
    auto r = check_readiness(api, options.namespace_name);
    if (r) {
      if (r->ready) return r;
      last = std::move(*r);
    } else if (retryable(r.error())) {
      last.not_ready = {r.error().message};
      last.summary = "waiting for the API server: " + r.error().message;
    } else {
      return fail(r.error());
    }
    const auto now = options.now();
    if (progress && (!last_progress || now - *last_progress >= options.progress_interval)) {
      progress(last.summary);
      last_progress = now;
    }
    if (now >= deadline) {
      Error e(ErrorCode::check_failed,
              fmt::format("Cilium not ready after {}: {}", format_duration(options.timeout),
                          last.not_ready.empty() ? last.summary : last.not_ready.front()));
      e.details = last.not_ready;
      return fail(std::move(e));
    }
    const auto left = std::chrono::duration_cast<Duration>(deadline - now);
    sleep(std::min(options.poll_interval, left));
    if (cancel::requested()) return tl::unexpected(cancel::error("waiting for Cilium"));
  }
}

Result<std::vector<std::string>> verify_config(kube::KubeApi& api, const std::string& ns,
                                               const nlohmann::json& values) {
  auto cm = api.get(kube::resources::config_maps, ns, defaults::k_config_map);
  if (!cm) {
    if (kube::is_not_found(cm.error())) {
      return fail(ErrorCode::check_failed,
                  fmt::format("verify ConfigMap/{}/{}: not found", ns, defaults::k_config_map));
    }
    return fail(cm.error());
  }
  const json data = cm->value("data", json::object());
  auto value_of = [&](const char* key) -> std::optional<std::string> {
    if (!data.contains(key) || !data[key].is_string()) return std::nullopt;
    return data[key].get<std::string>();
  };
  std::vector<std::string> passed;
  std::vector<std::string> failed;
  auto expect_equal = [&](const char* key, const std::string& wanted,
                          const std::optional<std::string>& absent_means) {
    const auto got = value_of(key);
    const auto effective = got ? got : absent_means;
    if (effective == wanted) {
      passed.push_back(fmt::format("{}: {}{}", key, wanted, got ? "" : " (default)"));
    } else {
      failed.push_back(fmt::format("{} is {}, expected \"{}\"", key,
                                   got ? fmt::format("\"{}\"", *got) : std::string("unset"),
                                   wanted));
    }
  };

  const json::json_pointer audit_ptr("/policyAuditMode");
  if (values.contains(audit_ptr) && values.at(audit_ptr).is_boolean()) {
    // The agent's own default is false, so an absent key means enforcing.
    expect_equal("policy-audit-mode", values.at(audit_ptr).get<bool>() ? "true" : "false",
                 std::string("false"));
  }
  // Values that set Hubble up but not hubble.enabled rely on the chart's default (true): an
  // upgrade writes it only when the release had switched Hubble off.
  const json::json_pointer hubble_ptr("/hubble/enabled");
  const bool hubble = values.contains(json::json_pointer("/hubble")) &&
                      (!values.contains(hubble_ptr) || values.at(hubble_ptr) == true);
  if (hubble) {
    expect_equal("enable-hubble", "true", std::nullopt);
  }
  const json::json_pointer export_ptr("/hubble/export/static");
  if (hubble && values.contains(export_ptr) && values.at(export_ptr).value("enabled", false)) {
    const json& exported = values.at(export_ptr);
    expect_equal("hubble-export-file-path", exported.value("filePath", ""), std::nullopt);
    if (exported.contains("allowList") && exported["allowList"].is_array()) {
      const auto got = value_of("hubble-export-allowlist").value_or("");
      bool all = true;
      for (const auto& filter : exported["allowList"]) {
        if (filter.is_string() && got.find(filter.get<std::string>()) == std::string::npos) {
          all = false;
          failed.push_back(fmt::format("hubble-export-allowlist is \"{}\", expected it to hold {}",
                                       got, filter.get<std::string>()));
        }
      }
      if (all) passed.push_back("hubble-export-allowlist: " + got);
    }
  }
  if (!failed.empty()) {
    Error e(ErrorCode::check_failed,
            fmt::format("verify ConfigMap/{}/{}: {}{}", ns, defaults::k_config_map, failed.front(),
                        failed.size() > 1 ? fmt::format(" (and {} more)", failed.size() - 1) : ""));
    e.details = failed;
    return fail(std::move(e));
  }
  return passed;
}

} // namespace netpol::cilium
