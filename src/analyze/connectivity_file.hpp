// connectivity.json, written by `analyze` and by the plan's connectivity change: streamed
// to a temporary file and renamed into place, since 4,000 pods can mean 600 MB of pairs.
#pragma once

#include <filesystem>
#include <vector>

#include "analyze/cluster.hpp"
#include "analyze/output.hpp"
#include "util/error.hpp"

namespace netpol::analyze {

// Writes `results` as a JSON array (write_json_results) to `path` through the redaction every
// report passes, creating the directory; a reader never sees half a file. ErrorCode::io
// naming the path when the file cannot be written.
Result<void> write_connectivity_json(const std::filesystem::path& path, const Cluster& cluster,
                                     const std::vector<PortResult>& results, JsonContent content);

} // namespace netpol::analyze
