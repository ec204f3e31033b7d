#include "util/process.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sstream>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include <fmt/format.h>

#include "util/cancel.hpp"

extern char** environ;

namespace netpol {
namespace {

using Clock = std::chrono::steady_clock;

// Closes a descriptor once, on every path out of run_process.
class Fd {
public:
  Fd() = default;
  explicit Fd(int fd) : m_fd(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }
  int get() const { return m_fd; }
  void reset() {
    if (m_fd >= 0) {
      ::close(m_fd);
      m_fd = -1;
    }
  }

private:
  int m_fd = -1;
};

std::vector<std::string> child_environment(const std::map<std::string, std::string>& overrides) {
  std::vector<std::string> out;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string entry(*e);
    const auto eq = entry.find('=');
    if (eq != std::string::npos && overrides.count(entry.substr(0, eq)) != 0) {
      continue;
    }
    out.push_back(std::move(entry));
  }
  for (const auto& [name, value] : overrides) {
    out.push_back(name + "=" + value);
  }
  return out;
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (auto& s : strings) {
    out.push_back(s.data());
  }
  out.push_back(nullptr);
  return out;
}

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

} // namespace

Result<ProcessResult> run_process(const std::vector<std::string>& argv,
                                  const ProcessOptions& options) {
  if (argv.empty()) {
    return fail(ErrorCode::internal, "run_process: empty argv");
  }
  if (cancel::requested()) return tl::unexpected(cancel::error("not starting " + argv[0]));
  int out_pipe[2];
  int err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) {
    return fail(ErrorCode::io, fmt::format("starting {}: pipe: {}", argv[0], std::strerror(errno)));
  }
  Fd out_read(out_pipe[0]);
  Fd out_write(out_pipe[1]);
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    return fail(ErrorCode::io, fmt::format("starting {}: pipe: {}", argv[0], std::strerror(errno)));
  }
  Fd err_read(err_pipe[0]);
  Fd err_write(err_pipe[1]);

  // A process group of its own (pgid = its pid), default dispositions for the signals netpol
  // handles, and an empty mask: the mask netpol's threads run with (util/cancel) is inherited
  // through exec otherwise, and helm would never see a SIGTERM.
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  sigset_t none;
  sigemptyset(&none);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGTERM);
  sigaddset(&defaults, SIGINT);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setsigmask(&attributes, &none);
  posix_spawnattr_setsigdefault(&attributes, &defaults);
  posix_spawnattr_setpgroup(&attributes, 0);
  posix_spawnattr_setflags(&attributes,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_write.get(), 1);
  posix_spawn_file_actions_adddup2(&actions, err_write.get(), 2);

  std::vector<std::string> args = argv;
  std::vector<std::string> env = child_environment(options.env);
  auto c_args = c_strings(args);
  auto c_env = c_strings(env);
  pid_t pid = -1;
  const int rc =
      ::posix_spawn(&pid, argv[0].c_str(), &actions, &attributes, c_args.data(), c_env.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  if (rc != 0) {
    return fail(ErrorCode::io, fmt::format("starting {}: {}", argv[0], std::strerror(rc)));
  }
  out_write.reset();
  err_write.reset();

  ProcessResult result;
  const auto started = Clock::now();
  bool term_sent = false;
  bool cancelled = false;
  auto kill_at = Clock::time_point::max();
  // The whole group: helm's own children end with it.
  auto signal_group = [pid](int sig) {
    if (::kill(-pid, sig) != 0) ::kill(pid, sig);
  };
  auto terminate = [&](Duration grace) {
    signal_group(SIGTERM);
    term_sent = true;
    kill_at = Clock::now() + grace;
  };
  // Cancellation, then the timeout: SIGTERM first, SIGKILL when the grace has passed.
  auto supervise = [&] {
    const auto now = Clock::now();
    if (!term_sent && cancel::requested()) {
      cancelled = true;
      terminate(options.cancel_grace);
    } else if (!term_sent && options.timeout && now - started >= *options.timeout) {
      result.timed_out = true;
      terminate(std::chrono::seconds(5));
    } else if (term_sent && now >= kill_at) {
      signal_group(SIGKILL);
      kill_at = Clock::time_point::max();
    }
  };
  pollfd fds[3] = {
      {out_read.get(), POLLIN, 0}, {err_read.get(), POLLIN, 0}, {cancel::event_fd(), POLLIN, 0}};
  int open_streams = 2;
  char buffer[65536];
  while (open_streams > 0) {
    supervise();
    if (term_sent) fds[2].fd = -1; // readable for good once cancelled
    const int wait_ms = term_sent || options.timeout ? 200 : -1;
    const int n = ::poll(fds, 3, wait_ms);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      const ssize_t got = ::read(fds[i].fd, buffer, sizeof buffer);
      if (got > 0) {
        // Past the limit the pipe is still drained (a child blocked on a full pipe would
        // not see its SIGTERM as soon), but nothing more is kept.
        std::string& kept = i == 0 ? result.out : result.err;
        const size_t limit = options.max_output_bytes;
        const auto bytes = static_cast<size_t>(got);
        if (limit == 0 || kept.size() + bytes <= limit) {
          kept.append(buffer, bytes);
        } else {
          kept.append(buffer, limit - std::min(limit, kept.size()));
          if (!result.output_limit_hit && !term_sent) terminate(std::chrono::seconds(5));
          result.output_limit_hit = true;
        }
      } else if (got == 0 || errno != EINTR) {
        fds[i].fd = -1;
        --open_streams;
      }
    }
  }
  // Both pipes are closed, but a child that closed them on purpose may still run: the same
  // rules apply until it has ended.
  int status = 0;
  for (;;) {
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) break;
    if (done < 0) {
      if (errno == EINTR) continue;
      break;
    }
    supervise();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  result.exit_code = decode_status(status);
  if (cancelled) {
    const auto slash = argv[0].rfind('/');
    return tl::unexpected(cancel::error(fmt::format(
        "{} stopped", slash == std::string::npos ? argv[0] : argv[0].substr(slash + 1))));
  }
  return result;
}

std::optional<std::string> find_executable(const std::string& name,
                                           const std::string& path_variable) {
  auto is_executable = [](const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
           ::access(path.c_str(), X_OK) == 0;
  };
  if (name.empty()) return std::nullopt;
  if (name.find('/') != std::string::npos) {
    return is_executable(name) ? std::optional<std::string>(name) : std::nullopt;
  }
  std::stringstream dirs(path_variable);
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    const std::string candidate = (dir.empty() ? std::string(".") : dir) + "/" + name;
    if (is_executable(candidate)) return candidate;
  }
  return std::nullopt;
}

} // namespace netpol
