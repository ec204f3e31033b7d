// RFC 3339 timestamps as Hubble and the Kubernetes API write them
// ("2026-11-26T10:00:00.123456789Z", offsets "+02:00" too), as nanoseconds since the epoch.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace netpol::droplog {

// nullopt unless `text` is a full RFC 3339 date-time (fraction optional, up to 9 digits)
// whose nanoseconds since the epoch fit an int64 (years 1678 to 2261 at least).
std::optional<int64_t> parse_rfc3339(std::string_view text);

// "2026-11-26T10:00:00Z", or with a fraction when it is not zero
// ("2026-11-26T10:00:00.5Z"); UTC.
std::string format_rfc3339(int64_t ns);

} // namespace netpol::droplog
