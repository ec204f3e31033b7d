// The report directory (--output-dir). Files are written whole through report::AtomicFile
// (a temporary file, mode 0600, renamed into place), so a reader never sees half a report and
// a crash never leaves one.
#pragma once

#include <filesystem>
#include <mutex>
#include <set>
#include <string>
#include <string_view>

#include "util/error.hpp"

namespace netpol::report {

class OutputDir {
public:
  explicit OutputDir(std::filesystem::path dir) : m_dir(std::move(dir)) {}

  const std::filesystem::path& path() const { return m_dir; }

  // Writes `name` (a plain file name) with `content` after log::redact(); creates the
  // directory if needed. Thread-safe.
  Result<std::filesystem::path> write(std::string_view name, std::string_view content) const;
  // Notes that `name` was written by other means (a view streamed to its file).
  void note_written(std::string_view name) const;
  // Has `name` been written (or noted) during this command?
  bool written(std::string_view name) const;

private:
  std::filesystem::path m_dir;
  mutable std::mutex m_mutex;
  mutable std::set<std::string, std::less<>> m_written;
};

} // namespace netpol::report
