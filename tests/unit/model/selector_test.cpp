// One label selector: read once (strictly with the problem's pointer, or leniently as lint
// matches), then matched.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "model/selector.hpp"

namespace netpol::model {
namespace {

using nlohmann::json;

LabelSelector selector(const char* text) {
  auto parsed = LabelSelector::parse(json::parse(text), "/sel");
  EXPECT_TRUE(parsed.has_value()) << parsed.error().message;
  return parsed.value_or(LabelSelector{});
}

TEST(LabelSelector, MatchLabelsAndExpressionsAreAnded) {
  const auto s = selector(R"({"matchLabels":{"app":"web"},"matchExpressions":[
      {"key":"tier","operator":"In","values":["a","b"]},
      {"key":"canary","operator":"DoesNotExist"}]})");
  EXPECT_TRUE(s.matches({{"app", "web"}, {"tier", "b"}}));
  EXPECT_FALSE(s.matches({{"app", "web"}, {"tier", "c"}}));
  EXPECT_FALSE(s.matches({{"app", "web"}, {"tier", "a"}, {"canary", "1"}}));
  EXPECT_FALSE(s.matches({{"tier", "a"}}));
}

TEST(LabelSelector, NotInAlsoMatchesLabelSetsWithoutTheKey) {
  const auto s =
      selector(R"({"matchExpressions":[{"key":"env","operator":"NotIn","values":["prod"]}]})");
  EXPECT_TRUE(s.matches({}));
  EXPECT_TRUE(s.matches({{"env", "dev"}}));
  EXPECT_FALSE(s.matches({{"env", "prod"}}));
}

TEST(LabelSelector, NullAndEmptySelectEverything) {
  EXPECT_TRUE(selector("null").matches({{"a", "b"}}));
  EXPECT_TRUE(selector("{}").empty());
}

TEST(LabelSelector, ScalarLabelValuesReadAsTheirText) {
  EXPECT_TRUE(selector(R"({"matchLabels":{"version":2}})").matches({{"version", "2"}}));
  EXPECT_TRUE(selector(R"({"matchExpressions":[{"key":"on","operator":"In","values":[true]}]})")
                  .matches({{"on", "true"}}));
}

bool lenient_matches(const char* text, const Labels& labels) {
  const auto read = LabelSelector::read_lenient(json::parse(text));
  return read && read->matches(labels);
}

TEST(LabelSelector, LenientReadingMatchesNothingWhenMalformed) {
  const Labels labels = {{"app", "web"}, {"version", "2"}};
  EXPECT_TRUE(lenient_matches("null", labels));
  EXPECT_TRUE(lenient_matches(R"({"matchLabels":{"app":"web"}})", labels));
  EXPECT_FALSE(lenient_matches("[]", labels));
  EXPECT_FALSE(lenient_matches(R"({"matchLabels":{"version":2}})", labels));
  EXPECT_FALSE(lenient_matches(R"({"matchExpressions":[{"key":"app","operator":"Has"}]})", labels));
  EXPECT_FALSE(lenient_matches(R"({"matchExpressions":[{"operator":"Exists"}]})", labels));
  EXPECT_FALSE(lenient_matches(R"({"matchExpressions":[7]})", labels));
}

TEST(LabelSelector, LenientReadingIgnoresWhatDoesNotChangeTheAnswer) {
  const Labels labels = {{"app", "web"}};
  EXPECT_TRUE(lenient_matches(R"({"matchLabels":[1]})", labels)) << "a matchLabels list";
  EXPECT_TRUE(lenient_matches(R"({"matchExpressions":{}})", labels));
  EXPECT_TRUE(lenient_matches(
      R"({"matchExpressions":[{"key":"app","operator":"In","values":["web",2]}]})", labels));
  EXPECT_TRUE(lenient_matches(
      R"({"matchExpressions":[{"key":"app","operator":"Exists","values":["x"]}]})", labels));
  EXPECT_FALSE(lenient_matches(R"({"matchExpressions":[{"key":"app","operator":"In"}]})", labels))
      << "In without values matches nothing";
  EXPECT_TRUE(lenient_matches(R"({"matchExpressions":[{"key":"app","operator":"NotIn"}]})", labels))
      << "NotIn without values matches everything";
}

TEST(LabelSelector, MalformedSelectorsSayWhere) {
  const std::vector<std::pair<const char*, const char*>> cases = {
      {R"([])", "/sel"},
      {R"({"matchLabels":[]})", "/sel/matchLabels"},
      {R"({"matchLabels":{"a/b":{}}})", "/sel/matchLabels/a~1b"},
      {R"({"matchExpressions":[{"key":"a","operator":"Has"}]})",
       "/sel/matchExpressions/0/operator"},
      {R"({"matchExpressions":[{"key":"a","operator":"In"}]})", "/sel/matchExpressions/0/values"},
      {R"({"matchExpressions":[{"key":"a","operator":"Exists","values":["x"]}]})",
       "/sel/matchExpressions/0/values"},
      {R"({"matchExpressions":[{"operator":"Exists"}]})", "/sel/matchExpressions/0"},
  };
  for (const auto& [text, pointer] : cases) {
    auto parsed = LabelSelector::parse(json::parse(text), "/sel");
    ASSERT_FALSE(parsed.has_value()) << text;
    EXPECT_EQ(parsed.error().pointer, pointer) << text;
  }
}

TEST(LabelSelector, EqualSelectorsHaveOneCanonicalForm) {
  EXPECT_EQ(selector(R"({"matchLabels":{"a":"1","b":"2"}})").canonical(),
            selector(R"({"matchExpressions":[{"key":"b","operator":"In","values":["2"]},
                                             {"key":"a","operator":"In","values":["1"]}]})")
                .canonical());
  EXPECT_NE(selector(R"({"matchLabels":{"a":"1"}})").canonical(),
            selector(R"({"matchLabels":{"a":"2"}})").canonical());
}

TEST(LabelSelector, MentionsKeysAndPrefixes) {
  const auto s = selector(R"({"matchLabels":{"k8s:io.kubernetes.pod.namespace":"x"}})");
  EXPECT_TRUE(s.mentions("k8s:io.kubernetes.pod.namespace"));
  EXPECT_TRUE(s.mentions_prefix("k8s:io.kubernetes."));
  EXPECT_FALSE(s.mentions_prefix("k8s:io.cilium."));
}

} // namespace
} // namespace netpol::model
