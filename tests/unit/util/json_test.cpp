#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "util/json.hpp"

namespace netpol {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(JsonStrict, ParsesWhatNlohmannParses) {
  auto j = parse_json_strict(R"({"a": {"b": [1, {"b": 2}]}, "b": "\u00e9", "c": null})", "x.json",
                             ErrorCode::usage);
  ASSERT_TRUE(j) << j.error().message;
  EXPECT_EQ((*j)["a"]["b"][1]["b"], 2);
  EXPECT_EQ((*j)["b"], "\xc3\xa9");
  // The same key in different objects, or in sibling objects of a list, is no repeat.
  auto siblings = parse_json_strict(R"([{"k": 1}, {"k": 2}, {"o": {"k": 3}, "k": 4}])", "x.json",
                                    ErrorCode::usage);
  ASSERT_TRUE(siblings) << siblings.error().message;
}

TEST(JsonStrict, ARepeatedKeyNamesTheKeyAndBothLines) {
  const std::string text = "{\n  \"kind\": \"ExecCredential\",\n  \"status\": {\n"
                           "    \"token\": \"first-secret-value\",\n"
                           "    \"token\" : \"second-secret-value\"\n  }\n}\n";
  auto j = parse_json_strict(text, "out.json", ErrorCode::config);
  ASSERT_FALSE(j);
  EXPECT_EQ(j.error().code, ErrorCode::config);
  EXPECT_EQ(j.error().message,
            "out.json:5: duplicate key \"token\" (also at line 4): remove one of them");
  EXPECT_THAT(j.error().message, Not(HasSubstr("secret-value")));
}

TEST(JsonStrict, KeysAreCountedPastStringsThatLookLikeKeys) {
  // A value holding `"x":` and escaped quotes must not be taken for a key when the line is
  // found.
  const std::string text = "{\"a\": \"\\\"b\\\": 1\",\n\"s\": \"c:\",\n\"a\": 2}";
  auto j = parse_json_strict(text, "t", ErrorCode::usage);
  ASSERT_FALSE(j);
  EXPECT_EQ(j.error().message, "t:3: duplicate key \"a\" (also at line 1): remove one of them");
}

TEST(JsonStrict, EscapedKeysAreComparedDecodedAndShownPrintable) {
  // "\u0041" is "A": the same key, spelt twice.
  auto j = parse_json_strict("{\"A\": 1, \"\\u0041\": 2}", "t", ErrorCode::usage);
  ASSERT_FALSE(j);
  EXPECT_THAT(j.error().message, HasSubstr("duplicate key \"A\""));
  auto esc = parse_json_strict("{\"\\u001b[2J\": 1, \"\\u001b[2J\": 2}", "t", ErrorCode::usage);
  ASSERT_FALSE(esc);
  EXPECT_THAT(esc.error().message, HasSubstr("duplicate key \"\\x1b[2J\""));
  EXPECT_THAT(esc.error().message, Not(HasSubstr("\x1b")));
}

TEST(JsonStrict, SyntaxErrorsGiveLineAndColumnButNoText) {
  auto j = parse_json_strict("{\n  \"token\": secret-token-value\n}", "in.json", ErrorCode::usage);
  ASSERT_FALSE(j);
  EXPECT_EQ(j.error().code, ErrorCode::usage);
  EXPECT_THAT(j.error().message, HasSubstr("in.json:2:"));
  EXPECT_THAT(j.error().message, HasSubstr("not valid JSON"));
  EXPECT_THAT(j.error().message, Not(HasSubstr("secret")));
  EXPECT_FALSE(parse_json_strict("", "e", ErrorCode::usage));
  EXPECT_FALSE(parse_json_strict("{\"a\": \"caf\xe9\"}", "e", ErrorCode::usage));
}

} // namespace
} // namespace netpol
