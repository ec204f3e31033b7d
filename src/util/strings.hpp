// Small string helpers every floor uses.
#pragma once

#include <string_view>

namespace netpol {

// `s` without leading and trailing spaces, tabs, CRs and LFs (a view into `s`). Inline: the
// drop log trims every line it reads.
inline std::string_view trim(std::string_view s) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && space(s.back()))
    s.remove_suffix(1);
  while (!s.empty() && space(s.front()))
    s.remove_prefix(1);
  return s;
}

} // namespace netpol
