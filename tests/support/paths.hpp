// Where tests find their data and the built binary.
#pragma once

#include <filesystem>

namespace netpol::test {

inline std::filesystem::path testdata(const std::filesystem::path& relative = {}) {
  return std::filesystem::path(NETPOL_TESTDATA_DIR) / relative;
}
inline std::filesystem::path source_dir() {
  return NETPOL_SOURCE_DIR;
}
inline std::filesystem::path netpol_binary() {
  return NETPOL_BINARY;
}

} // namespace netpol::test
