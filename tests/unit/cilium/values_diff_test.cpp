#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cilium/values_diff.hpp"
#include "cilium/version.hpp"

namespace netpol::cilium {
namespace {

using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(ValuesDiff, EqualValuesGiveNoDiff) {
  const auto v = json::parse(R"({"a": 1, "b": {"c": [1, 2]}})");
  EXPECT_EQ(values_diff(v, v, "before", "after"), "");
  EXPECT_THAT(changed_keys(v, v), IsEmpty());
}

TEST(ValuesDiff, UnifiedDiffWithContext) {
  const auto before = json::parse(R"({"a": 1, "b": 2, "c": 3, "d": 4, "e": 5, "f": 6, "g": 7,
                                      "h": 8, "i": 9, "routingMode": "native"})");
  json after = before;
  after["b"] = 20;
  after["rollOutCiliumPods"] = true;
  EXPECT_EQ(values_diff(before, after, "release", "cilium-values.yaml"),
            "--- release\n"
            "+++ cilium-values.yaml\n"
            "@@ -1,5 +1,5 @@\n"
            " a: 1\n"
            "-b: 2\n"
            "+b: 20\n"
            " c: 3\n"
            " d: 4\n"
            " e: 5\n"
            "@@ -7,4 +7,5 @@\n"
            " g: 7\n"
            " h: 8\n"
            " i: 9\n"
            "+rollOutCiliumPods: true\n"
            " routingMode: native\n");
  EXPECT_THAT(changed_keys(before, after),
              ElementsAre("~ b: 2 -> 20", "+ rollOutCiliumPods: true"));
}

TEST(ValuesDiff, FromNoValues) {
  EXPECT_EQ(values_diff(json::object(), json::parse(R"({"x": true})"), "a", "b"),
            "--- a\n+++ b\n@@ -0,0 +1 @@\n+x: true\n");
  EXPECT_THAT(changed_keys(json::parse(R"({"x": {"y": 1}})"), json::object()),
              ElementsAre("- x.y: 1"));
}

TEST(ValuesDiff, SecretLookingLeavesAreMasked) {
  const auto v = json::parse(R"({"azure": {"clientSecret": "hunter2", "clientID": "id"},
      "hubble": {"tls": {"server": {"key": "LS0tLS1CRUdJTi", "cert": "Y2VydA=="}}},
      "tls": {"secretsNamespace": {"name": "kube-system"}}, "etcd": {"password": ""}})");
  const auto r = redact_secret_values(v);
  EXPECT_EQ(r["azure"]["clientSecret"], "[REDACTED]");
  EXPECT_EQ(r["azure"]["clientID"], "id");
  EXPECT_EQ(r["hubble"]["tls"]["server"]["key"], "[REDACTED]");
  EXPECT_EQ(r["hubble"]["tls"]["server"]["cert"], "Y2VydA==");
  EXPECT_EQ(r["tls"]["secretsNamespace"]["name"], "kube-system");
  EXPECT_EQ(r["etcd"]["password"], ""); // nothing to hide
}

TEST(CiliumVersion, ParsesComparesAndJudgesLines) {
  auto v = parse_version("v1.20.0");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->text, "1.20.0");
  EXPECT_EQ(v->line(), "1.20");
  EXPECT_TRUE(is_supported_line(*v));
  EXPECT_FALSE(is_test_build(*v));
  auto test = parse_version("1.19.5-test");
  ASSERT_TRUE(test);
  EXPECT_TRUE(is_test_build(*test));
  EXPECT_LT(test->compare(*parse_version("1.19.5")), 0);
  EXPECT_FALSE(is_test_build(*parse_version("1.20.0-pre.3")));
  EXPECT_LT(parse_version("1.9.9")->compare(*parse_version("1.18.0")), 0);
  EXPECT_FALSE(is_supported_line(*parse_version("1.17.18")));
  EXPECT_FALSE(parse_version("latest"));
  EXPECT_FALSE(parse_version("1.x"));
  EXPECT_EQ(supported_lines(), "1.18–1.20");
}

} // namespace
} // namespace netpol::cilium
