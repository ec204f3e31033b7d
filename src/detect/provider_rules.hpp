// The provider rules: which network providers run, from their DaemonSets (any namespace,
// each matched once, docs/detect.md "Provider"), the ConfigMaps those call for, and on k3s
// the server's own arguments; whether each enforces NetworkPolicy, and where its drops can be
// read. The one that enforces decides; among those that do, the order of the rules.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "detect/detection.hpp"
#include "detect/evidence.hpp"

namespace netpol::detect {

// Sets detection.provider (ProviderName::none when nothing is found) and other_providers
// from `evidence`, adding the evidence line of everything it rests on. Reads
// detection.flavor (k3s brings its own) and kubernetes_version (k3s's version): call it after
// decide_flavor(). Calico's API groups name Calico where its DaemonSets cannot be read.
void decide_providers(const Evidence& evidence, Detection& detection);

// ConfigMaps ("namespace", "name") the rules read, given the DaemonSets found: cilium-config
// beside a Cilium agent, amazon-vpc-cni beside aws-node. The collector gets only these.
std::vector<std::pair<std::string, std::string>>
config_maps_for(const std::vector<nlohmann::json>& daemon_sets);

// The dynamic flow-log ConfigMap a cilium-config points to (hubble-flowlogs-config-path),
// or nullopt.
std::optional<std::pair<std::string, std::string>>
flowlog_config_for(const std::string& namespace_name, const nlohmann::json& cilium_config);

} // namespace netpol::detect
