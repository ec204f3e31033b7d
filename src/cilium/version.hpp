// Cilium and chart versions ("1.20.0", "v1.18.12", "1.19.5-test", "1.20.0-pre.3"): parsed
// once, compared numerically, and judged against the lines netpol supports.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "detect/detection.hpp"

namespace netpol::cilium {

struct Version {
  int major = 0;
  int minor = 0;
  int patch = 0;
  std::string prerelease; // after '-': "test", "pre.3", "rc.1"; empty for a release
  std::string text;       // as given, without a leading "v"

  // Numeric order of major.minor.patch; a prerelease sorts before its release.
  int compare(const Version& other) const;
  bool operator<(const Version& other) const { return compare(other) < 0; }
  std::string line() const; // "1.20"
};

// nullopt when `text` is not MAJOR.MINOR[.PATCH][-PRERELEASE][+BUILD] (with optional "v").
std::optional<Version> parse_version(std::string_view text);

// A chart built for tests, not released by Cilium: its version's prerelease names a test
// build ("1.19.5-test", "1.20.0-test.1"), like this repository's charts/cilium-test.
bool is_test_build(const Version& version);

// Inside the supported lines (defaults::k_oldest_supported_minor ..
// k_newest_supported_minor of major 1)?
bool is_supported_line(const Version& version);
// "1.18–1.20", for messages.
std::string supported_lines();

// For a running Cilium of major version 1 older than the oldest supported line: "Cilium 1.17.6
// runs here, older than the oldest line netpol supports (1.18–1.20; 1.17 and older are end of
// life)". nullopt for a supported or newer version, and for one that does not parse (an image
// tag that names no version says nothing either way). `detect` and `install-cilium` both warn
// with it.
std::optional<std::string> older_than_supported(std::string_view running_version);

// older_than_supported of a detected Cilium (the primary provider, or one chained beside
// another CNI); nullopt for any other provider or an unknown version. Detection's check of the
// version it finds (detect::DetectOptions::unsupported_version).
std::optional<std::string> unsupported_provider_version(const detect::Provider& provider);

} // namespace netpol::cilium
