#include "detect/detection.hpp"

#include <array>
#include <utility>

#include <fmt/format.h>

namespace netpol::detect {
namespace {

constexpr std::array<std::pair<Flavor, std::string_view>, 8> k_flavors = {{
    {Flavor::gke, "gke"},
    {Flavor::eks, "eks"},
    {Flavor::aks, "aks"},
    {Flavor::openshift, "openshift"},
    {Flavor::k3s, "k3s"},
    {Flavor::kind, "kind"},
    {Flavor::minikube, "minikube"},
    {Flavor::generic, "generic"},
}};

constexpr std::array<std::pair<ProviderName, std::string_view>, 14> k_providers = {{
    {ProviderName::cilium, "cilium"},
    {ProviderName::gke_dataplane_v2, "gke-dataplane-v2"},
    {ProviderName::calico, "calico"},
    {ProviderName::canal, "canal"},
    {ProviderName::weave, "weave"},
    {ProviderName::kube_router, "kube-router"},
    {ProviderName::antrea, "antrea"},
    {ProviderName::aws_vpc_cni, "aws-vpc-cni"},
    {ProviderName::azure_npm, "azure-npm"},
    {ProviderName::flannel, "flannel"},
    {ProviderName::ovn_kubernetes, "ovn-kubernetes"},
    {ProviderName::kindnet, "kindnet"},
    {ProviderName::k3s, "k3s"},
    {ProviderName::none, "none"},
}};

template <class Enum, size_t N>
std::optional<Enum> lookup(const std::array<std::pair<Enum, std::string_view>, N>& table,
                           std::string_view text) {
  for (const auto& [value, name] : table) {
    if (name == text) return value;
  }
  return std::nullopt;
}

template <class Enum, size_t N>
std::string_view name_of(const std::array<std::pair<Enum, std::string_view>, N>& table,
                         Enum value) {
  for (const auto& [v, name] : table) {
    if (v == value) return name;
  }
  return "unknown";
}

std::optional<Confidence> parse_confidence(std::string_view text) {
  if (text == "high") return Confidence::high;
  if (text == "medium") return Confidence::medium;
  if (text == "low") return Confidence::low;
  return std::nullopt;
}

nlohmann::ordered_json provider_json(const Provider& p) {
  nlohmann::ordered_json j;
  j["name"] = to_string(p.name);
  j["version"] = p.version ? nlohmann::ordered_json(*p.version) : nlohmann::ordered_json();
  j["namespace"] =
      p.namespace_name ? nlohmann::ordered_json(*p.namespace_name) : nlohmann::ordered_json();
  j["enforces_network_policy"] = p.enforces_network_policy;
  j["audit_mode"] = p.audit_mode;
  j["drop_log_source"] = to_string(p.drop_log_source);
  j["ready"] = p.ready ? nlohmann::ordered_json(*p.ready) : nlohmann::ordered_json();
  j["confidence"] = to_string(p.confidence);
  return j;
}

std::optional<Provider> provider_from_json(const nlohmann::json& j) {
  if (!j.is_object() || !j.contains("name") || !j["name"].is_string()) return std::nullopt;
  Provider p;
  auto name = parse_provider_name(j["name"].get<std::string>());
  if (!name) return std::nullopt;
  p.name = *name;
  if (j.contains("version") && j["version"].is_string()) p.version = j["version"];
  if (j.contains("namespace") && j["namespace"].is_string()) p.namespace_name = j["namespace"];
  p.enforces_network_policy = j.value("enforces_network_policy", false);
  p.audit_mode = j.value("audit_mode", false);
  if (j.value("drop_log_source", "none") == "hubble-export-stdout") {
    p.drop_log_source = DropLogSource::hubble_export_stdout;
  }
  if (j.contains("ready") && j["ready"].is_boolean()) p.ready = j["ready"].get<bool>();
  p.confidence = parse_confidence(j.value("confidence", "high")).value_or(Confidence::high);
  return p;
}

// A dotenv value: GitLab takes the rest of the line verbatim, so keep to one safe line.
std::string dotenv_value(std::string_view v) {
  std::string out;
  for (char c : v) {
    const bool safe = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' ||
                      c == '_' || c == '+' || c == '/' || c == ':';
    if (safe) out += c;
  }
  return out.substr(0, 128);
}

std::string describe_provider(const Provider& p) {
  std::string s(to_string(p.name));
  if (p.version) s += " " + *p.version;
  if (p.namespace_name) s += " in " + *p.namespace_name;
  return s;
}

} // namespace

std::string_view to_string(Flavor flavor) {
  return name_of(k_flavors, flavor);
}
std::string_view to_string(ProviderName name) {
  return name_of(k_providers, name);
}
std::string_view to_string(DropLogSource source) {
  return source == DropLogSource::hubble_export_stdout ? "hubble-export-stdout" : "none";
}
std::string_view to_string(Confidence confidence) {
  switch (confidence) {
  case Confidence::high: return "high";
  case Confidence::medium: return "medium";
  case Confidence::low: return "low";
  }
  return "low";
}
std::optional<Flavor> parse_flavor(std::string_view text) {
  return lookup(k_flavors, text);
}
std::optional<ProviderName> parse_provider_name(std::string_view text) {
  return lookup(k_providers, text);
}

nlohmann::ordered_json Detection::to_json() const {
  nlohmann::ordered_json j;
  j["kubernetes_version"] = kubernetes_version;
  j["flavor"] = to_string(flavor);
  j["provider"] = provider_json(provider);
  j["other_providers"] = nlohmann::ordered_json::array();
  for (const auto& p : other_providers) {
    j["other_providers"].push_back(provider_json(p));
  }
  j["cluster_network_policies"] = nlohmann::ordered_json::array();
  for (const auto& c : cluster_network_policies) {
    nlohmann::ordered_json cj;
    cj["api_version"] = c.api_version;
    cj["kind"] = c.kind;
    cj["name"] = c.name;
    cj["tier"] = c.tier;
    cj["priority"] = c.priority ? nlohmann::ordered_json(*c.priority) : nullptr;
    j["cluster_network_policies"].push_back(std::move(cj));
  }
  j["evidence"] = evidence;
  j["confidence"] = to_string(confidence);
  j["flavor_confidence"] = to_string(flavor_confidence);
  return j;
}

std::optional<Detection> Detection::from_json(const nlohmann::json& j) {
  if (!j.is_object() || !j.contains("flavor") || !j.contains("provider")) return std::nullopt;
  Detection d;
  d.kubernetes_version = j.value("kubernetes_version", "");
  auto flavor =
      j["flavor"].is_string() ? parse_flavor(j["flavor"].get<std::string>()) : std::nullopt;
  auto provider = provider_from_json(j["provider"]);
  if (!flavor || !provider) return std::nullopt;
  d.flavor = *flavor;
  d.provider = *provider;
  if (j.contains("other_providers") && j["other_providers"].is_array()) {
    for (const auto& o : j["other_providers"]) {
      auto p = provider_from_json(o);
      if (!p) return std::nullopt;
      d.other_providers.push_back(*p);
    }
  }
  if (j.contains("cluster_network_policies") && j["cluster_network_policies"].is_array()) {
    for (const auto& c : j["cluster_network_policies"]) {
      if (!c.is_object()) return std::nullopt;
      ClusterPolicy p;
      p.api_version = c.value("api_version", "");
      p.kind = c.value("kind", "");
      p.name = c.value("name", "");
      p.tier = c.value("tier", "");
      if (c.contains("priority") && c["priority"].is_number_integer()) {
        p.priority = c["priority"].get<int64_t>();
      }
      d.cluster_network_policies.push_back(std::move(p));
    }
  }
  if (j.contains("evidence") && j["evidence"].is_array()) {
    for (const auto& e : j["evidence"]) {
      if (e.is_string()) d.evidence.push_back(e.get<std::string>());
    }
  }
  d.confidence = parse_confidence(j.value("confidence", "high")).value_or(Confidence::high);
  d.flavor_confidence =
      parse_confidence(j.value("flavor_confidence", "high")).value_or(Confidence::high);
  return d;
}

std::string Detection::to_dotenv() const {
  std::string out;
  auto line = [&](std::string_view key, std::string_view value) {
    out += fmt::format("{}={}\n", key, dotenv_value(value));
  };
  line("NETPOL_FLAVOR", to_string(flavor));
  line("NETPOL_PROVIDER", to_string(provider.name));
  line("NETPOL_PROVIDER_VERSION", provider.version.value_or(""));
  line("NETPOL_ENFORCES", provider.enforces_network_policy ? "true" : "false");
  line("NETPOL_AUDIT_MODE", provider.audit_mode ? "true" : "false");
  line("NETPOL_DROP_LOG_SOURCE", to_string(provider.drop_log_source));
  return out;
}

std::string Detection::to_text() const {
  std::string out;
  auto row = [&](std::string_view key, const std::string& value) {
    out += fmt::format("{:<12} {}\n", key, value);
  };
  row("Kubernetes", kubernetes_version.empty() ? "(unknown)" : kubernetes_version);
  row("Flavor", std::string(to_string(flavor)));
  row("Provider",
      describe_provider(provider) +
          (provider.ready.has_value() && !*provider.ready ? " (not all agents ready)" : ""));
  row("Enforces", std::string(provider.enforces_network_policy
                                  ? (provider.audit_mode ? "no: audit mode (denials are logged, "
                                                           "traffic passes)"
                                                         : "yes")
                                  : "no"));
  row("Drop log", std::string(to_string(provider.drop_log_source)));
  for (const auto& p : other_providers) {
    row("Also", describe_provider(p) + (p.enforces_network_policy ? " (enforces)" : ""));
  }
  for (const auto& c : cluster_network_policies) {
    row("Cluster", fmt::format("{} {} (tier {}{})", c.kind, c.name, c.tier,
                               c.priority ? fmt::format(", priority {}", *c.priority) : ""));
  }
  row("Confidence", std::string(to_string(confidence)));
  out += "Evidence\n";
  for (const auto& e : evidence) {
    out += "  - " + e + "\n";
  }
  return out;
}

} // namespace netpol::detect
