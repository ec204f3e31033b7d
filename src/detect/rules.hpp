// What the flavour rules (flavor_rules) and the provider rules (provider_rules) share:
// readers for the fields of objects as the server sends them (any field may be missing or of
// another type: a reader then gives its empty value), image tags, and the evidence list each
// conclusion adds its line to.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "detect/detection.hpp"
#include "detect/evidence.hpp"

namespace netpol::detect {

// ---- fields of server objects

// The string at a JSON pointer ("/metadata/name"); "" when missing or not a string.
std::string str_at(const nlohmann::json& object, const char* pointer);
// The integer at a JSON pointer; 0 when missing or not an integer.
int64_t int_at(const nlohmann::json& object, const char* pointer);
std::string label(const nlohmann::json& object, const std::string& key);
bool has_label(const nlohmann::json& object, const std::string& key);
std::string annotation(const nlohmann::json& object, const std::string& key);
// "namespace/name".
std::string ns_name(const nlohmann::json& object);

// The containers of a DaemonSet's pod template (init containers are not agents).
std::vector<nlohmann::json> containers_of(const nlohmann::json& daemon_set);
const nlohmann::json* container_named(const std::vector<nlohmann::json>& containers,
                                      std::string_view name);
// Value of a command-line flag in a container's command+args ("--flag=value" or
// "--flag value"); "" when the flag has no value; nullopt when absent.
std::optional<std::string> flag_value(const nlohmann::json& container, std::string_view flag);
// A literal env value of a container; nullopt when absent or taken from elsewhere.
std::optional<std::string> env_value(const nlohmann::json& container, std::string_view name);

// "v1.18.2" from "quay.io/cilium/cilium:v1.18.2@sha256:…"; nullopt for a digest-only or
// untagged image.
std::optional<std::string> image_tag(std::string_view image);
// The image tag without a leading "v" before a digit ("1.18.2"); nullopt as image_tag.
std::optional<std::string> version_from_image(const std::string& image);

// ---- text

inline bool contains(std::string_view s, std::string_view part) {
  return s.find(part) != std::string_view::npos;
}
std::string lower(std::string s);
// "true" in any case, as Kubernetes components read their boolean flags and settings.
bool is_true(const std::string& value);

// ---- conclusions

// Adds `line` to the detection's evidence unless it is there already (order: as found).
void add_evidence(Detection& detection, std::string line);
// The less trusted of two confidences.
Confidence lowest(Confidence a, Confidence b);
// "forbidden", "not found", ... for an evidence line about a read.
std::string_view read_word(ReadStatus status);

} // namespace netpol::detect
