#include "util/cancel.hpp"

#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

#include <fmt/format.h>

namespace netpol::cancel {
namespace {

struct State {
  std::atomic<int> signal{0};
  std::mutex mutex;
  std::condition_variable changed;
  int fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
};

State& state() {
  static State s;
  return s;
}

sigset_t cancel_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}

} // namespace

void handle_signals() {
  state(); // the eventfd exists before any signal can arrive
  const sigset_t set = cancel_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  // Signals are taken synchronously on this thread (sigwait), so request() runs as ordinary
  // code: it may lock and notify, which a signal handler may not.
  std::thread([set] {
    for (;;) {
      int sig = 0;
      if (sigwait(&set, &sig) != 0) continue;
      if (requested()) ::_exit(128 + sig);
      request(sig);
    }
  }).detach();
}

void request(int signal_number) {
  auto& s = state();
  int expected = 0;
  if (!s.signal.compare_exchange_strong(expected, signal_number)) return;
  // The descriptor first: whoever wakes from the wait below may poll it.
  const uint64_t one = 1;
  [[maybe_unused]] auto written = ::write(s.fd, &one, sizeof one);
  {
    std::lock_guard lock(s.mutex); // no waiter can miss the change between check and wait
  }
  s.changed.notify_all();
}

bool requested() {
  return state().signal.load(std::memory_order_relaxed) != 0;
}

int signal_number() {
  return state().signal.load();
}

std::string signal_name(int signal_number) {
  switch (signal_number) {
  case SIGTERM: return "SIGTERM";
  case SIGINT: return "SIGINT";
  default: return fmt::format("signal {}", signal_number);
  }
}

bool wait_for(Duration d) {
  auto& s = state();
  std::unique_lock lock(s.mutex);
  return !s.changed.wait_for(lock, d, [] { return requested(); });
}

int event_fd() {
  return state().fd;
}

Error error(std::string_view what) {
  const std::string why = fmt::format("cancelled ({})", signal_name(signal_number()));
  return Error(ErrorCode::cancelled, what.empty() ? why : fmt::format("{}: {}", what, why));
}

void reset() {
  auto& s = state();
  uint64_t value = 0;
  [[maybe_unused]] auto got = ::read(s.fd, &value, sizeof value);
  s.signal.store(0);
}

} // namespace netpol::cancel
