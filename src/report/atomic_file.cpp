#include "report/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <system_error>
#include <thread>

#include "util/log.hpp"

namespace netpol::report {
namespace {

// Writes all of `text` to `fd`; 0 or the errno of the failure.
int write_all(int fd, std::string_view text) {
  while (!text.empty()) {
    const ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    text.remove_prefix(static_cast<size_t>(n));
  }
  return 0;
}

Error write_error(const std::filesystem::path& path, int err) {
  return Error(ErrorCode::io, "writing " + path.string() + ": " + std::strerror(err));
}

// Slack past a block, so that the write() that fills it does not reallocate.
constexpr size_t k_block_slack = 64u << 10;

} // namespace

struct AtomicFile::Background {
  std::mutex mutex;
  std::condition_variable changed;
  std::string block; // being written while `busy`
  bool busy = false;
  bool stopping = false;
  int error = 0; // the first write error (errno)
  std::thread thread;

  void run(int fd) {
    std::unique_lock lock(mutex);
    while (true) {
      changed.wait(lock, [&] { return busy || stopping; });
      if (!busy) return;
      lock.unlock();
      // Redacted here, on the writer's thread, so it overlaps with the next block.
      const int failed = error == 0 ? write_all(fd, log::redact(block)) : 0;
      lock.lock();
      if (failed != 0) error = failed;
      block.clear();
      busy = false;
      changed.notify_all();
    }
  }
};

AtomicFile::AtomicFile(int fd, std::filesystem::path path, std::string tmp)
    : m_fd(fd), m_path(std::move(path)), m_tmp(std::move(tmp)) {}

AtomicFile::AtomicFile(AtomicFile&& o) noexcept
    : m_fd(o.m_fd), m_path(std::move(o.m_path)), m_tmp(std::move(o.m_tmp)),
      m_block(std::move(o.m_block)), m_error(o.m_error), m_no_thread(o.m_no_thread),
      m_background(std::move(o.m_background)) {
  o.m_fd = -1;
}

AtomicFile::~AtomicFile() {
  stop();
  if (m_fd >= 0) {
    ::close(m_fd);
    ::unlink(m_tmp.c_str());
  }
}

Result<AtomicFile> AtomicFile::open_unbuffered(const std::filesystem::path& path) {
  std::error_code ec;
  if (path.has_parent_path()) {
    std::filesystem::create_directories(path.parent_path(), ec);
    if (ec) {
      return fail(ErrorCode::io,
                  "creating directory " + path.parent_path().string() + ": " + ec.message());
    }
  }
  std::string tmp = path.string() + ".tmp-XXXXXX";
  // mkostemp creates the file with mode 0600: nobody reads a report before it is whole.
  const int fd = ::mkostemp(tmp.data(), O_CLOEXEC);
  if (fd < 0) return fail(write_error(path, errno));
  return AtomicFile(fd, path, std::move(tmp));
}

Result<AtomicFile> AtomicFile::open(const std::filesystem::path& path) {
  auto file = open_unbuffered(path);
  if (file) file->m_block.reserve(k_block + k_block_slack);
  return file;
}

void AtomicFile::write_now(std::string_view text) {
  if (m_error == 0 && !text.empty()) m_error = write_all(m_fd, log::redact(text));
}

void AtomicFile::hand_off() {
  if (m_block.empty()) return;
  if (!m_background && !m_no_thread) {
    // The first full block: from here on the file is large enough to be worth a thread.
    auto background = std::make_unique<Background>();
    background->block.reserve(k_block + k_block_slack);
    try {
      background->thread = std::thread([bg = background.get(), fd = m_fd] { bg->run(fd); });
      m_background = std::move(background);
    } catch (const std::system_error&) {
      m_no_thread = true; // no thread to be had: write on this one
    }
  }
  if (!m_background) {
    write_now(m_block);
    m_block.clear();
    return;
  }
  Background& bg = *m_background;
  std::unique_lock lock(bg.mutex);
  bg.changed.wait(lock, [&] { return !bg.busy; });
  // The thread's last block (empty, with its capacity) becomes the one to fill.
  std::swap(bg.block, m_block);
  bg.busy = true;
  bg.changed.notify_all();
}

void AtomicFile::stop() {
  if (!m_background) return;
  {
    std::lock_guard lock(m_background->mutex);
    m_background->stopping = true;
    m_background->changed.notify_all();
  }
  m_background->thread.join();
  if (m_error == 0) m_error = m_background->error;
  m_background.reset();
}

Result<void> AtomicFile::commit() {
  if (m_fd < 0) return fail(ErrorCode::internal, m_path.string() + " committed twice");
  if (m_background) {
    hand_off();
    stop(); // the thread finishes the last block first
  } else {
    write_now(m_block); // never a thread for a file smaller than a block
  }
  m_block.clear();
  // Reports are artifacts meant to be read by the job's other steps and by reviewers.
  ::fchmod(m_fd, 0644);
  const bool closed = ::close(m_fd) == 0;
  m_fd = -1;
  if (m_error != 0 || !closed || ::rename(m_tmp.c_str(), m_path.c_str()) != 0) {
    const int err = m_error != 0 ? m_error : errno;
    ::unlink(m_tmp.c_str());
    return fail(write_error(m_path, err));
  }
  return {};
}

Result<void> write_file_atomic(const std::filesystem::path& path, std::string_view content) {
  auto file = AtomicFile::open_unbuffered(path);
  if (!file) return fail(file.error());
  file->write_now(content);
  return file->commit();
}

} // namespace netpol::report
