#include "cilium/values.hpp"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

#include "cilium/defaults.hpp"
#include "cilium/values_diff.hpp"
#include "cilium/version.hpp"
#include "util/yaml.hpp"

namespace netpol::cilium {
namespace {

using nlohmann::json;

// Providers that enforce NetworkPolicy whenever they run (the `enforces` flag of detection
// covers the primary provider; for the others the name is all we have).
bool always_enforces(const std::string& name) {
  static const std::vector<std::string> k_enforcers = {
      "cilium",      "gke-dataplane-v2", "calico",    "canal",          "weave",
      "kube-router", "antrea",           "azure-npm", "ovn-kubernetes",
  };
  return std::find(k_enforcers.begin(), k_enforcers.end(), name) != k_enforcers.end();
}

// A refusal: one line saying why, and what to do about it.
struct Refusal {
  std::string reason;
  std::vector<std::string> guidance;
  bool forceable = true;
  // About the datapath a new install would choose: moot on an upgrade, which keeps the
  // release's datapath.
  bool new_install_only = false;
};

class Decider {
public:
  Decider(const Platform& platform, const Request& request) : m_p(platform), m_r(request) {}

  Result<Decision> run();

private:
  bool has_provider(const std::string& name) const {
    if (m_p.provider.name == name) return true;
    return std::any_of(m_p.other_providers.begin(), m_p.other_providers.end(),
                       [&](const ProviderInfo& p) { return p.name == name; });
  }
  const ProviderInfo* find_provider(const std::string& name) const {
    if (m_p.provider.name == name) return &m_p.provider;
    for (const auto& p : m_p.other_providers) {
      if (p.name == name) return &p;
    }
    return nullptr;
  }
  void refuse(std::string reason, std::vector<std::string> guidance, bool forceable = true,
              bool new_install_only = false) {
    m_refusals.push_back(
        Refusal{std::move(reason), std::move(guidance), forceable, new_install_only});
  }

  void check_dataplane_v2();
  void check_other_enforcers();
  void tunnel();
  void gke();
  void eks();
  void aks();
  void kind_like();
  void k3s();
  void openshift();
  void generic();
  void audit_mode_and_hubble();
  void export_forwarded(json& values);
  void upgrade_values();
  void versions();

  const Platform& m_p;
  const Request& m_r;
  Decision m_d;
  std::vector<Refusal> m_refusals;
};

void Decider::check_dataplane_v2() {
  if (has_provider("gke-dataplane-v2")) {
    refuse("GKE Dataplane V2 runs Google's own Cilium (DaemonSet kube-system/anetd) and "
           "always enforces NetworkPolicy; a second Cilium cannot run beside it",
           {"NetworkPolicy is enforced already: skip install-cilium and apply policies.",
            "For flow logs use GKE network policy logging or Dataplane V2 observability."});
  }
}

// Enforcers other than Cilium, after the flavour rules (whose messages are more precise).
void Decider::check_other_enforcers() {
  std::vector<ProviderInfo> all = {m_p.provider};
  all.insert(all.end(), m_p.other_providers.begin(), m_p.other_providers.end());
  const auto& f = m_p.flavor;
  for (size_t i = 0; i < all.size(); ++i) {
    const auto& p = all[i];
    if (p.name == "cilium" || p.name == "none" || p.name.empty() || p.name == "gke-dataplane-v2") {
      continue;
    }
    // The flavour rules handle their platform's own provider: they know what to ask for.
    if ((f == "eks" && p.name == "aws-vpc-cni") || (f == "k3s" && p.name == "k3s") ||
        ((f == "kind" || f == "minikube") && p.name == "kindnet") ||
        (f == "aks" && m_p.provider.name == p.name)) {
      continue;
    }
    // Detection says whether the primary provider enforces; for the others the name is all
    // there is.
    const bool enforces = i == 0 ? p.enforces : (p.enforces || always_enforces(p.name));
    if (enforces) {
      refuse(fmt::format("{} already enforces NetworkPolicy here; with Cilium beside it two "
                         "providers would enforce (and fight over the CNI configuration)",
                         p.name),
             {fmt::format("Keep {}: NetworkPolicy works with it, apply policies without "
                          "install-cilium.",
                          p.name),
              fmt::format("Or remove {} first, then run install-cilium again.", p.name)});
    }
  }
}

void Decider::tunnel() {
  m_d.values["routingMode"] = "tunnel";
  m_d.values["tunnelProtocol"] = "vxlan";
  m_d.datapath = "tunnel (vxlan)";
}

void Decider::gke() {
  std::optional<std::string> cidr = m_r.native_routing_cidr;
  if (!cidr && m_r.user_values.contains("ipv4NativeRoutingCIDR") &&
      m_r.user_values["ipv4NativeRoutingCIDR"].is_string()) {
    cidr = m_r.user_values["ipv4NativeRoutingCIDR"].get<std::string>();
  }
  if (!cidr || cidr->empty()) {
    refuse("GKE needs the cluster's pod CIDR for native routing, and the Kubernetes API does "
           "not tell it",
           {"Pass --native-routing-cidr (CILIUM_NATIVE_ROUTING_CIDR) with the value of:",
            "  gcloud container clusters describe CLUSTER --location LOCATION "
            "--format 'value(clusterIpv4Cidr)'"},
           /*forceable=*/false, /*new_install_only=*/true);
    return;
  }
  json& v = m_d.values;
  v["routingMode"] = "native";
  v["ipv4NativeRoutingCIDR"] = *cidr;
  v["ipam"]["mode"] = "kubernetes";
  v["gke"]["enabled"] = true;
  v["gke"]["disableDefaultSnat"] = true;
  v["cni"]["binPath"] = "/home/kubernetes/bin";
  v["nodeinit"]["enabled"] = true;
  v["nodeinit"]["reconfigureKubelet"] = true;
  v["nodeinit"]["removeCbrBridge"] = true;
  m_d.datapath = fmt::format("GKE native routing ({})", *cidr);
}

void Decider::eks() {
  json& v = m_d.values;
  const ProviderInfo* aws = find_provider("aws-vpc-cni");
  if (m_r.eks_mode == EksMode::eni) {
    if (aws != nullptr) {
      refuse("ENI mode replaces the AWS VPC CNI, which still runs here (DaemonSet "
             "kube-system/aws-node)",
             {"Keep aws-node off the nodes first:",
              "  kubectl -n kube-system patch daemonset aws-node --type strategic -p "
              "'{\"spec\":{\"template\":{\"spec\":{\"nodeSelector\":{\"io.cilium/"
              "aws-node-enabled\":\"true\"}}}}}'",
              "Or use the default --eks-mode chaining, which keeps the VPC CNI."},
             /*forceable=*/true, /*new_install_only=*/true);
    }
    v["eni"]["enabled"] = true;
    v["ipam"]["mode"] = "eni";
    v["routingMode"] = "native";
    m_d.datapath = "AWS ENI (Cilium IPAM, native routing)";
    return;
  }
  if (aws == nullptr) {
    refuse("chaining on aws-cni needs the AWS VPC CNI (DaemonSet kube-system/aws-node), which "
           "is not running here",
           {"Use --eks-mode eni to run Cilium as the only CNI."}, /*forceable=*/true,
           /*new_install_only=*/true);
  } else if (aws->enforces) {
    refuse("the AWS VPC CNI enforces NetworkPolicy itself here (network policy agent on); "
           "chained Cilium would enforce a second time",
           {"Turn the VPC CNI's network policy off first (add-on setting "
            "enableNetworkPolicy: \"false\"),",
            "or keep it and apply policies without install-cilium."});
  }
  v["cni"]["chainingMode"] = "aws-cni";
  v["cni"]["exclusive"] = false;
  v["enableIPv4Masquerade"] = false;
  v["routingMode"] = "native";
  v["endpointRoutes"]["enabled"] = true;
  m_d.datapath = "chained on aws-cni (VPC CNI keeps IPAM and routing)";
}

void Decider::aks() {
  const auto& name = m_p.provider.name;
  if (name == "cilium" && !m_p.cilium_release) {
    return; // "Cilium not installed by Helm" is refused in run(), with AKS wording.
  }
  if (name != "none" && name != "cilium") {
    refuse(fmt::format("on AKS Cilium can be installed with Helm only in BYOCNI clusters "
                       "(network plugin none); this one runs {}",
                       name),
           {"Create the cluster with --network-plugin none, or use AKS's own "
            "'Azure CNI powered by Cilium' (--network-dataplane cilium)."});
  }
  m_d.values["aksbyocni"]["enabled"] = true;
  tunnel();
  m_d.datapath = "AKS BYOCNI, tunnel (vxlan)";
  if (name == "none") {
    m_d.notes.push_back("AKS: no network provider runs, so this is taken to be a BYOCNI "
                        "cluster (the Kubernetes API cannot tell)");
  }
}

void Decider::kind_like() {
  if (has_provider("kindnet")) {
    refuse(fmt::format("this {} cluster runs kindnet; Cilium needs a cluster without the "
                       "default CNI",
                       m_p.flavor),
           {m_p.flavor == "kind"
                ? "Create the cluster with 'networking: {disableDefaultCNI: true}' in its kind "
                  "config."
                : "Start minikube with --cni=cilium or --network-plugin=cni and no CNI."});
  }
  m_d.values["ipam"]["mode"] = "kubernetes";
  tunnel();
}

void Decider::k3s() {
  if (has_provider("k3s") || has_provider("flannel")) {
    refuse("k3s runs flannel and its NetworkPolicy controller inside the k3s process; Cilium "
           "needs both off",
           {"Start k3s with --flannel-backend=none --disable-network-policy (usually also "
            "--disable-kube-proxy),",
            "then run install-cilium again."});
  }
  m_d.values["ipam"]["mode"] = "kubernetes";
  tunnel();
}

void Decider::openshift() {
  refuse("OpenShift's network is owned by its Cluster Network Operator; Cilium goes in through "
         "the certified Cilium OLM operator when the cluster is installed, not with Helm",
         {"Install Cilium with the cluster (networkType: Cilium) using the Cilium OLM operator."});
  tunnel();
}

void Decider::generic() {
  tunnel();
  if (has_provider("flannel") && m_p.provider.name != "cilium") {
    m_d.notes.push_back(
        "flannel keeps running: Cilium takes over the CNI configuration on each node "
        "(cni.exclusive); remove flannel once every pod has been restarted");
  }
}

// Minor version from "1.19.5", "v1.18.0-rc.1"; -1 when unknown.
int chart_minor(const std::optional<std::string>& version) {
  if (!version) return -1;
  const auto v = parse_version(*version);
  if (!v || v->major != 1) return -1;
  return v->minor;
}

bool truthy(const json& v) {
  return v.is_boolean() ? v.get<bool>() : (v.is_string() && v == "true");
}

const json* find(const json& values, const char* pointer) {
  const json::json_pointer ptr(pointer);
  return values.contains(ptr) ? &values.at(ptr) : nullptr;
}

// The running datapath in one line, from the release's values (absent keys: the chart's
// defaults, tunnel with vxlan and cluster-pool IPAM).
std::string describe_datapath(const json& v) {
  auto text = [&](const char* pointer, const char* fallback) {
    const json* found = find(v, pointer);
    if (found == nullptr || (found->is_string() && found->get<std::string>().empty())) {
      return std::string(fallback);
    }
    return found->is_string() ? found->get<std::string>() : found->dump();
  };
  std::string out = text("/routingMode", "tunnel (chart default)");
  if (out.rfind("tunnel", 0) == 0) {
    out += ", " + text("/tunnelProtocol", "vxlan");
  }
  out += ", IPAM " + text("/ipam/mode", "cluster-pool");
  if (const json* chaining = find(v, "/cni/chainingMode");
      chaining != nullptr && chaining->is_string() && *chaining != "" && *chaining != "none") {
    out += ", chained on " + chaining->get<std::string>();
  }
  if (const json* kpr = find(v, "/kubeProxyReplacement"); kpr != nullptr && truthy(*kpr)) {
    out += ", kube-proxy replacement";
  }
  return "kept from the release: " + out;
}

void Decider::audit_mode_and_hubble() {
  json& v = m_d.values;
  if (m_r.audit_mode) {
    m_d.audit_mode = *m_r.audit_mode;
    m_d.audit_mode_source = "requested";
  } else if (m_d.upgrade && m_p.existing_audit_mode) {
    m_d.audit_mode = *m_p.existing_audit_mode;
    m_d.audit_mode_source = "kept from the running Cilium";
  } else {
    m_d.audit_mode = true;
    m_d.audit_mode_source = "default";
  }
  v["policyAuditMode"] = m_d.audit_mode;
  // One operator replica: the chart's two replicas repel each other, so on a one-node
  // cluster the second never schedules and the install never becomes ready.
  v["operator"]["replicas"] = 1;
  // Audit mode and the flow export are read by the agent at start only: roll the agents
  // whenever cilium-config changes, so an upgrade takes effect without a manual restart.
  v["rollOutCiliumPods"] = true;
  v["hubble"]["enabled"] = true;
  v["hubble"]["relay"]["enabled"] = true;
  json& exported = v["hubble"]["export"]["static"];
  exported["enabled"] = true;
  exported["filePath"] = "stdout";
  exported["allowList"] = json::array({defaults::k_export_allowlist});
  if (m_r.export_forwarded) export_forwarded(v);

  const int minor = chart_minor(m_p.chart_version);
  if (minor >= 0 && minor < defaults::k_min_minor_for_stdout_export) {
    m_d.notes.push_back(fmt::format(
        "chart {} predates Cilium 1.{}: its agents cannot export flows to stdout, so the drop "
        "log will stay empty",
        *m_p.chart_version, defaults::k_min_minor_for_stdout_export));
  }
}

// --export-forwarded: FORWARDED flows join the export. Charts that aggregate (1.19+) get the
// aggregation keys, their interval and a field mask of the same fields, each only where the
// values do not set it already (an upgrade keeps the operator's); older charts export every
// forwarded flow as a line, which the note prices.
void Decider::export_forwarded(json& v) {
  json& exported = v["hubble"]["export"]["static"];
  json& allow = exported["allowList"];
  if (!allow.is_array()) allow = json::array();
  if (std::find(allow.begin(), allow.end(), json(defaults::k_export_forwarded_filter)) ==
      allow.end()) {
    allow.push_back(defaults::k_export_forwarded_filter);
  }
  const auto unset = [](const json& object, const char* key) {
    return !object.contains(key) || object[key].is_null() ||
           (object[key].is_array() && object[key].empty());
  };
  const int minor = chart_minor(m_p.chart_version);
  if (minor < defaults::k_min_minor_for_export_aggregation) {
    m_d.notes.push_back(fmt::format(
        "--export-forwarded on chart {}: Cilium aggregates exported flows from 1.{} on only, so "
        "every forwarded flow is one line of about 1.3 KB in the agent log (1,500 flows/s on a "
        "busy node are about 2 MB/s, and the kubelet's 10 MiB log file rotates in seconds, "
        "taking drop lines out of the drop log's reach)",
        m_p.chart_version.value_or("of unknown version"),
        defaults::k_min_minor_for_export_aggregation));
    return;
  }
  json fields = json::array();
  for (const char* field : defaults::k_export_aggregate_fields)
    fields.push_back(field);
  if (unset(exported, "fieldAggregate")) exported["fieldAggregate"] = fields;
  if (unset(exported, "fieldMask")) {
    json mask = json::array({"time"});
    mask.insert(mask.end(), fields.begin(), fields.end());
    exported["fieldMask"] = std::move(mask);
  }
  if (unset(exported, "aggregationInterval")) {
    exported["aggregationInterval"] = defaults::k_export_aggregation_interval;
  }
  // The interval the charts render (hubble-export-aggregation-interval).
  if (unset(v["hubble"]["export"], "aggregationInterval")) {
    v["hubble"]["export"]["aggregationInterval"] = exported["aggregationInterval"];
  }
}

// An upgrade: the release's values, with only what netpol needs changed.
void Decider::upgrade_values() {
  json v = m_p.release_values.is_object() ? m_p.release_values : json::object();
  m_d.previous_values = v;

  if (m_r.audit_mode) {
    m_d.audit_mode = *m_r.audit_mode;
    m_d.audit_mode_source = "requested";
    // Off where the release has no key and nothing runs in audit mode is what the chart
    // renders anyway: writing it would change cilium-config and restart every agent for
    // nothing.
    const bool already_off = find(v, "/policyAuditMode") == nullptr &&
                             !m_p.existing_audit_mode.value_or(false) && !m_d.audit_mode;
    if (!already_off) v["policyAuditMode"] = m_d.audit_mode;
  } else if (const json* kept = find(v, "/policyAuditMode"); kept != nullptr) {
    m_d.audit_mode = truthy(*kept);
    m_d.audit_mode_source = "kept from the release";
  } else if (m_p.existing_audit_mode.value_or(false)) {
    // Switched on outside the release's values (cilium-config edited): the chart would
    // render it off, so say it.
    m_d.audit_mode = true;
    m_d.audit_mode_source = "kept from the running Cilium";
    v["policyAuditMode"] = true;
  } else {
    m_d.audit_mode = false;
    m_d.audit_mode_source = "kept from the running Cilium";
  }

  // The drop log reads the export from the agents' stdout. An export to stdout with no
  // allowlist exports every flow, drops included: nothing to change then.
  // hubble.enabled is true by default in every chart netpol supports: only a release that
  // switched Hubble off gets it written. Writing the default would count as a change, and a
  // change rolls every agent although cilium-config stays the same.
  if (const json* enabled = find(v, "/hubble/enabled"); enabled != nullptr && !truthy(*enabled)) {
    v["hubble"]["enabled"] = true;
  }
  json& exported = v["hubble"]["export"]["static"];
  if (!exported.is_object()) exported = json::object();
  const bool to_stdout = exported.value("enabled", false) == true &&
                         exported.value("filePath", std::string()) == "stdout";
  json allow = exported.contains("allowList") && exported["allowList"].is_array()
                   ? exported["allowList"]
                   : json::array();
  if (!to_stdout || !allow.empty()) {
    exported["enabled"] = true;
    exported["filePath"] = "stdout";
    // Filters of an allowlist are alternatives: adding netpol's keeps the operator's.
    if (std::find(allow.begin(), allow.end(), json(defaults::k_export_allowlist)) == allow.end()) {
      allow.push_back(defaults::k_export_allowlist);
    }
    exported["allowList"] = allow;
    if (m_r.export_forwarded) export_forwarded(v);
  }

  const bool config_changes = v != m_d.previous_values;
  if (config_changes) {
    // What netpol changes is read by the agents at start: they must restart to see it.
    const json* roll = find(v, "/rollOutCiliumPods");
    if (roll == nullptr) {
      v["rollOutCiliumPods"] = true;
      m_d.agents_restart = true;
      m_d.restart_reason = "cilium-config changes, so the agents restart to read it";
    } else if (truthy(*roll)) {
      m_d.agents_restart = true;
      m_d.restart_reason = "cilium-config changes, so the agents restart to read it";
    } else {
      m_d.restart_reason = "cilium-config changes, but rollOutCiliumPods is false: the agents "
                           "keep the old settings until they restart";
      m_d.notes.push_back(
          "rollOutCiliumPods is false in the release: the agents read the new export and audit "
          "mode only after 'kubectl -n <namespace> rollout restart daemonset/cilium'");
    }
  } else {
    m_d.restart_reason = "nothing the agents read changes, so they keep running";
  }
  m_d.values = std::move(v);
  m_d.datapath = describe_datapath(m_d.values);
}

// The chart against the release's and the supported lines.
void Decider::versions() {
  const auto chart = m_p.chart_version ? parse_version(*m_p.chart_version) : std::nullopt;
  if (chart && !is_supported_line(*chart) && !is_test_build(*chart)) {
    m_d.notes.push_back(fmt::format("chart {} is outside the Cilium lines netpol supports ({})",
                                    chart->text, supported_lines()));
  }
  if (const auto old =
          m_p.running_version ? older_than_supported(*m_p.running_version) : std::nullopt) {
    m_d.notes.push_back(*old + ": upgrade it one minor version at a time");
  }
  if (!m_d.upgrade) return;
  const auto before =
      m_p.release_chart_version ? parse_version(*m_p.release_chart_version) : std::nullopt;
  if (!chart || !before) return;
  if (chart->compare(*before) < 0) {
    refuse(fmt::format("the release runs chart {}, newer than chart {} that would be installed: "
                       "that would downgrade Cilium",
                       before->text, chart->text),
           {fmt::format("Pass --cilium-version {} or newer with a repository or OCI chart "
                        "(--chart), or keep the running Cilium.",
                        before->text)});
    return;
  }
  if (chart->compare(*before) > 0) {
    m_d.agents_restart = true;
    m_d.restart_reason = fmt::format("chart {} -> {}: the agents restart with the new version",
                                     before->text, chart->text);
    if (chart->major == before->major && chart->minor > before->minor + 1) {
      m_d.notes.push_back(fmt::format(
          "chart {} -> {} skips a minor version; Cilium supports upgrading one minor at a time",
          before->text, chart->text));
    }
  }
}

Result<Decision> Decider::run() {
  m_d.values = json::object();
  m_d.upgrade = m_p.cilium_release;

  check_dataplane_v2();
  if (m_p.provider.name == "cilium" && !m_p.cilium_release) {
    refuse(m_p.flavor == "aks"
               ? "Cilium runs here but not as Helm release kube-system/cilium: on AKS that is "
                 "'Azure CNI powered by Cilium', which AKS manages"
               : "Cilium runs here but not as Helm release kube-system/cilium; upgrading it "
                 "from here would fight whatever installed it",
           {"Let its owner set policy-audit-mode and the Hubble export "
            "(hubble-export-file-path: stdout) in ConfigMap cilium-config."});
  }

  const auto& f = m_p.flavor;
  if (f == "gke") {
    gke();
  } else if (f == "eks") {
    eks();
  } else if (f == "aks") {
    aks();
  } else if (f == "kind" || f == "minikube") {
    kind_like();
  } else if (f == "k3s") {
    k3s();
  } else if (f == "openshift") {
    openshift();
  } else {
    generic();
  }
  check_other_enforcers();
  if (m_d.upgrade) {
    upgrade_values();
  } else {
    audit_mode_and_hubble();
  }
  versions();

  for (const auto& r : m_refusals) {
    if (m_d.upgrade && r.new_install_only) continue;
    if (!r.forceable || !m_r.force) {
      Error e(ErrorCode::config, "refusing to install Cilium: " + r.reason);
      e.details = r.guidance;
      if (r.forceable) {
        e.details.push_back("--force installs anyway.");
      }
      return fail(std::move(e));
    }
    m_d.notes.push_back("--force: installing although " + r.reason);
  }

  if (!m_d.upgrade && m_p.provider.name != "cilium") {
    m_d.notes.push_back("pods started before Cilium are not managed by it until they are "
                        "restarted (see the unmanaged pods listed after the install)");
  }

  if (!m_r.user_values.empty()) {
    m_d.values = merge_values(std::move(m_d.values), m_r.user_values);
    if (m_r.user_values.contains("policyAuditMode")) {
      m_d.audit_mode = truthy(m_d.values["policyAuditMode"]);
      m_d.audit_mode_source = "values file";
    }
    if (m_d.upgrade) {
      for (const auto& key : datapath_keys()) {
        const json::json_pointer ptr(key);
        const json* before =
            m_d.previous_values.contains(ptr) ? &m_d.previous_values.at(ptr) : nullptr;
        const json* after = m_d.values.contains(ptr) ? &m_d.values.at(ptr) : nullptr;
        if ((before == nullptr) != (after == nullptr) || (before != nullptr && *before != *after)) {
          m_d.notes.push_back(fmt::format(
              "the values file changes the datapath of the running release ({}): the agents "
              "restart and connections may break while they do",
              key.substr(1)));
        }
      }
    }
  }
  if (m_d.upgrade) {
    m_d.changes = changed_keys(m_d.previous_values, m_d.values);
    if (!m_d.changes.empty() && !m_d.agents_restart &&
        m_d.restart_reason.rfind("nothing", 0) == 0) {
      // Only the values file changes something; whether the agents read it, the rendered
      // cilium-config decides.
      m_d.restart_reason = "the values file changes the release; the agents restart if "
                           "cilium-config changes (rollOutCiliumPods)";
    }
  }
  return m_d;
}

} // namespace

const std::vector<std::string>& datapath_keys() {
  static const std::vector<std::string> k_keys = {
      "/routingMode",
      "/tunnelProtocol",
      "/ipam",
      "/kubeProxyReplacement",
      "/cni/chainingMode",
      "/cni/exclusive",
      "/ipv4NativeRoutingCIDR",
      "/ipv6NativeRoutingCIDR",
      "/autoDirectNodeRoutes",
      "/eni",
      "/azure",
      "/aksbyocni",
      "/gke",
      "/enableIPv4Masquerade",
      "/bpf/masquerade",
      "/endpointRoutes",
      "/bandwidthManager",
  };
  return k_keys;
}

const char* to_string(EksMode mode) {
  switch (mode) {
  case EksMode::chaining: return "chaining";
  case EksMode::eni: return "eni";
  }
  return "chaining";
}

Result<Decision> decide_values(const Platform& platform, const Request& request) {
  return Decider(platform, request).run();
}

nlohmann::json merge_values(nlohmann::json base, const nlohmann::json& overlay) {
  if (!base.is_object() || !overlay.is_object()) {
    return overlay;
  }
  for (auto it = overlay.begin(); it != overlay.end(); ++it) {
    if (it.value().is_null()) {
      base.erase(it.key());
    } else if (base.contains(it.key()) && base[it.key()].is_object() && it.value().is_object()) {
      base[it.key()] = merge_values(std::move(base[it.key()]), it.value());
    } else {
      base[it.key()] = it.value();
    }
  }
  return base;
}

Result<nlohmann::json> load_values_file(const std::string& path) {
  auto docs = load_yaml_file(path, ErrorCode::config);
  if (!docs) {
    return fail(docs.error());
  }
  std::vector<const YamlDocument*> present;
  for (const auto& d : *docs) {
    if (!d.value.is_null()) present.push_back(&d);
  }
  if (present.empty()) {
    return nlohmann::json::object();
  }
  if (present.size() > 1) {
    return fail(ErrorCode::config,
                fmt::format("{}: a values file holds one YAML document, this one has {}",
                            present[1]->where(), present.size()));
  }
  if (!present.front()->value.is_object()) {
    return fail(ErrorCode::config,
                fmt::format("{}: Helm values must be a mapping, not {}", present.front()->where(),
                            present.front()->value.type_name()));
  }
  return present.front()->value;
}

} // namespace netpol::cilium
