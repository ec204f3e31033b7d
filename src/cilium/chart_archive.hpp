// A packaged Helm chart (.tgz) read without helm: its Chart.yaml and its sha256, so that
// `netpol version` can name the chart the image carries and `install-cilium` can judge a
// chart's version before anything runs.
#pragma once

#include <string>
#include <string_view>

#include "util/error.hpp"

namespace netpol::cilium {

// The Chart.yaml of a packaged chart: the first archive member "<dir>/Chart.yaml" (helm
// packages a chart as one top-level directory). A missing or unreadable file, a file that is
// not gzip'ed tar, or an archive without Chart.yaml is ErrorCode::config naming the path. The
// archive is read through util/file (a FIFO or device is refused by name, at most 64 MiB), at
// most 64 MiB of it unpacked, and a file taken out of it may hold at most 16 MiB.
Result<std::string> read_chart_yaml(const std::string& archive_path);

// Any file of the chart's top directory, e.g. "values.schema.json", the same way.
Result<std::string> read_chart_file(const std::string& archive_path, std::string_view file);

// Lower-case hex sha256 of a chart archive's bytes (read as above); an unreadable, special or
// oversized file is ErrorCode::io.
Result<std::string> sha256_file(const std::string& path);

} // namespace netpol::cilium
