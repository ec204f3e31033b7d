// Reading input files that anyone may have named: a policy folder's entries, --values,
// --pods-from, a kubeconfig and what it references, a previous drop-summary.json. None of
// them may hang netpol (a FIFO), exhaust its memory (/dev/zero, a 50 MB file) or crash it
// (a symlink loop): each is refused with its name and the reason.
#pragma once

#include <cstddef>
#include <string>

#include "util/error.hpp"

namespace netpol {

// What an input file may hold at most unless its reader says otherwise (policy files,
// values files, pod inventories, drop summaries): far beyond any real one, small enough
// that its parsed form fits in memory.
inline constexpr size_t k_max_input_file_bytes = 16u * 1024 * 1024;

// Reads a regular file (symlinks followed) of at most `max_bytes`. Failures are `code`
// errors naming the path: "<path>: not a regular file (a FIFO): ...", "<path>: symbolic
// link loop", "<path>: larger than 16 MiB (the limit for ...)", "<path>: cannot read file:
// <errno text>". A FIFO is never opened for reading, so nothing blocks.
Result<std::string> read_input_file(const std::string& path, ErrorCode code,
                                    size_t max_bytes = k_max_input_file_bytes);

// "a FIFO", "a character device", "a directory", ... for a stat mode (for messages).
std::string describe_file_type(unsigned mode);

// "16 MiB", "512 KiB", "100 bytes".
std::string format_size(size_t bytes);

} // namespace netpol
