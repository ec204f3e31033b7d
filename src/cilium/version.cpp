#include "cilium/version.hpp"

#include <charconv>

#include <fmt/format.h>

#include "cilium/defaults.hpp"

namespace netpol::cilium {
namespace {

bool take_number(std::string_view& s, int& out) {
  const auto* end = s.data() + s.size();
  auto [ptr, ec] = std::from_chars(s.data(), end, out);
  if (ec != std::errc() || ptr == s.data()) return false;
  s.remove_prefix(static_cast<size_t>(ptr - s.data()));
  return true;
}

} // namespace

int Version::compare(const Version& other) const {
  if (major != other.major) return major < other.major ? -1 : 1;
  if (minor != other.minor) return minor < other.minor ? -1 : 1;
  if (patch != other.patch) return patch < other.patch ? -1 : 1;
  if (prerelease == other.prerelease) return 0;
  if (prerelease.empty()) return 1;
  if (other.prerelease.empty()) return -1;
  return prerelease < other.prerelease ? -1 : 1;
}

std::string Version::line() const {
  return fmt::format("{}.{}", major, minor);
}

std::optional<Version> parse_version(std::string_view text) {
  if (!text.empty() && (text.front() == 'v' || text.front() == 'V')) text.remove_prefix(1);
  Version v;
  v.text = std::string(text);
  if (const auto plus = text.find('+'); plus != std::string_view::npos) text = text.substr(0, plus);
  if (const auto dash = text.find('-'); dash != std::string_view::npos) {
    v.prerelease = std::string(text.substr(dash + 1));
    text = text.substr(0, dash);
    if (v.prerelease.empty()) return std::nullopt;
  }
  if (!take_number(text, v.major) || text.empty() || text.front() != '.') return std::nullopt;
  text.remove_prefix(1);
  if (!take_number(text, v.minor)) return std::nullopt;
  if (!text.empty()) {
    if (text.front() != '.') return std::nullopt;
    text.remove_prefix(1);
    if (!take_number(text, v.patch) || !text.empty()) return std::nullopt;
  }
  return v;
}

bool is_test_build(const Version& version) {
  const auto& p = version.prerelease;
  return p == "test" || p.rfind("test.", 0) == 0 || p.rfind("test-", 0) == 0;
}

bool is_supported_line(const Version& version) {
  return version.major == 1 && version.minor >= defaults::k_oldest_supported_minor &&
         version.minor <= defaults::k_newest_supported_minor;
}

std::string supported_lines() {
  return fmt::format("1.{}–1.{}", defaults::k_oldest_supported_minor,
                     defaults::k_newest_supported_minor);
}

std::optional<std::string> older_than_supported(std::string_view running_version) {
  const auto running = parse_version(running_version);
  if (!running || running->major != 1 || running->minor >= defaults::k_oldest_supported_minor) {
    return std::nullopt;
  }
  return fmt::format("Cilium {} runs here, older than the oldest line netpol supports ({}; 1.{} "
                     "and older are end of life)",
                     running->text, supported_lines(), defaults::k_oldest_supported_minor - 1);
}

std::optional<std::string> unsupported_provider_version(const detect::Provider& provider) {
  if (provider.name != detect::ProviderName::cilium || !provider.version) return std::nullopt;
  return older_than_supported(*provider.version);
}

} // namespace netpol::cilium
