// The raw facts detection decides from, as read from the cluster. Collecting them
// (collect.hpp) talks to the API server; classifying them (classify.hpp) is a pure function,
// so every rule is unit-tested from fixture files without a cluster.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace netpol::detect {

// What became of one read. A forbidden read is an answer (the token lacks the right), not
// an error: detection goes on with less evidence and lower confidence.
enum class ReadStatus { ok, not_found, forbidden, failed };

struct ReadOutcome {
  std::string what; // "list daemonsets (all namespaces)", "get configmap kube-system/cilium-config"
  ReadStatus status = ReadStatus::ok;
  std::string detail; // server message for forbidden/failed reads
};

// Where the kubeconfig points: cheap hints that need no request (cilium-cli checks 1-7).
struct Hints {
  std::string server;       // cluster server URL
  std::string context_name; // kubeconfig context
  std::string cluster_name; // kubeconfig cluster the context uses
};

struct Evidence {
  Hints hints;
  std::optional<nlohmann::json> version; // GET /version body; nullopt if unreadable
  std::optional<std::vector<std::string>>
      api_groups; // served API group names; nullopt if unreadable
  std::optional<std::vector<nlohmann::json>>
      nodes; // Node objects (maybe a sample); nullopt if unreadable
  // DaemonSets of every namespace, or of the well-known namespaces when the cluster-wide list
  // was forbidden (daemon_sets_partial); nullopt when no list could be read at all.
  std::optional<std::vector<nlohmann::json>> daemon_sets;
  bool daemon_sets_partial = false;
  // ConfigMaps that were asked for, keyed "namespace/name"; a not-found or forbidden read
  // has no entry here (see reads).
  std::map<std::string, nlohmann::json> config_maps;
  // Cluster-wide policies of policy.networking.k8s.io (ClusterNetworkPolicy,
  // AdminNetworkPolicy, BaselineAdminNetworkPolicy), as listed; empty when the group is not
  // served or the list was not readable (see reads).
  std::vector<nlohmann::json> cluster_policies;
  // Every read that did not simply succeed (plus the ones that did, for --log-level debug).
  std::vector<ReadOutcome> reads;

  // The outcome of the read whose `what` is given, or nullopt if it was not attempted.
  std::optional<ReadStatus> status_of(const std::string& what) const;
  const nlohmann::json* config_map(const std::string& namespace_name,
                                   const std::string& name) const;
};

// Read descriptions shared by collector and classifier ("what" of ReadOutcome).
std::string read_config_map(const std::string& namespace_name, const std::string& name);
inline constexpr const char* k_read_version = "get /version";
inline constexpr const char* k_read_api_groups = "discover api groups";
inline constexpr const char* k_read_nodes = "list nodes";
inline constexpr const char* k_read_daemon_sets = "list daemonsets (all namespaces)";
std::string read_daemon_sets_in(const std::string& namespace_name);

} // namespace netpol::detect
