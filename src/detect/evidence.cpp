#include "detect/evidence.hpp"

namespace netpol::detect {

std::optional<ReadStatus> Evidence::status_of(const std::string& what) const {
  for (const auto& r : reads) {
    if (r.what == what) return r.status;
  }
  return std::nullopt;
}

const nlohmann::json* Evidence::config_map(const std::string& namespace_name,
                                           const std::string& name) const {
  const auto it = config_maps.find(namespace_name + "/" + name);
  return it == config_maps.end() ? nullptr : &it->second;
}

std::string read_config_map(const std::string& namespace_name, const std::string& name) {
  return "get configmap " + namespace_name + "/" + name;
}

std::string read_daemon_sets_in(const std::string& namespace_name) {
  return "list daemonsets in " + namespace_name;
}

} // namespace netpol::detect
