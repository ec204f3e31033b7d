#include "analyze/connectivity_file.hpp"

#include <sstream>

#include "report/atomic_file.hpp"

namespace netpol::analyze {

Result<void> write_connectivity_json(const std::filesystem::path& path, const Cluster& cluster,
                                     const std::vector<PortResult>& results, JsonContent content) {
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  std::ostringstream json;
  write_json_results(json, cluster, results, content);
  // The one atomic writer of every report: redacted, renamed into place, nothing half-written.
  return report::write_file_atomic(path, json.str());
}

} // namespace netpol::analyze
