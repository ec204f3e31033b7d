// The one way a report file is written (SPEC §5): into a temporary file next to it
// (`<name>.tmp-XXXXXX`, mode 0600, close-on-exec) that commit() renames into place with mode
// 0644, so a reader never sees half a report and a crash never leaves one. Whatever is written
// passes log::redact() first, as stdout and stderr do.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "util/error.hpp"

namespace netpol::report {

// A report file written whole or streamed piece by piece (never held in memory whole).
// Streamed text is collected in 1 MiB blocks; from the first full block on, a thread of the
// file's own hands each block to the kernel while the next one fills (so the copy of a 100 MB
// drop-log.jsonl overlaps with parsing the log), or this thread does when no thread can be
// started. Each block is redacted whole, and a block ends where a write() ended, so a secret
// written in one piece is never split between two redaction passes.
//
// The temporary file is removed on every way out but a successful commit(): a write error,
// an early return, an exception, a cancelled command (util/cancel: its error unwinds like any
// other). A write error is remembered and returned by commit(), naming the path.
class AtomicFile {
public:
  // Creates the parent directory if needed, then the temporary file. ErrorCode::io naming the
  // path when either cannot be created.
  static Result<AtomicFile> open(const std::filesystem::path& path);
  AtomicFile(AtomicFile&& other) noexcept;
  AtomicFile& operator=(AtomicFile&&) = delete;
  // Without a commit(): stops the thread and removes the temporary file.
  ~AtomicFile();

  void write(std::string_view text) {
    m_block.append(text);
    if (m_block.size() >= k_block) hand_off();
  }
  // write() as a text sink (valid while this file lives).
  std::function<void(std::string_view)> sink() {
    return [this](std::string_view text) { write(text); };
  }
  // Writes what is left, waits for the thread, and renames the file into place (mode 0644).
  // On failure the temporary file is removed and the target left as it was. Once only.
  Result<void> commit();

  const std::filesystem::path& path() const { return m_path; }

private:
  struct Background; // the writing thread and the block it writes
  static constexpr size_t k_block = 1u << 20;

  AtomicFile(int fd, std::filesystem::path path, std::string tmp);
  // open() without the block buffer (write_file_atomic writes its one piece directly).
  static Result<AtomicFile> open_unbuffered(const std::filesystem::path& path);
  // Writes `text` redacted to the file now, on this thread; remembers the first error.
  void write_now(std::string_view text);
  // Passes the filled block to the thread (after it finished the previous one); starts the
  // thread on first use.
  void hand_off();
  // Waits for every handed-off block to be written and ends the thread.
  void stop();

  friend Result<void> write_file_atomic(const std::filesystem::path& path,
                                        std::string_view content);

  int m_fd;
  std::filesystem::path m_path;
  std::string m_tmp;
  std::string m_block;
  int m_error = 0;          // the first write error (errno)
  bool m_no_thread = false; // a thread could not be started: write on this one
  std::unique_ptr<Background> m_background;
};

// The whole-file case: `content`, redacted in one pass, written to `path` atomically as above
// (no block copy, no thread). ErrorCode::io naming the path.
Result<void> write_file_atomic(const std::filesystem::path& path, std::string_view content);

} // namespace netpol::report
