#include "util/time.hpp"

#include <fmt/format.h>

namespace netpol {
namespace {

constexpr int64_t k_ns_per_second = 1'000'000'000;

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void civil_from_days(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
}

bool digits(std::string_view s, size_t pos, size_t n, int& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

} // namespace

std::optional<Rfc3339Fields> parse_rfc3339_fields(std::string_view s) {
  Rfc3339Fields f;
  if (!digits(s, 0, 4, f.year) || s.size() < 20 || s[4] != '-' || !digits(s, 5, 2, f.month) ||
      s[7] != '-' || !digits(s, 8, 2, f.day) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
      !digits(s, 11, 2, f.hour) || s[13] != ':' || !digits(s, 14, 2, f.minute) || s[16] != ':' ||
      !digits(s, 17, 2, f.second)) {
    return std::nullopt;
  }
  if (f.month < 1 || f.month > 12 || f.day < 1 || f.day > 31 || f.hour > 23 || f.minute > 59 ||
      f.second > 60) {
    return std::nullopt;
  }
  size_t i = 19;
  if (i < s.size() && s[i] == '.') {
    ++i;
    int scale = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      if (scale < 9) {
        f.nanos = f.nanos * 10 + (s[i] - '0');
        ++scale;
      }
      ++i;
    }
    if (scale == 0) return std::nullopt;
    for (; scale < 9; ++scale)
      f.nanos *= 10;
  }
  if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) {
    ++i;
  } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    int oh = 0, om = 0;
    if (!digits(s, i + 1, 2, oh) || i + 3 >= s.size() || s[i + 3] != ':' ||
        !digits(s, i + 4, 2, om) || oh > 23 || om > 59) {
      return std::nullopt;
    }
    f.offset_seconds = (oh * 3600 + om * 60) * (s[i] == '+' ? 1 : -1);
    i += 6;
  } else {
    return std::nullopt;
  }
  if (i != s.size()) return std::nullopt;
  return f;
}

int64_t unix_seconds(const Rfc3339Fields& f) {
  const int64_t days =
      days_from_civil(f.year, static_cast<unsigned>(f.month), static_cast<unsigned>(f.day));
  return days * 86400 + f.hour * 3600 + f.minute * 60 + f.second - f.offset_seconds;
}

std::optional<int64_t> parse_rfc3339(std::string_view s) {
  const auto f = parse_rfc3339_fields(s);
  if (!f) return std::nullopt;
  // Nanoseconds since the epoch fit 64 bits from 1677 to 2262; a log line can say year 9999.
  int64_t ns = 0;
  if (__builtin_mul_overflow(unix_seconds(*f), k_ns_per_second, &ns) ||
      __builtin_add_overflow(ns, f->nanos, &ns)) {
    return std::nullopt;
  }
  return ns;
}

std::string format_rfc3339(int64_t ns) {
  int64_t seconds = ns / k_ns_per_second;
  int64_t fraction = ns % k_ns_per_second;
  if (fraction < 0) {
    fraction += k_ns_per_second;
    --seconds;
  }
  int64_t days = seconds / 86400;
  int64_t rest = seconds % 86400;
  if (rest < 0) {
    rest += 86400;
    --days;
  }
  int64_t y = 0;
  unsigned m = 0, d = 0;
  civil_from_days(days, y, m, d);
  std::string out = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", y, m, d, rest / 3600,
                                rest / 60 % 60, rest % 60);
  if (fraction != 0) {
    std::string frac = fmt::format("{:09}", fraction);
    while (frac.back() == '0')
      frac.pop_back();
    out += "." + frac;
  }
  return out + "Z";
}

} // namespace netpol
