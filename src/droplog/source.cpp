#include "droplog/source.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "droplog/collector.hpp"

namespace netpol::droplog {

Result<SourceReport> FileSource::read(const std::function<void(std::string_view)>& on_line) {
  const bool use_stdin = m_path == "-";
  const int fd = use_stdin ? 0 : ::open(m_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return fail(ErrorCode::io, "reading " + m_path + ": " + std::strerror(errno));
  }
  if (!use_stdin) ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  constexpr size_t k_chunk = 1u << 20;
  auto buffer = std::make_unique<char[]>(k_chunk);
  LineSplitter splitter;
  Result<SourceReport> result = SourceReport{use_stdin ? "standard input" : "file " + m_path, {}};
  while (true) {
    const ssize_t n = ::read(fd, buffer.get(), k_chunk);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      result = fail(ErrorCode::io, "reading " + m_path + ": " + std::strerror(errno));
      break;
    }
    splitter.feed(std::string_view(buffer.get(), static_cast<size_t>(n)), on_line);
  }
  splitter.finish(on_line);
  if (!use_stdin) ::close(fd);
  return result;
}

} // namespace netpol::droplog
