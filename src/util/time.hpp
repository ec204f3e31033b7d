// RFC 3339 timestamps as Hubble and the Kubernetes API write them
// ("2026-11-26T10:00:00.123456789Z", offsets "+02:00" too). One parser for every reader: the
// drop log parses one per flow (hundreds of MB per run), so it is a hand-written scan, not
// sscanf or absl::ParseTime.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace netpol {

// The fields of an RFC 3339 date-time as written; `offset_seconds` east of UTC.
struct Rfc3339Fields {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  int64_t nanos = 0; // the fraction, up to 9 digits (more are read and dropped)
  int offset_seconds = 0;
};

// nullopt unless `text` is a full RFC 3339 date-time (fraction optional, "T", "t" or " "
// between date and time, "Z", "z" or ±hh:mm) with month, day, hour, minute and second in range
// (a leap second 60 is accepted).
std::optional<Rfc3339Fields> parse_rfc3339_fields(std::string_view text);

// Seconds since the epoch of `fields` (in UTC), the fraction left out.
int64_t unix_seconds(const Rfc3339Fields& fields);

// parse_rfc3339_fields() as nanoseconds since the epoch; nullopt as well when they do not fit
// an int64 (years 1678 to 2261 at least).
std::optional<int64_t> parse_rfc3339(std::string_view text);

// "2026-11-26T10:00:00Z", or with a fraction when it is not zero
// ("2026-11-26T10:00:00.5Z"); UTC.
std::string format_rfc3339(int64_t ns);

} // namespace netpol
