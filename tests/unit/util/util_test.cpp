#include <iostream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "util/duration.hpp"
#include "util/error.hpp"
#include "util/log.hpp"

namespace netpol {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(ErrorCodes, MapToSpecExitCodes) {
  EXPECT_EQ(exit_code(ErrorCode::usage), 2);
  EXPECT_EQ(exit_code(ErrorCode::config), 2);
  EXPECT_EQ(exit_code(ErrorCode::invalid_policy), 3);
  EXPECT_EQ(exit_code(ErrorCode::check_failed), 4);
  EXPECT_EQ(exit_code(ErrorCode::api), 1);
  EXPECT_EQ(exit_code(ErrorCode::unreachable), 1);
  EXPECT_EQ(exit_code(ErrorCode::timeout), 1);
}

TEST(ErrorFormat, OneLinePlusIndentedDetails) {
  Error e(ErrorCode::api, "applying NetworkPolicy/shop/deny-all: 422 Invalid");
  e.details = {"spec.podSelector: Required value"};
  EXPECT_EQ(format_error(e), "netpol: error: applying NetworkPolicy/shop/deny-all: 422 Invalid\n"
                             "  spec.podSelector: Required value\n");
  e.wrap("apply");
  EXPECT_THAT(e.message, ::testing::StartsWith("apply: applying"));
}

TEST(Duration, ParsesUnitsAndBareSeconds) {
  EXPECT_EQ(parse_duration("30s", "x").value(), std::chrono::seconds(30));
  EXPECT_EQ(parse_duration("1m30s", "x").value(), std::chrono::seconds(90));
  EXPECT_EQ(parse_duration("500ms", "x").value(), std::chrono::milliseconds(500));
  EXPECT_EQ(parse_duration("2h", "x").value(), std::chrono::hours(2));
  EXPECT_EQ(parse_duration("15", "x").value(), std::chrono::seconds(15));
  EXPECT_EQ(parse_duration("1.5s", "x").value(), std::chrono::milliseconds(1500));
}

TEST(Duration, RejectsGarbage) {
  for (const char* bad : {"", "s", "10x", "-5s", "1m-", "5 s"}) {
    auto d = parse_duration(bad, "--timeout");
    ASSERT_FALSE(d.has_value()) << bad;
    EXPECT_EQ(d.error().code, ErrorCode::usage);
    EXPECT_THAT(d.error().message, HasSubstr("--timeout"));
  }
}

TEST(Duration, Formats) {
  EXPECT_EQ(format_duration(std::chrono::seconds(90)), "1m30s");
  EXPECT_EQ(format_duration(std::chrono::milliseconds(250)), "250ms");
  EXPECT_EQ(format_duration(std::chrono::hours(1)), "1h");
}

TEST(Redaction, RegisteredSecretsBearerAndPemNeverReachTheLog) {
  std::ostringstream sink;
  log::configure(sink, spdlog::level::trace);
  log::register_secret("s3cr3t-t0ken-value");
  spdlog::trace("token is s3cr3t-t0ken-value here");
  spdlog::debug("Authorization: Bearer abc.def-ghi");
  spdlog::info("key -----BEGIN EC PRIVATE KEY-----\nMHcCAQEE\n-----END EC PRIVATE KEY----- end");
  const auto text = sink.str();
  EXPECT_THAT(text, Not(HasSubstr("s3cr3t-t0ken-value")));
  EXPECT_THAT(text, Not(HasSubstr("abc.def-ghi")));
  EXPECT_THAT(text, Not(HasSubstr("MHcCAQEE")));
  EXPECT_THAT(text, HasSubstr("[REDACTED]"));
  EXPECT_THAT(text, HasSubstr("[REDACTED EC PRIVATE KEY]"));
  log::configure(std::cerr, spdlog::level::warn); // `sink` dies here; later tests log too
}

} // namespace
} // namespace netpol
