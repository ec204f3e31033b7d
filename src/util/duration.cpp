#include "util/duration.hpp"

#include <cctype>
#include <charconv>

#include <fmt/format.h>

namespace netpol {

Result<Duration> parse_duration(std::string_view text, std::string_view what) {
  auto bad = [&] {
    return fail(ErrorCode::usage, std::string(what) + ": invalid duration '" + std::string(text) +
                                      "': use a number with a unit, e.g. 30s, 5m, 1h30m, 500ms");
  };
  if (text.empty()) {
    return bad();
  }
  double total_ms = 0;
  size_t i = 0;
  bool bare = true;
  while (i < text.size()) {
    size_t start = i;
    while (i < text.size() &&
           (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) {
      ++i;
    }
    if (start == i) {
      return bad();
    }
    double number = 0;
    auto [ptr, ec] = std::from_chars(text.data() + start, text.data() + i, number);
    if (ec != std::errc() || ptr != text.data() + i) {
      return bad();
    }
    size_t unit_start = i;
    while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) {
      ++i;
    }
    std::string_view unit = text.substr(unit_start, i - unit_start);
    if (unit.empty()) {
      if (i != text.size() || !bare) {
        return bad();
      }
      // A bare number is ambiguous (seconds? milliseconds? kubectl reads seconds, Go's
      // time.ParseDuration refuses it): only 0, which means the same in every unit.
      if (number != 0) {
        return fail(ErrorCode::usage,
                    fmt::format("{}: '{}' has no unit: write {}s (or ms, m, h)", what, text, text));
      }
      unit = "s";
    }
    bare = false;
    if (unit == "ms")
      total_ms += number;
    else if (unit == "s")
      total_ms += number * 1000;
    else if (unit == "m")
      total_ms += number * 60'000;
    else if (unit == "h")
      total_ms += number * 3'600'000;
    else
      return bad();
  }
  // Past ~300 years the milliseconds no longer fit the clock's arithmetic (and no wait or
  // window of netpol's is meant to be that long).
  if (total_ms > 1e13) {
    return fail(ErrorCode::usage, fmt::format("{}: duration '{}' is too long", what, text));
  }
  return Duration(static_cast<Duration::rep>(total_ms));
}

std::string format_duration(Duration d) {
  auto ms = d.count();
  if (ms < 1000) {
    return std::to_string(ms) + (ms == 0 ? "s" : "ms");
  }
  std::string out;
  auto total_s = ms / 1000;
  if (auto h = total_s / 3600; h > 0) out += std::to_string(h) + "h";
  if (auto m = (total_s / 60) % 60; m > 0) out += std::to_string(m) + "m";
  if (auto s = total_s % 60; s > 0 || out.empty()) out += std::to_string(s) + "s";
  return out;
}

} // namespace netpol
