#include "util/file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace netpol {

std::string describe_file_type(unsigned mode) {
  switch (mode & S_IFMT) {
  case S_IFIFO: return "a FIFO";
  case S_IFCHR: return "a character device";
  case S_IFBLK: return "a block device";
  case S_IFDIR: return "a directory";
  case S_IFSOCK: return "a socket";
  case S_IFLNK: return "a symbolic link";
  default: return "not a regular file";
  }
}

std::string format_size(size_t bytes) {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) == 0)
    return fmt::format("{} MiB", bytes / (1024 * 1024));
  if (bytes >= 1024 && bytes % 1024 == 0) return fmt::format("{} KiB", bytes / 1024);
  return fmt::format("{} bytes", bytes);
}

Result<std::string> read_input_file(const std::string& path, ErrorCode code, size_t max_bytes) {
  // Checked by name before opening: opening a FIFO for reading blocks until a writer comes.
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ELOOP) {
      return fail(code, path + ": symbolic link loop (the link points back at itself)");
    }
    return fail(code, path + ": cannot read file: " + std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) {
    return fail(code, fmt::format("{}: not a regular file ({}): name a file", path,
                                  describe_file_type(st.st_mode)));
  }
  if (static_cast<size_t>(st.st_size) > max_bytes) {
    return fail(code,
                fmt::format("{}: larger than {} ({} bytes): netpol reads inputs up to "
                            "{}; split the file",
                            path, format_size(max_bytes), st.st_size, format_size(max_bytes)));
  }
  // O_NONBLOCK: should the path have become a FIFO since stat(), open still returns.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return fail(code, path + ": cannot read file: " + std::strerror(errno));
  struct stat opened {};
  if (::fstat(fd, &opened) != 0 || !S_ISREG(opened.st_mode)) {
    ::close(fd);
    return fail(code, fmt::format("{}: not a regular file ({}): name a file", path,
                                  describe_file_type(opened.st_mode)));
  }
  std::string text;
  text.reserve(static_cast<size_t>(opened.st_size));
  std::array<char, 64 * 1024> chunk{};
  while (true) {
    const ssize_t n = ::read(fd, chunk.data(), chunk.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      const int saved = errno;
      ::close(fd);
      return fail(code, path + ": cannot read file: " + std::strerror(saved));
    }
    if (n == 0) break;
    text.append(chunk.data(), static_cast<size_t>(n));
    // A file that grows while it is read (a log being written) is held to the same limit.
    if (text.size() > max_bytes) {
      ::close(fd);
      return fail(code, fmt::format("{}: larger than {}: netpol reads inputs up to {}; split "
                                    "the file",
                                    path, format_size(max_bytes), format_size(max_bytes)));
    }
  }
  ::close(fd);
  return text;
}

} // namespace netpol
