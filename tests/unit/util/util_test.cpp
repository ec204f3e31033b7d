#include <iostream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "util/duration.hpp"
#include "util/env.hpp"
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

TEST(Duration, ParsesUnitsAndBareZero) {
  EXPECT_EQ(parse_duration("30s", "x").value(), std::chrono::seconds(30));
  EXPECT_EQ(parse_duration("1m30s", "x").value(), std::chrono::seconds(90));
  EXPECT_EQ(parse_duration("500ms", "x").value(), std::chrono::milliseconds(500));
  EXPECT_EQ(parse_duration("2h", "x").value(), std::chrono::hours(2));
  EXPECT_EQ(parse_duration("0", "x").value(), std::chrono::seconds(0));
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

TEST(Duration, ANumberWithoutUnitOrAbsurdLengthIsAnError) {
  auto bare = parse_duration("30", "--request-timeout");
  ASSERT_FALSE(bare);
  EXPECT_EQ(bare.error().message, "--request-timeout: '30' has no unit: write 30s (or ms, m, h)");
  auto huge = parse_duration("99999999999h", "--since");
  ASSERT_FALSE(huge);
  EXPECT_THAT(huge.error().message, HasSubstr("too long"));
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

TEST(Redaction, UrlPasswordsCookiesAndBase64KeysAreRedacted) {
  EXPECT_EQ(log::redact("import https://user:pa55w0rd@example.com/p.yaml failed"),
            "import https://user:[REDACTED]@example.com/p.yaml failed");
  EXPECT_EQ(log::redact("oci://u:p%40ss@registry/chart and http://h/x@y"),
            "oci://u:[REDACTED]@registry/chart and http://h/x@y");
  EXPECT_EQ(log::redact_url("https://token@gitlab.example/x"), "https://token@gitlab.example/x");
  EXPECT_EQ(log::redact("< Set-Cookie: session=abc123; HttpOnly\n< cookie: a=b\nnext"),
            "< Set-Cookie: [REDACTED]\n< cookie: [REDACTED]\nnext");
  // A values file's TLS key: base64 of a PEM block, also wrapped over lines.
  const std::string pem =
      "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n";
  const std::string b64 =
      "LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0tCk1JSUV2UUlCQURBTkJna3Foa2lHOXcwQkFRRUZBQVND";
  EXPECT_EQ(log::redact("key: " + b64 + "\nnext: 1"), "key: [REDACTED]\nnext: 1");
  EXPECT_EQ(log::redact("key: |\n  " + b64.substr(0, 40) + "\n  " + b64.substr(40) + "\nnext: 1"),
            "key: |\n  [REDACTED]\nnext: 1");
  EXPECT_EQ(log::redact("stderr: " + pem), "stderr: [REDACTED PRIVATE KEY]\n");
  // Cut off before its END line (a truncated message), the block is still redacted.
  EXPECT_EQ(log::redact("-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIB..."),
            "[REDACTED EC PRIVATE KEY]");
}

TEST(Redaction, RegisteredKeyMaterialIsAlsoRedactedBase64Encoded) {
  const std::string key = "0123456789abcdefghijklmnopqrstuvwxyz-key-material";
  log::register_secret(key);
  // base64("0123456789abcdefghijklmnopqrstuvwxyz-key-material")
  EXPECT_EQ(
      log::redact("data: MDEyMzQ1Njc4OWFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6LWtleS1tYXRlcmlhbA=="),
      "data: [REDACTED]");
}

TEST(Redaction, SecretCiVariablesAreRegisteredByName) {
  EXPECT_TRUE(log::is_secret_variable_name("CI_JOB_TOKEN"));
  EXPECT_TRUE(log::is_secret_variable_name("CI_REGISTRY_PASSWORD"));
  EXPECT_TRUE(log::is_secret_variable_name("CI_JOB_JWT_V2"));
  EXPECT_TRUE(log::is_secret_variable_name("AWS_SECRET_ACCESS_KEY"));
  EXPECT_FALSE(log::is_secret_variable_name("SECRET_DETECTION_DISABLED"));
  EXPECT_FALSE(log::is_secret_variable_name("SSL_CERT_FILE"));
  EXPECT_FALSE(log::is_secret_variable_name("CI_PROJECT_ID"));
  MapEnvironment env{{"CI_JOB_TOKEN", "glcbt-64_job-token-value"},
                     {"MY_API_TOKEN", "true"},
                     {"DEPLOY_PASSWORD", "12345678"},
                     {"CI_PROJECT_PATH", "group/project-with-a-long-name"}};
  log::register_secret_variables(env);
  EXPECT_EQ(log::redact("t=glcbt-64_job-token-value true 12345678 group/project-with-a-long-name"),
            "t=[REDACTED] true 12345678 group/project-with-a-long-name");
}

TEST(Redaction, StreamBufferRedactsWholeMessagesAndHoldsPemBlocksUntilTheirEnd) {
  log::register_secret("stream-secret-value");
  std::ostringstream sink;
  {
    log::RedactingStreambuf buffer(sink);
    std::ostream out(&buffer);
    // Written in pieces: the secret is never split between two redaction passes.
    out << "a stream-"
        << "secret-"
        << "value b" << std::endl;
    EXPECT_EQ(sink.str(), "a [REDACTED] b\n");
    out << "-----BEGIN RSA PRIVATE KEY-----\nMIIabc\n" << std::flush;
    EXPECT_EQ(sink.str(), "a [REDACTED] b\n"); // held: the block has not ended
    out << "-----END RSA PRIVATE KEY-----\ntail" << std::flush;
    EXPECT_EQ(sink.str(), "a [REDACTED] b\n[REDACTED RSA PRIVATE KEY]\ntail");
    out << " unflushed";
  }
  EXPECT_EQ(sink.str(), "a [REDACTED] b\n[REDACTED RSA PRIVATE KEY]\ntail unflushed");
}

TEST(Printable, ControlsAndEscapeSequencesAreShownEscaped) {
  EXPECT_EQ(log::printable("ns\x1b[2J\x1b]0;owned\x07"), "ns\\x1b[2J\\x1b]0;owned\\x07");
  EXPECT_EQ(log::printable("a\nb\tc"), "a\\nb\\tc");
  EXPECT_EQ(log::printable("a\nb\tc", true), "a\nb\tc");
  EXPECT_EQ(log::printable("c1\xc2\x9b"
                           "31m"),
            "c1\\u009b31m");
  EXPECT_EQ(log::printable("bidi\xe2\x80\xae"
                           "evil"),
            "bidi\\u202eevil");
  EXPECT_EQ(log::printable("bad\xff\xc3"), "bad\\xff\\xc3");
  EXPECT_EQ(log::printable("nonchar\xef\xbf\xbe"), "nonchar\\ufffe");
  EXPECT_EQ(log::printable("é 日本 😀 del\x7f"), "é 日本 😀 del\\x7f");
  // Line and paragraph separators end a YAML comment for YAML 1.1 readers.
  EXPECT_EQ(log::printable("ls\xe2\x80\xa8ps\xe2\x80\xa9"), "ls\\u2028ps\\u2029");
}

} // namespace
} // namespace netpol
