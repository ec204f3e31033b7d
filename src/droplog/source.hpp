// Where drop-log lines come from: a file or stdin (--from-file), or the Cilium agents' pod
// logs. Commands depend on this interface only, so a source can be swapped in tests.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "util/error.hpp"

namespace netpol::droplog {

struct SourceReport {
  std::string description;           // "file drop.jsonl", "3 cilium-agent pods"
  std::vector<std::string> warnings; // partial failures (one agent pod unreadable, ...)
};

class DropSource {
public:
  virtual ~DropSource() = default;
  // Passes every line (without '\n') to `on_line`, never two calls at once. An Error when
  // nothing could be read at all; partial failures are warnings in the report.
  virtual Result<SourceReport> read(const std::function<void(std::string_view)>& on_line) = 0;
};

// A file, or standard input for "-". Reads in 1 MiB chunks, one chunk ahead on a second
// thread (the kernel copies the next chunk while lines are parsed): memory does not grow with
// the file. A missing or unreadable file is ErrorCode::io naming the path.
class FileSource final : public DropSource {
public:
  explicit FileSource(std::string path) : m_path(std::move(path)) {}
  Result<SourceReport> read(const std::function<void(std::string_view)>& on_line) override;

private:
  std::string m_path;
};

} // namespace netpol::droplog
