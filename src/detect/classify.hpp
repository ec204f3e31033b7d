// Pure classification: Evidence in, Detection out. No I/O, so every rule is tested from
// fixture files. Rules and names follow what each platform and provider really deploys
// (docs/detect.md lists them); each conclusion adds the evidence line it rests on.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "detect/detection.hpp"
#include "detect/evidence.hpp"

namespace netpol::detect {

// Never fails: missing evidence lowers confidence and is named in Detection::evidence.
Detection classify(const Evidence& evidence);

// ConfigMaps ("namespace", "name") the rules read, given the DaemonSets found: cilium-config
// beside a Cilium agent, amazon-vpc-cni beside aws-node. The collector gets only these.
std::vector<std::pair<std::string, std::string>>
config_maps_for(const std::vector<nlohmann::json>& daemon_sets);

// The dynamic flow-log ConfigMap a cilium-config points to (hubble-flowlogs-config-path),
// or nullopt.
std::optional<std::pair<std::string, std::string>>
flowlog_config_for(const std::string& namespace_name, const nlohmann::json& cilium_config);

// "v1.18.2" from "quay.io/cilium/cilium:v1.18.2@sha256:…"; nullopt for a digest-only or
// untagged image.
std::optional<std::string> image_tag(std::string_view image);

} // namespace netpol::detect
