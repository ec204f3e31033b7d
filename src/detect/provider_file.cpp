#include "detect/provider_file.hpp"

#include <optional>

#include "util/file.hpp"
#include "util/json.hpp"

namespace netpol::detect {
namespace {

// provider.json is a few hundred bytes; anything near the limit is not one.
constexpr size_t k_max_provider_file = 1024 * 1024;

} // namespace

Result<Detection> read_provider_file(const std::string& path) {
  auto text = read_input_file(path, ErrorCode::config, k_max_provider_file);
  if (!text) return fail(text.error());
  auto json = parse_json_strict(*text, path, ErrorCode::config);
  if (!json) {
    Error e = json.error();
    e.message += " (--provider-file takes the provider.json of `netpol detect`)";
    return fail(std::move(e));
  }
  std::optional<Detection> detection;
  try {
    detection = Detection::from_json(*json);
  } catch (const nlohmann::json::exception&) {
    // A field of the wrong type ("enforces_network_policy": "yes"): not detect's output.
  }
  if (!detection) {
    return fail(ErrorCode::config,
                path + ": not a provider.json written by `netpol detect` (run it again)");
  }
  return *detection;
}

} // namespace netpol::detect
