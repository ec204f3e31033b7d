#include "droplog/source.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>
#include <system_error>
#include <thread>

#include <fmt/format.h>

#include "droplog/collector.hpp"
#include "util/file.hpp"

namespace netpol::droplog {

namespace {

// Reads `fd` one chunk ahead on a second thread: while the lines of one chunk are parsed, the
// kernel copies the next one (a 100 MB log is 100 read() calls of 1 MiB). Reads in the
// caller's thread when no thread can be started.
class ReadAhead {
public:
  static constexpr size_t k_chunk = 1u << 20;

  explicit ReadAhead(int fd)
      : m_fd(fd), m_buffers{std::make_unique<char[]>(k_chunk), std::make_unique<char[]>(k_chunk)} {
    try {
      m_thread = std::thread([this] { run(); });
    } catch (const std::system_error&) {
      // read synchronously
    }
    request(0);
  }
  ReadAhead(const ReadAhead&) = delete;
  ReadAhead& operator=(const ReadAhead&) = delete;
  ~ReadAhead() {
    if (!m_thread.joinable()) return;
    {
      std::unique_lock lock(m_mutex);
      m_changed.wait(lock, [&] { return !m_requested; });
      m_stopping = true;
      m_changed.notify_all();
    }
    m_thread.join();
  }

  // The next chunk (empty at the end of the file), valid until the following call; the
  // chunk after it is being read meanwhile. An errno on failure.
  Result<std::string_view> next() {
    ssize_t n = 0;
    int error = 0;
    if (m_thread.joinable()) {
      std::unique_lock lock(m_mutex);
      m_changed.wait(lock, [&] { return !m_requested; });
      n = m_size;
      error = m_error;
    } else {
      n = read_into(m_buffers[m_current].get(), error);
    }
    if (n < 0) return fail(ErrorCode::io, std::strerror(error));
    const std::string_view chunk(m_buffers[m_current].get(), static_cast<size_t>(n));
    if (n > 0) {
      m_current ^= 1;
      request(m_current);
    }
    return chunk;
  }

private:
  ssize_t read_into(char* into, int& error) {
    while (true) {
      const ssize_t n = ::read(m_fd, into, k_chunk);
      if (n >= 0 || errno != EINTR) {
        error = n < 0 ? errno : 0;
        return n;
      }
    }
  }

  void request(size_t buffer) {
    if (!m_thread.joinable()) return;
    std::lock_guard lock(m_mutex);
    m_target = buffer;
    m_requested = true;
    m_changed.notify_all();
  }

  void run() {
    std::unique_lock lock(m_mutex);
    while (true) {
      m_changed.wait(lock, [&] { return m_requested || m_stopping; });
      if (m_stopping) return;
      char* into = m_buffers[m_target].get();
      lock.unlock();
      int error = 0;
      const ssize_t n = read_into(into, error);
      lock.lock();
      m_size = n;
      m_error = error;
      m_requested = false;
      m_changed.notify_all();
    }
  }

  int m_fd;
  std::unique_ptr<char[]> m_buffers[2];
  size_t m_current = 0; // the buffer next() returns
  std::thread m_thread;
  std::mutex m_mutex;
  std::condition_variable m_changed;
  bool m_requested = false; // a read into m_buffers[m_target] is pending
  bool m_stopping = false;
  size_t m_target = 0;
  ssize_t m_size = 0;
  int m_error = 0;
};

} // namespace

Result<SourceReport> FileSource::read(const std::function<void(std::string_view)>& on_line) {
  const bool use_stdin = m_path == "-";
  const int fd = use_stdin ? 0 : ::open(m_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return fail(ErrorCode::io, "reading " + m_path + ": " + std::strerror(errno));
  }
  // A file or a FIFO (a live `hubble observe` piped in) ends; /dev/zero or a terminal named
  // as a path would be read for ever.
  struct stat st {};
  if (!use_stdin && (::fstat(fd, &st) != 0 || !(S_ISREG(st.st_mode) || S_ISFIFO(st.st_mode)))) {
    ::close(fd);
    return fail(ErrorCode::usage, fmt::format("{}: not a regular file or FIFO ({}): give a Hubble "
                                              "export, a drop log, or - for standard input",
                                              m_path, describe_file_type(st.st_mode)));
  }
  if (!use_stdin) ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  LineSplitter splitter;
  Result<SourceReport> result =
      SourceReport{use_stdin ? "standard input" : "file " + m_path, {}, {}};
  {
    ReadAhead reader(fd);
    while (true) {
      auto chunk = reader.next();
      if (!chunk) {
        result = fail(ErrorCode::io, "reading " + m_path + ": " + chunk.error().message);
        break;
      }
      if (chunk->empty()) break;
      splitter.feed(*chunk, on_line);
    }
  }
  splitter.finish(on_line);
  if (!use_stdin) ::close(fd);
  return result;
}

} // namespace netpol::droplog
