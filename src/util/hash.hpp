// SHA-256 as lowercase hex: pinned imports, chart archives, report fingerprints.
#pragma once

#include <string>
#include <string_view>

namespace netpol {

// Lowercase hex SHA-256 of `data`.
std::string sha256_hex(std::string_view data);

} // namespace netpol
