#include "analyze/connectivity_file.hpp"

#include <fstream>

#include "util/log.hpp"

namespace netpol::analyze {

Result<void> write_connectivity_json(const std::filesystem::path& path, const Cluster& cluster,
                                     const std::vector<PortResult>& results,
                                     JsonContent content) {
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  const auto tmp = std::filesystem::path(path.string() + ".tmp");
  {
    std::ofstream file(tmp, std::ios::binary | std::ios::trunc);
    if (file) {
      // Report files pass the same redaction pass as every other output.
      log::RedactingStreambuf redacting(file);
      std::ostream redacted(&redacting);
      write_json_results(redacted, cluster, results, content);
    }
    file.close();
    if (!file) {
      std::filesystem::remove(tmp, ec);
      return fail(ErrorCode::io, "writing " + path.string() + ": cannot write the file");
    }
  }
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    return fail(ErrorCode::io, "writing " + path.string() + ": " + ec.message());
  }
  return {};
}

} // namespace netpol::analyze
