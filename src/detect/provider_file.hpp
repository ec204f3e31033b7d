// provider.json of an earlier `netpol detect` read back (apply --provider-file): input like any
// other, so a FIFO, a device, a huge file or a repeated key is refused by name.
#pragma once

#include <string>

#include "detect/detection.hpp"
#include "util/error.hpp"

namespace netpol::detect {

// The Detection in the file at `path`. Every failure is ErrorCode::config naming the path: not
// a regular file, larger than 1 MiB, not strict JSON (a repeated key names both lines), or
// not what `netpol detect` writes.
Result<Detection> read_provider_file(const std::string& path);

} // namespace netpol::detect
