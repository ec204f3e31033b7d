#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "kube/client.hpp"
#include "kube/transport.hpp"
#include "support/paths.hpp"

namespace netpol::kube {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string read(const std::filesystem::path& p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(ApiError, EveryRecordedStatusBody) {
  int checked = 0;
  for (const auto& entry : std::filesystem::directory_iterator(test::testdata("k8s/status"))) {
    const auto body = read(entry.path());
    const auto status = nlohmann::json::parse(body);
    if (status.value("kind", "") != "Status" || status.value("status", "") != "Failure") {
      continue; // the watch event and the success body are not error answers
    }
    const int code = status["code"].get<int>();
    const auto e = api_error(code, body, "get NetworkPolicy/team-a/web");
    SCOPED_TRACE(entry.path().filename().string());
    EXPECT_EQ(e.code, ErrorCode::api);
    EXPECT_EQ(e.http_status, code);
    EXPECT_EQ(e.reason, status["reason"].get<std::string>());
    const auto message = status["message"].get<std::string>();
    // A request taken as anonymous also says what that means (the credentials were refused).
    const std::string hint =
        message.find("\"system:anonymous\"") != std::string::npos
            ? " (the server did not accept the credentials and took the request as anonymous: "
              "check the kubeconfig user's token or client certificate)"
            : "";
    EXPECT_EQ(e.message,
              "get NetworkPolicy/team-a/web: " + message.substr(0, message.find('\n')) + hint);
    EXPECT_EQ(kube::is_anonymous(e), !hint.empty());
    EXPECT_EQ(e.message.find('\n'), std::string::npos);
    const auto causes =
        status.value("details", nlohmann::json::object()).value("causes", nlohmann::json::array());
    EXPECT_EQ(e.details.size(), causes.size());
    ++checked;
  }
  EXPECT_GE(checked, 12);
}

TEST(ApiError, CausesBecomeFieldDetails) {
  const auto body = read(test::testdata("k8s/status/409-apply-conflict.json"));
  const auto e = api_error(409, body, "apply NetworkPolicy/a/b");
  EXPECT_TRUE(is_conflict(e));
  ASSERT_EQ(e.details.size(), 1U);
  EXPECT_EQ(
      e.details[0],
      ".spec.policyTypes: conflict with \"kubectl-client-side-apply\" using networking.k8s.io/v1");
}

TEST(ApiError, MultiLineConflictMessageStaysOneLine) {
  const std::string body = R"({"kind":"Status","status":"Failure","reason":"Conflict","code":409,
    "message":"Apply failed with 2 conflicts: conflicts with \"m\":\n- .spec.a\n- .spec.b"})";
  const auto e = api_error(409, body, "apply X/y");
  EXPECT_EQ(e.message, "apply X/y: Apply failed with 2 conflicts: conflicts with \"m\":");
  EXPECT_EQ(e.details, (std::vector<std::string>{"- .spec.a", "- .spec.b"}));
}

TEST(ApiError, NonStatusBodiesStillExplain) {
  auto e = api_error(502, "<html><body>Bad Gateway</body></html>", "list Pod");
  EXPECT_EQ(e.http_status, 502);
  EXPECT_THAT(e.message,
              AllOf(StartsWith("list Pod: "), HasSubstr("HTTP 502"), HasSubstr("Bad Gateway")));
  e = api_error(401, "", "get /version");
  EXPECT_EQ(e.reason, "Unauthorized");
  EXPECT_THAT(e.message, HasSubstr("provide credentials"));
  e = api_error(503, std::string(1000, 'x'), "x");
  EXPECT_LT(e.message.size(), 400U); // a long body is cut
  e = api_error(403, "Forbidden: Bearer abc.def-secret", "x");
  EXPECT_THAT(e.message, ::testing::Not(HasSubstr("abc.def-secret")));
}

TEST(Retry, RetryAfterWinsAndIsCapped) {
  RetryPolicy p;
  p.max_retry_after = std::chrono::seconds(10);
  EXPECT_EQ(retry_delay(p, 1, std::chrono::seconds(3)), std::chrono::seconds(3));
  EXPECT_EQ(retry_delay(p, 1, std::chrono::seconds(300)), std::chrono::seconds(10));
}

TEST(Retry, BackoffDoublesUpToTheCapWithJitter) {
  RetryPolicy p;
  p.base_delay = std::chrono::milliseconds(100);
  p.max_delay = std::chrono::milliseconds(1000);
  for (int attempt = 1; attempt <= 8; ++attempt) {
    const auto ceiling = std::min<long>(100L << (attempt - 1), 1000L);
    Duration largest{0};
    for (int i = 0; i < 200; ++i) {
      const auto d = retry_delay(p, attempt, std::nullopt);
      EXPECT_GE(d.count(), 0);
      EXPECT_LE(d.count(), ceiling) << attempt;
      largest = std::max(largest, d);
    }
    EXPECT_GT(largest.count(), ceiling / 2) << "jitter spans the range";
  }
}

TEST(Retry, ParsesDeltaSecondsAndHttpDates) {
  EXPECT_EQ(parse_retry_after("5"), std::chrono::seconds(5));
  EXPECT_EQ(parse_retry_after(" 0 "), std::chrono::seconds(0));
  // An HTTP-date is the time from now until then; a date already past means "now".
  const auto now = std::chrono::system_clock::from_time_t(1445412470); // 07:27:50 GMT
  EXPECT_EQ(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now), std::chrono::seconds(10));
  EXPECT_EQ(parse_retry_after("Wed, 21 Oct 2015 07:27:00 GMT", now), Duration(0));
  EXPECT_FALSE(parse_retry_after("Wed, 21 Oct 2015 07:28:00", now)) << "IMF-fixdate says GMT";
  EXPECT_FALSE(parse_retry_after("21 Oct 2015", now));
  EXPECT_FALSE(parse_retry_after("-1"));
  EXPECT_FALSE(parse_retry_after(""));
}

TEST(Describe, NamesKindNamespaceAndName) {
  EXPECT_EQ(
      describe({{"kind", "NetworkPolicy"}, {"metadata", {{"name", "a"}, {"namespace", "n"}}}}),
      "NetworkPolicy/n/a");
  EXPECT_EQ(describe({{"kind", "Namespace"}, {"metadata", {{"name", "n"}}}}), "Namespace/n");
}

} // namespace
} // namespace netpol::kube
