#include "report/output_dir.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#include "util/log.hpp"

namespace netpol::report {

Result<void> write_file_atomic(const std::filesystem::path& path, std::string_view content) {
  std::error_code ec;
  if (path.has_parent_path()) {
    std::filesystem::create_directories(path.parent_path(), ec);
    if (ec) {
      return fail(ErrorCode::io,
                  "creating directory " + path.parent_path().string() + ": " + ec.message());
    }
  }
  std::string tmp = path.string() + ".tmp-XXXXXX";
  int fd = ::mkstemp(tmp.data()); // mkstemp creates the file with mode 0600
  if (fd < 0) {
    return fail(ErrorCode::io, "writing " + path.string() + ": " + std::strerror(errno));
  }
  const char* data = content.data();
  size_t left = content.size();
  while (left > 0) {
    ssize_t n = ::write(fd, data, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      int saved = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return fail(ErrorCode::io, "writing " + path.string() + ": " + std::strerror(saved));
    }
    data += n;
    left -= static_cast<size_t>(n);
  }
  // Reports are artifacts meant to be read by the job's other steps and by reviewers.
  ::fchmod(fd, 0644);
  if (::close(fd) != 0 || ::rename(tmp.c_str(), path.c_str()) != 0) {
    int saved = errno;
    ::unlink(tmp.c_str());
    return fail(ErrorCode::io, "writing " + path.string() + ": " + std::strerror(saved));
  }
  return {};
}

Result<std::filesystem::path> OutputDir::write(std::string_view name,
                                               std::string_view content) const {
  auto target = m_dir / std::string(name);
  // Every report passes the redaction pass stdout and stderr pass (cilium-values.yaml may
  // hold keys from a values file; JUnit messages may quote a plugin's or helm's stderr).
  if (auto ok = write_file_atomic(target, log::redact(content)); !ok) {
    return fail(ok.error());
  }
  note_written(name);
  return target;
}

void OutputDir::note_written(std::string_view name) const {
  std::lock_guard lock(m_mutex);
  m_written.emplace(name);
}

bool OutputDir::written(std::string_view name) const {
  std::lock_guard lock(m_mutex);
  return m_written.find(name) != m_written.end();
}

} // namespace netpol::report
