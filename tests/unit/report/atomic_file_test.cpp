#include "report/atomic_file.hpp"

#include <signal.h>

#include <filesystem>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/temp_dir.hpp"
#include "util/cancel.hpp"

namespace netpol::report {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;

std::vector<fs::path> temporaries(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().filename().string().find(".tmp-") != std::string::npos) out.push_back(e.path());
  return out;
}

TEST(AtomicFile, AStreamedFileAppearsWholeOnCommitOnly) {
  test::TempDir dir;
  const auto target = dir.path() / "nested" / "drop-log.jsonl";
  auto file = AtomicFile::open(target);
  ASSERT_TRUE(file) << file.error().message;
  // Several 1 MiB blocks: the background thread writes all but the last.
  const std::string line(1000, 'x');
  for (int i = 0; i < 5000; ++i) {
    file->write(line);
    file->write("\n");
  }
  // Until the commit, only a private temporary file exists.
  EXPECT_FALSE(fs::exists(target));
  const auto tmp = temporaries(target.parent_path());
  ASSERT_THAT(tmp, SizeIs(1));
  EXPECT_EQ(fs::status(tmp[0]).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);

  ASSERT_TRUE(file->commit());
  EXPECT_EQ(fs::file_size(target), 5000u * 1001u);
  EXPECT_EQ(fs::status(target).permissions() & fs::perms::others_read, fs::perms::others_read);
  EXPECT_THAT(temporaries(target.parent_path()), IsEmpty());
  auto again = file->commit();
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::internal);
}

TEST(AtomicFile, AFileNotCommittedLeavesNothingAndTheOldFileStands) {
  test::TempDir dir;
  const auto target = dir.write("drop-log.txt", "the last run's\n");
  {
    auto file = AtomicFile::open(target);
    ASSERT_TRUE(file);
    file->write(std::string(3u << 20, 'y')); // the thread is running
    auto moved = std::move(*file);           // the moved-from file owns nothing
  }
  EXPECT_EQ(dir.read("drop-log.txt"), "the last run's\n");
  EXPECT_THAT(temporaries(dir.path()), IsEmpty());
}

TEST(AtomicFile, ACancelledCommandStillWritesItsReportsAndLeavesNoTemporaryFile) {
  // After SIGTERM the reports are written on the way out (SPEC §5); what a cancelled step had
  // begun and not committed is removed.
  test::TempDir dir;
  cancel::request(SIGTERM);
  {
    auto begun = AtomicFile::open(dir.path() / "drop-log.jsonl");
    ASSERT_TRUE(begun);
    begun->write("{}\n");
  }
  EXPECT_TRUE(write_file_atomic(dir.path() / "junit-drops.xml", "<testsuites/>\n"));
  cancel::reset();
  EXPECT_EQ(dir.read("junit-drops.xml"), "<testsuites/>\n");
  EXPECT_FALSE(fs::exists(dir.path() / "drop-log.jsonl"));
  EXPECT_THAT(temporaries(dir.path()), IsEmpty());
}

TEST(AtomicFile, WhatIsWrittenIsRedacted) {
  test::TempDir dir;
  auto file = AtomicFile::open(dir.path() / "streamed.txt");
  ASSERT_TRUE(file);
  file->write("Authorization: Bearer abc.def-secret-token\n");
  ASSERT_TRUE(file->commit());
  EXPECT_THAT(dir.read("streamed.txt"), Not(HasSubstr("abc.def-secret-token")));
  ASSERT_TRUE(write_file_atomic(dir.path() / "whole.txt",
                                "tls:\n  key: LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0t\n"));
  EXPECT_EQ(dir.read("whole.txt"), "tls:\n  key: [REDACTED]\n");
}

TEST(AtomicFile, AnUncreatableFileIsAnIoErrorNamingIt) {
  auto file = AtomicFile::open("/proc/netpol-cannot-write-here/a.txt");
  ASSERT_FALSE(file);
  EXPECT_EQ(file.error().code, ErrorCode::io);
  EXPECT_THAT(file.error().message, HasSubstr("/proc/netpol-cannot-write-here"));
}

} // namespace
} // namespace netpol::report
