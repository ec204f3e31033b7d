#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <poll.h>
#include <signal.h>

#include <chrono>
#include <thread>

#include "util/cancel.hpp"
#include "util/process.hpp"

namespace netpol {
namespace {

using ::testing::HasSubstr;

TEST(Process, CapturesBothStreamsAndExitCode) {
  auto r = run_process({"/bin/sh", "-c", "echo out; echo err >&2; exit 3"});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->exit_code, 3);
  EXPECT_EQ(r->out, "out\n");
  EXPECT_EQ(r->err, "err\n");
  EXPECT_FALSE(r->timed_out);
}

TEST(Process, ArgumentsAreNotReparsedByAShell) {
  auto r = run_process({"/bin/echo", "a b", "$HOME", "'q'"});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->out, "a b $HOME 'q'\n");
}

TEST(Process, EnvironmentOverrides) {
  ProcessOptions o;
  o.env["NETPOL_PROCESS_TEST"] = "x=y";
  auto r = run_process({"/bin/sh", "-c", "printf %s \"$NETPOL_PROCESS_TEST\""}, o);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->out, "x=y");
}

TEST(Process, LargeOutputOnBothStreamsDoesNotDeadlock) {
  auto r = run_process({"/bin/sh", "-c", "head -c 300000 /dev/zero; head -c 300000 /dev/zero >&2"});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->out.size(), 300000u);
  EXPECT_EQ(r->err.size(), 300000u);
}

// A child that never stops writing (`yes`, a plugin gone wrong) is stopped at the limit
// instead of filling memory; what it wrote up to the limit is kept.
TEST(Process, OutputPastTheLimitStopsTheChild) {
  ProcessOptions o;
  o.max_output_bytes = 64 * 1024;
  const auto started = std::chrono::steady_clock::now();
  auto r = run_process({"/bin/sh", "-c", "exec cat /dev/zero"}, o);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->output_limit_hit);
  EXPECT_EQ(r->out.size(), 64u * 1024);
  EXPECT_EQ(r->exit_code, 128 + 15);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
  auto err = run_process({"/bin/sh", "-c", "exec cat /dev/zero >&2"}, o);
  ASSERT_TRUE(err);
  EXPECT_TRUE(err->output_limit_hit);
  EXPECT_EQ(err->err.size(), 64u * 1024);
  // At the limit exactly is not past it.
  auto exact = run_process({"/bin/sh", "-c", "head -c 65536 /dev/zero"}, o);
  ASSERT_TRUE(exact);
  EXPECT_FALSE(exact->output_limit_hit);
  EXPECT_EQ(exact->exit_code, 0);
  EXPECT_EQ(exact->out.size(), 64u * 1024);
}

TEST(Process, TimeoutKillsTheChild) {
  ProcessOptions o;
  o.timeout = std::chrono::milliseconds(100);
  auto r = run_process({"/bin/sleep", "30"}, o);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->timed_out);
  EXPECT_EQ(r->exit_code, 128 + 15);
}

// Cancellation while a child runs: the child's whole group gets SIGTERM (a shell's own
// children too), and the result is the cancellation, well within the grace period.
class ProcessCancel : public ::testing::Test {
protected:
  void TearDown() override { cancel::reset(); }
  // Requests cancellation `after` from now, on another thread.
  std::jthread cancel_after(std::chrono::milliseconds after) {
    return std::jthread([after] {
      std::this_thread::sleep_for(after);
      cancel::request(SIGTERM);
    });
  }
};

TEST_F(ProcessCancel, TerminatesTheChildAndItsChildren) {
  const auto marker = std::filesystem::path(::testing::TempDir()) / "netpol-grandchild-pid";
  std::filesystem::remove(marker);
  auto canceller = cancel_after(std::chrono::milliseconds(300));
  const auto started = std::chrono::steady_clock::now();
  // The shell starts a grandchild that would outlive it without a group kill.
  auto r = run_process({"/bin/sh", "-c", "sleep 30 & echo $! > " + marker.string() + "; wait"});
  const auto took = std::chrono::steady_clock::now() - started;
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::cancelled);
  EXPECT_THAT(r.error().message, HasSubstr("sh stopped: cancelled (SIGTERM)"));
  EXPECT_LT(took, std::chrono::seconds(2));
  std::ifstream in(marker);
  pid_t grandchild = 0;
  ASSERT_TRUE(in >> grandchild);
  // The grandchild got SIGTERM with its group. Ended means no process, or a zombie that the
  // machine's init has not reaped yet (containers often have none that reaps).
  auto ended = [&] {
    std::ifstream stat("/proc/" + std::to_string(grandchild) + "/stat");
    std::string pid, comm, state;
    return !(stat >> pid >> comm >> state) || state == "Z";
  };
  bool gone = false;
  for (int i = 0; i < 100 && !gone; ++i) {
    gone = ended();
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(gone) << "grandchild " << grandchild << " still runs";
}

TEST_F(ProcessCancel, SignalsAreNotBlockedInTheChild) {
  // A child that handles SIGTERM itself (helm does: it says the release was cancelled) must
  // see it, though netpol's own threads block it.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  auto canceller = cancel_after(std::chrono::milliseconds(300));
  ProcessOptions o;
  o.cancel_grace = std::chrono::seconds(10);
  const auto started = std::chrono::steady_clock::now();
  auto r = run_process({"/bin/sh", "-c",
                        "trap 'echo cancelled-by-term; exit 7' TERM; "
                        "while :; do sleep 0.05; done"},
                       o);
  pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::cancelled);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5))
      << "ended by its own trap, not by SIGKILL after the 10 s grace";
}

TEST_F(ProcessCancel, AChildIgnoringSigtermIsKilledAfterTheGrace) {
  auto canceller = cancel_after(std::chrono::milliseconds(200));
  ProcessOptions o;
  o.cancel_grace = std::chrono::milliseconds(500);
  const auto started = std::chrono::steady_clock::now();
  auto r = run_process({"/bin/sh", "-c", "trap '' TERM; while :; do sleep 0.05; done"}, o);
  const auto took = std::chrono::steady_clock::now() - started;
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::cancelled);
  EXPECT_GE(took, std::chrono::milliseconds(650));
  EXPECT_LT(took, std::chrono::seconds(3));
}

TEST_F(ProcessCancel, NothingStartsAfterACancellation) {
  cancel::request(SIGINT);
  auto r = run_process({"/bin/echo", "never"});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::cancelled);
  EXPECT_EQ(exit_code(r.error().code), 130);
}

TEST(Cancel, WaitEndsEarlyAndTheEventDescriptorTurnsReadable) {
  EXPECT_FALSE(cancel::requested());
  EXPECT_TRUE(cancel::wait_for(std::chrono::milliseconds(10)));
  std::jthread t([] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    cancel::request(SIGTERM);
  });
  const auto started = std::chrono::steady_clock::now();
  EXPECT_FALSE(cancel::wait_for(std::chrono::seconds(30)));
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
  EXPECT_EQ(cancel::signal_number(), SIGTERM);
  EXPECT_EQ(exit_code(ErrorCode::cancelled), 143);
  pollfd fd{cancel::event_fd(), POLLIN, 0};
  EXPECT_EQ(::poll(&fd, 1, 0), 1);
  cancel::request(SIGINT); // the first signal stays the one that counts
  EXPECT_EQ(cancel::signal_number(), SIGTERM);
  EXPECT_EQ(cancel::error("PATCH /x").message, "PATCH /x: cancelled (SIGTERM)");
  cancel::reset();
  EXPECT_FALSE(cancel::requested());
  EXPECT_EQ(::poll(&fd, 1, 0), 0);
}

TEST(Process, MissingProgramIsAnIoError) {
  auto r = run_process({"/nonexistent/helm", "version"});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::io);
  EXPECT_THAT(r.error().message, HasSubstr("/nonexistent/helm"));
}

TEST(Process, FindExecutable) {
  EXPECT_EQ(find_executable("sh", "/nonexistent:/bin"), "/bin/sh");
  EXPECT_EQ(find_executable("/bin/sh", ""), "/bin/sh");
  EXPECT_FALSE(find_executable("sh", "/nonexistent"));
  const auto plain = std::filesystem::path(::testing::TempDir()) / "not-executable";
  std::ofstream(plain) << "data\n";
  std::filesystem::permissions(plain, std::filesystem::perms::owner_read |
                                          std::filesystem::perms::owner_write);
  EXPECT_FALSE(find_executable(plain.string(), ""));
}

} // namespace
} // namespace netpol
