#include "detect/provider_rules.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>

#include <fmt/format.h>

#include "detect/names.hpp"
#include "detect/rules.hpp"
#include "util/yaml.hpp"

namespace netpol::detect {
namespace {

using nlohmann::json;

struct Candidate {
  Provider provider;
  int rank; // among providers that enforce, the lower rank is the one that decides
};

class ProviderRules {
public:
  ProviderRules(const Evidence& e, Detection& d) : m_e(e), m_d(d) {}

  void decide() {
    std::vector<Candidate> found;
    if (m_e.daemon_sets) {
      auto sets = *m_e.daemon_sets;
      std::stable_sort(sets.begin(), sets.end(),
                       [](const json& a, const json& b) { return ns_name(a) < ns_name(b); });
      for (const auto& ds : sets) {
        if (str_at(ds, "/metadata/name") == names::k_kube_network_policies_ds) {
          m_kube_network_policies = &ds;
        }
      }
      for (const auto& ds : sets) {
        if (auto c = recognise(ds)) {
          const bool duplicate = std::any_of(found.begin(), found.end(), [&](const Candidate& f) {
            return f.provider.name == c->provider.name;
          });
          if (!duplicate) found.push_back(std::move(*c));
        }
      }
    }
    if (m_d.flavor == Flavor::k3s) {
      found.push_back(k3s_provider());
    }

    std::stable_sort(found.begin(), found.end(), [](const Candidate& a, const Candidate& b) {
      if (a.provider.enforces_network_policy != b.provider.enforces_network_policy) {
        return a.provider.enforces_network_policy;
      }
      return a.rank < b.rank;
    });

    if (found.empty()) {
      m_d.provider = Provider{};
      if (!m_e.daemon_sets) {
        m_d.provider.confidence = Confidence::low;
        add("provider unknown: no DaemonSet list was readable");
      } else {
        m_d.provider.confidence = m_e.daemon_sets_partial ? Confidence::low : Confidence::high;
        std::vector<std::string> seen;
        for (const auto& ds : *m_e.daemon_sets)
          seen.push_back(ns_name(ds));
        std::sort(seen.begin(), seen.end());
        const size_t shown = std::min<size_t>(seen.size(), 12);
        std::string list;
        for (size_t i = 0; i < shown; ++i)
          list += (i ? ", " : "") + seen[i];
        if (shown < seen.size()) list += fmt::format(", … ({} more)", seen.size() - shown);
        add(fmt::format("no DaemonSet of a known network provider{}{}",
                        m_e.daemon_sets_partial ? " in the namespaces readable" : "",
                        seen.empty() ? std::string(" (no DaemonSets)") : ": " + list));
      }
      return;
    }
    m_d.provider = found.front().provider;
    if (m_e.daemon_sets_partial) {
      m_d.provider.confidence = lowest(m_d.provider.confidence, Confidence::medium);
    }
    for (size_t i = 1; i < found.size(); ++i) {
      m_d.other_providers.push_back(found[i].provider);
    }
  }

  // Calico's policies come in two API groups: its native v3 API (projectcalico.org: served
  // by the Calico API server, or as CRDs since Calico 3.32) and the v1 CRDs it stores in
  // (crd.projectcalico.org). Either says Calico is there when its DaemonSets cannot be read.
  void note_calico_api() {
    const bool v3 = served(names::k_calico_v3_group);
    const bool v1 = served(names::k_calico_crd_group);
    if (!v3 && !v1) return;
    const auto is_calico = [](const Provider& p) {
      return p.name == ProviderName::calico || p.name == ProviderName::canal;
    };
    const bool found = is_calico(m_d.provider) || std::any_of(m_d.other_providers.begin(),
                                                              m_d.other_providers.end(), is_calico);
    std::string groups;
    if (v3) groups = fmt::format("{} (Calico's v3 policy API)", names::k_calico_v3_group);
    if (v1) {
      groups += fmt::format("{}{} (Calico's v1 CRDs)", groups.empty() ? "" : " and ",
                            names::k_calico_crd_group);
    }
    if (found) {
      add(fmt::format("api group {} served", groups));
      return;
    }
    if (m_e.daemon_sets && !m_e.daemon_sets_partial) {
      add(fmt::format("api group {} served, but no calico-node DaemonSet runs: Calico's "
                      "resources remain without Calico",
                      groups));
      return;
    }
    // The DaemonSets were not (all) readable: the API groups are the evidence there is.
    Provider calico;
    calico.name = ProviderName::calico;
    calico.enforces_network_policy = true;
    calico.confidence = Confidence::medium;
    add(fmt::format("api group {} served and the calico-node DaemonSet not readable: Calico, "
                    "version unknown",
                    groups));
    if (m_d.provider.name == ProviderName::none) {
      m_d.provider = calico;
    } else {
      m_d.other_providers.push_back(calico);
    }
  }

private:
  bool served(const char* group) const {
    return m_e.api_groups && std::find(m_e.api_groups->begin(), m_e.api_groups->end(), group) !=
                                 m_e.api_groups->end();
  }

  std::optional<Candidate> recognise(const json& ds) {
    const std::string name = str_at(ds, "/metadata/name");
    const std::string ns = str_at(ds, "/metadata/namespace");
    const auto containers = containers_of(ds);
    auto has = [&](std::string_view c) { return container_named(containers, c) != nullptr; };
    const std::string k8s_app = label(ds, "k8s-app");
    const std::string app = label(ds, "app");

    if (has("cilium-agent") || k8s_app == "cilium" || name == "anetd") {
      const json* agent = container_named(containers, "cilium-agent");
      const std::string image = agent ? str_at(*agent, "/image") : std::string();
      if (name == "anetd" || image.starts_with("gke.gcr.io/")) return gke_dpv2(ds, image);
      return cilium(ds, image);
    }
    if (name == "canal" || name.ends_with("-canal") || k8s_app == "canal" ||
        (has("calico-node") && has("kube-flannel"))) {
      return simple(ds, ProviderName::canal, "calico-node", 3, "Calico policy on flannel");
    }
    if (has("calico-node") || k8s_app == "calico-node") {
      const bool operator_install = ns == names::k_calico_operator_namespace;
      return simple(ds, ProviderName::calico, "calico-node", 2,
                    operator_install ? "operator install" : "manifest install");
    }
    if (name == "weave-net" || has("weave-npc")) {
      return simple(ds, ProviderName::weave, "weave", 4, {});
    }
    if (name == "kube-router" || k8s_app == "kube-router") return kube_router(ds);
    if (name == "antrea-agent" || app == "antrea" || has("antrea-agent")) {
      return simple(ds, ProviderName::antrea, "antrea-agent", 6, {});
    }
    if (name == "ovnkube-node" || app == "ovnkube-node") {
      return simple(ds, ProviderName::ovn_kubernetes, "ovnkube-controller", 7, {});
    }
    if (name == "azure-npm" || k8s_app == "azure-npm" || app == "azure-npm") {
      return simple(ds, ProviderName::azure_npm, "azure-npm", 8, {});
    }
    if (name == "aws-node" || k8s_app == "aws-node") return aws_node(ds);
    if (name == "kindnet" || app == "kindnet") return kindnet(ds);
    if (contains(name, "flannel") || app == "flannel") {
      auto c = simple(ds, ProviderName::flannel, "kube-flannel", 12, {});
      c.provider.enforces_network_policy = false;
      add("flannel does not enforce NetworkPolicy");
      return c;
    }
    return std::nullopt;
  }

  // The container whose image carries the provider's version: the named one, else the first.
  const json* main_container(const std::vector<json>& containers, std::string_view preferred) {
    if (const json* c = container_named(containers, preferred)) return c;
    return containers.empty() ? nullptr : &containers.front();
  }

  // Common part: version, namespace, readiness and the evidence line naming the DaemonSet.
  Candidate base(const json& ds, ProviderName provider_name, const std::string& image, int rank,
                 std::string_view remark) {
    Candidate c;
    c.rank = rank;
    c.provider.name = provider_name;
    c.provider.namespace_name = str_at(ds, "/metadata/namespace");
    c.provider.version = version_from_image(image);
    const int64_t desired = int_at(ds, "/status/desiredNumberScheduled");
    const int64_t ready = int_at(ds, "/status/numberReady");
    c.provider.ready = desired > 0 && ready >= desired;
    add(fmt::format("daemonset {} image {}{}{}", ns_name(ds), image.empty() ? "(none)" : image,
                    remark.empty() ? "" : " (", remark.empty() ? "" : std::string(remark) + ")"));
    add(fmt::format("daemonset {} ready {}/{}", ns_name(ds), ready, desired));
    if (!c.provider.version) {
      add(fmt::format("daemonset {}: image has no version tag", ns_name(ds)));
    }
    return c;
  }

  Candidate simple(const json& ds, ProviderName provider_name, std::string_view container, int rank,
                   std::string_view remark) {
    const auto containers = containers_of(ds);
    const json* main = main_container(containers, container);
    Candidate c =
        base(ds, provider_name, main ? str_at(*main, "/image") : std::string(), rank, remark);
    c.provider.enforces_network_policy = true;
    return c;
  }

  Candidate gke_dpv2(const json& ds, const std::string& image) {
    Candidate c = base(ds, ProviderName::gke_dataplane_v2, image, 1, "GKE Dataplane V2");
    c.provider.enforces_network_policy = true;
    add("GKE Dataplane V2 always enforces NetworkPolicy; it is managed by Google, so Cilium "
        "must not be installed on top; drops go to Cloud Logging (NetworkLogging), not pod logs");
    return c;
  }

  Candidate cilium(const json& ds, const std::string& image) {
    Candidate c = base(ds, ProviderName::cilium, image, 0, {});
    c.provider.enforces_network_policy = true;
    const std::string ns = c.provider.namespace_name.value_or("kube-system");
    const json* config = m_e.config_map(ns, names::k_cilium_config);
    if (config == nullptr) {
      const auto status = m_e.status_of(read_config_map(ns, names::k_cilium_config));
      c.provider.confidence = Confidence::medium;
      add(fmt::format("configmap {}/{} {}: audit mode and Hubble export unknown, assuming "
                      "enforcement without audit and no drop log",
                      ns, names::k_cilium_config,
                      status ? read_word(*status) : std::string_view("not read")));
      return c;
    }
    const auto data = [&](const char* key) {
      return str_at(*config, (std::string("/data/") + key).c_str());
    };
    const std::string where = fmt::format("configmap {}/{}", ns, names::k_cilium_config);
    if (auto mode = data("enable-policy"); !mode.empty()) {
      add(fmt::format("{} enable-policy={}", where, mode));
      if (lower(mode) == "never") c.provider.enforces_network_policy = false;
    }
    c.provider.audit_mode = is_true(data("policy-audit-mode"));
    add(fmt::format("{} policy-audit-mode={}", where,
                    data("policy-audit-mode").empty() ? "(unset: false)"
                                                      : data("policy-audit-mode")));
    if (auto chaining = data("cni-chaining-mode"); !chaining.empty() && chaining != "none") {
      add(fmt::format("{} cni-chaining-mode={} (Cilium enforces policy on top of another CNI)",
                      where, chaining));
    }
    c.provider.drop_log_source = hubble_export(ns, *config, c.provider.audit_mode);
    return c;
  }

  // Does the Hubble exporter write dropped or audited flows to the agent's stdout (which
  // `drops` reads through pods/log)?
  DropLogSource hubble_export(const std::string& ns, const json& config, bool audit_mode) {
    const std::string where = fmt::format("configmap {}/{}", ns, names::k_cilium_config);
    auto data = [&](const std::string& key) { return str_at(config, ("/data/" + key).c_str()); };
    const std::string enable = data("enable-hubble");
    if (!is_true(enable)) {
      add(fmt::format("{} enable-hubble={}: no Hubble flows, no drop log", where,
                      enable.empty() ? "(unset)" : enable));
      return DropLogSource::none;
    }
    const std::string wanted = audit_mode ? "AUDIT" : "DROPPED";
    const std::string path = data("hubble-export-file-path");
    if (path == "stdout") {
      const std::string allow = data("hubble-export-allowlist");
      if (passes(allow, wanted)) {
        add(fmt::format("{} hubble-export-file-path=stdout, allowlist {}", where,
                        allow.empty() ? "(all flows)" : allow));
        return DropLogSource::hubble_export_stdout;
      }
      add(fmt::format("{} hubble-export-file-path=stdout but allowlist {} excludes {} flows", where,
                      allow, wanted));
    } else if (!path.empty()) {
      add(fmt::format("{} hubble-export-file-path={}: flows go to a file on the node, not to "
                      "pod logs",
                      where, path));
    }
    if (const auto dynamic = data("hubble-flowlogs-config-path"); !dynamic.empty()) {
      const json* flowlogs = m_e.config_map(ns, names::k_cilium_flowlog_config);
      if (flowlogs == nullptr) {
        add(fmt::format("{} hubble-flowlogs-config-path={} but configmap {}/{} not readable", where,
                        dynamic, ns, names::k_cilium_flowlog_config));
      } else if (dynamic_exports_stdout(*flowlogs, wanted, ns)) {
        return DropLogSource::hubble_export_stdout;
      }
    }
    if (path.empty() && data("hubble-flowlogs-config-path").empty()) {
      add(fmt::format("{} has no Hubble exporter (hubble-export-file-path unset): no drop log",
                      where));
    }
    return DropLogSource::none;
  }

  // An allowlist is JSON FlowFilters joined by spaces or nothing; empty means every flow.
  static bool passes(const std::string& allowlist, const std::string& verdict) {
    if (allowlist.empty()) return true;
    if (!contains(allowlist, "verdict")) return true; // filters on something else, keeps drops
    return contains(allowlist, "\"" + verdict + "\"") ||
           contains(allowlist, verdict == "AUDIT" ? "\"DROPPED\"" : "\"AUDIT\"");
  }

  bool dynamic_exports_stdout(const json& flowlogs_cm, const std::string& wanted,
                              const std::string& ns) {
    const std::string text = str_at(flowlogs_cm, "/data/flowlogs.yaml");
    auto docs = parse_yaml_documents(text, ns + "/" + names::k_cilium_flowlog_config);
    if (!docs || docs->empty() || !docs->front().value.contains("flowLogs")) return false;
    for (const auto& log : docs->front().value["flowLogs"]) {
      if (!log.is_object() || str_at(log, "/filePath") != "stdout") continue;
      std::string filters = log.contains("includeFilters") ? log["includeFilters"].dump() : "";
      if (filters == "null" || filters == "[]") filters.clear();
      if (passes(filters, wanted)) {
        add(fmt::format("configmap {}/{} flow log {} writes to stdout", ns,
                        names::k_cilium_flowlog_config, str_at(log, "/name")));
        return true;
      }
    }
    return false;
  }

  Candidate kube_router(const json& ds) {
    Candidate c = simple(ds, ProviderName::kube_router, "kube-router", 5, {});
    const auto containers = containers_of(ds);
    const json* main = main_container(containers, "kube-router");
    const auto firewall = main ? flag_value(*main, "--run-firewall") : std::nullopt;
    // kube-router's --run-firewall defaults to true.
    c.provider.enforces_network_policy = !(firewall && lower(*firewall) == "false");
    add(fmt::format("daemonset {} --run-firewall={}", ns_name(ds),
                    firewall ? (firewall->empty() ? "true" : *firewall) : "(default true)"));
    return c;
  }

  // The VPC CNI enforces only when the node agent runs with --enable-network-policy=true and
  // the control-plane controller is on (ConfigMap amazon-vpc-cni enable-network-policy-controller).
  Candidate aws_node(const json& ds) {
    const auto containers = containers_of(ds);
    const json* cni = main_container(containers, "aws-node");
    Candidate c = base(ds, ProviderName::aws_vpc_cni, cni ? str_at(*cni, "/image") : "", 9, {});
    const json* agent = container_named(containers, "aws-eks-nodeagent");
    std::optional<bool> agent_on;
    if (agent != nullptr) {
      const auto flag = flag_value(*agent, "--enable-network-policy");
      agent_on = flag && (flag->empty() || is_true(*flag));
      add(fmt::format(
          "daemonset {} container aws-eks-nodeagent image {} --enable-network-policy={}",
          ns_name(ds), str_at(*agent, "/image"),
          flag ? (flag->empty() ? "true" : *flag) : "(unset: false)"));
    } else {
      add(fmt::format("daemonset {} has no aws-eks-nodeagent container (VPC CNI before v1.14 or "
                      "agent removed): no policy enforcement on the nodes",
                      ns_name(ds)));
      agent_on = false;
    }
    for (const auto& ct : containers) {
      if (auto env = env_value(ct, "ENABLE_NETWORK_POLICY"); env && is_true(*env)) {
        agent_on = true;
        add(fmt::format("daemonset {} container {} env ENABLE_NETWORK_POLICY={}", ns_name(ds),
                        str_at(ct, "/name"), *env));
      }
    }
    const std::string ns = str_at(ds, "/metadata/namespace");
    const json* cm = m_e.config_map(ns, names::k_amazon_vpc_cni_config);
    std::optional<bool> controller_on;
    if (cm != nullptr) {
      const std::string v = str_at(*cm, "/data/enable-network-policy-controller");
      controller_on = is_true(v);
      add(fmt::format("configmap {}/{} enable-network-policy-controller={}", ns,
                      names::k_amazon_vpc_cni_config, v.empty() ? "(unset: false)" : v));
    } else {
      const auto status = m_e.status_of(read_config_map(ns, names::k_amazon_vpc_cni_config));
      add(fmt::format("configmap {}/{} {}", ns, names::k_amazon_vpc_cni_config,
                      status ? read_word(*status) : std::string_view("not read")));
      if (status != ReadStatus::not_found) c.provider.confidence = Confidence::medium;
    }
    c.provider.enforces_network_policy = agent_on.value_or(false) && controller_on.value_or(true);
    if (agent_on.value_or(false) && !controller_on) {
      c.provider.confidence = lowest(c.provider.confidence, Confidence::medium);
    }
    add(c.provider.enforces_network_policy
            ? "AWS VPC CNI network policy agent enabled: NetworkPolicy enforced; policy events go "
              "to a node file or CloudWatch, not pod logs"
            : "AWS VPC CNI network policy not enabled: NetworkPolicy is not enforced");
    return c;
  }

  // kind enforces NetworkPolicy since v0.24.0 (kube-network-policies, shipped with kindnetd
  // v20240813); earlier kindnetd images ignore policies.
  Candidate kindnet(const json& ds) {
    const auto containers = containers_of(ds);
    const json* cni = main_container(containers, "kindnet-cni");
    const std::string image = cni ? str_at(*cni, "/image") : std::string();
    Candidate c = base(ds, ProviderName::kindnet, image, 10, {});
    const auto tag = image_tag(image).value_or("");
    std::optional<bool> enforces;
    // Date tags: v20240813-c6f155d6. Release tags of the standalone kindnet: v1.3.0+.
    if (tag.size() >= 9 && tag[0] == 'v' &&
        std::all_of(tag.begin() + 1, tag.begin() + 9,
                    [](char ch) { return std::isdigit(static_cast<unsigned char>(ch)); })) {
      enforces = tag.substr(1, 8) >= names::k_kindnet_policy_date;
      add(fmt::format("kindnetd image {} is {} {} (kind v0.24.0): NetworkPolicy {}", tag,
                      *enforces ? "at or after" : "before", names::k_kindnet_policy_date,
                      *enforces ? "enforced" : "not enforced"));
    } else if (auto v = version_from_image(image); v && !v->empty() && std::isdigit((*v)[0])) {
      int major = 0, minor = 0;
      if (std::sscanf(v->c_str(), "%d.%d", &major, &minor) == 2) {
        enforces = major > 1 || (major == 1 && minor >= 3);
        add(fmt::format("kindnet release {}: NetworkPolicy {} (since v1.3.0)", *v,
                        *enforces ? "enforced" : "not enforced"));
      }
    }
    if (m_kube_network_policies != nullptr) {
      enforces = true;
      add(fmt::format("daemonset {} enforces NetworkPolicy for kindnet",
                      ns_name(*m_kube_network_policies)));
    }
    if (!enforces) {
      c.provider.confidence = Confidence::medium;
      add(fmt::format("kindnetd image tag '{}' does not tell whether NetworkPolicy is enforced; "
                      "assuming not",
                      tag));
    }
    c.provider.enforces_network_policy = enforces.value_or(false);
    return c;
  }

  // k3s runs its policy controller inside the server process: no pods to find. Server nodes
  // carry their command line in annotation k3s.io/node-args.
  Candidate k3s_provider() {
    Candidate c;
    c.rank = 11;
    c.provider.name = ProviderName::k3s;
    c.provider.enforces_network_policy = true;
    std::string v = m_d.kubernetes_version;
    if (!v.empty() && v[0] == 'v') v.erase(0, 1);
    if (!v.empty()) c.provider.version = v;
    bool args_seen = false;
    if (m_e.nodes) {
      for (const auto& node : *m_e.nodes) {
        const std::string args = annotation(node, names::k_k3s_node_args_annotation);
        if (args.empty()) continue;
        const auto parsed = json::parse(args, nullptr, false);
        if (!parsed.is_array() || parsed.empty() || parsed[0] != "server") continue;
        args_seen = true;
        const bool disabled = std::any_of(parsed.begin(), parsed.end(), [](const json& a) {
          return a == "--disable-network-policy" || a == "--disable-network-policy=true";
        });
        c.provider.enforces_network_policy = !disabled;
        add(fmt::format("node {} annotation {}: {} (embedded NetworkPolicy controller {})",
                        str_at(node, "/metadata/name"), names::k_k3s_node_args_annotation, args,
                        disabled ? "disabled" : "on"));
        break;
      }
    }
    if (!args_seen) {
      c.provider.confidence = Confidence::medium;
      add("k3s server arguments not visible: assuming the embedded NetworkPolicy controller is on "
          "(the k3s default)");
    }
    return c;
  }

  void add(std::string line) { add_evidence(m_d, std::move(line)); }

  const Evidence& m_e;
  Detection& m_d;
  const json* m_kube_network_policies = nullptr;
};

} // namespace

void decide_providers(const Evidence& evidence, Detection& detection) {
  ProviderRules rules(evidence, detection);
  rules.decide();
  rules.note_calico_api();
}

std::vector<std::pair<std::string, std::string>>
config_maps_for(const std::vector<nlohmann::json>& daemon_sets) {
  std::vector<std::pair<std::string, std::string>> wanted;
  auto want = [&](std::string ns, const char* name) {
    std::pair<std::string, std::string> key{std::move(ns), name};
    if (std::find(wanted.begin(), wanted.end(), key) == wanted.end()) wanted.push_back(key);
  };
  for (const auto& ds : daemon_sets) {
    const std::string name = str_at(ds, "/metadata/name");
    const std::string ns = str_at(ds, "/metadata/namespace");
    const auto containers = containers_of(ds);
    // GKE's anetd carries a cilium-config too, but nothing in it changes the verdict.
    if (name == "anetd") continue;
    if (container_named(containers, "cilium-agent") != nullptr ||
        label(ds, "k8s-app") == "cilium") {
      want(ns, names::k_cilium_config);
    } else if (name == "aws-node" || label(ds, "k8s-app") == "aws-node") {
      want(ns, names::k_amazon_vpc_cni_config);
    }
  }
  return wanted;
}

std::optional<std::pair<std::string, std::string>>
flowlog_config_for(const std::string& namespace_name, const nlohmann::json& cilium_config) {
  if (str_at(cilium_config, "/data/hubble-flowlogs-config-path").empty()) return std::nullopt;
  return std::make_pair(namespace_name, std::string(names::k_cilium_flowlog_config));
}

} // namespace netpol::detect
