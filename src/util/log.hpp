// Diagnostics (spdlog) for --log-level. Results go to stdout and progress to the Reporter;
// this channel is for debugging only. Every message passes through a redacting sink, so a
// token, key or certificate never reaches the output at any level, whoever logs it.
#pragma once

#include <memory>
#include <ostream>
#include <string>
#include <string_view>

#include <spdlog/spdlog.h>

#include "util/error.hpp"

namespace netpol::log {

// Parses error|warn|info|debug|trace (also "warning", "off").
Result<spdlog::level::level_enum> parse_level(std::string_view text);

// Sends the default logger to `sink` (stderr in the binary, a string stream in tests)
// at `level`. Safe to call again; the last call wins.
void configure(std::ostream& sink, spdlog::level::level_enum level);

// Remembers a secret value (token, password, key material) so the redacting sink replaces
// it with "[REDACTED]" wherever it appears. Values shorter than 4 characters are ignored.
void register_secret(std::string_view secret);

// Applies redaction to one string: registered secrets, "Bearer <x>" / "Basic <x>"
// credentials, and PEM blocks. Used by the sink, and by anything that prints server text.
std::string redact(std::string_view text);

} // namespace netpol::log
