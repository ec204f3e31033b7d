#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

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

TEST(Process, TimeoutKillsTheChild) {
  ProcessOptions o;
  o.timeout = std::chrono::milliseconds(100);
  auto r = run_process({"/bin/sleep", "30"}, o);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->timed_out);
  EXPECT_EQ(r->exit_code, 128 + 15);
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
