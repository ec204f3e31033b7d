// Durations as users write them: "30s", "1m30s", "500ms", "2h", or a bare 0.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "util/error.hpp"

namespace netpol {

using Duration = std::chrono::milliseconds;

// Parses Go-style durations (h, m, s, ms units, combined). A number without a unit (other
// than 0), negative, empty or absurdly long (over 10^13 ms) input is a usage error naming
// `what` (e.g. "--request-timeout") and the fix.
Result<Duration> parse_duration(std::string_view text, std::string_view what);

// "1m30s", "250ms", "0s".
std::string format_duration(Duration d);

} // namespace netpol
