#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "util/yaml.hpp"

namespace netpol {
namespace {

using ::testing::HasSubstr;

TEST(Yaml, MultiDocumentWithTypesAndLines) {
  const char* text = "apiVersion: v1\nkind: A\nspec:\n  port: 80\n  name: \"80\"\n  on: true\n"
                     "  list:\n  - x\n  - 1.5\n  empty: ~\n---\nkind: B\n";
  auto docs = parse_yaml_documents(text, "p.yaml");
  ASSERT_TRUE(docs.has_value()) << docs.error().message;
  ASSERT_EQ(docs->size(), 2u);
  const auto& a = (*docs)[0];
  EXPECT_EQ(a.value["spec"]["port"], 80);
  EXPECT_EQ(a.value["spec"]["name"], "80");
  EXPECT_EQ(a.value["spec"]["on"], true);
  EXPECT_EQ(a.value["spec"]["list"][1], 1.5);
  EXPECT_TRUE(a.value["spec"]["empty"].is_null());
  EXPECT_EQ(a.where("/spec/port"), "p.yaml:4");
  EXPECT_EQ(a.where("/spec/list/1"), "p.yaml:9");
  EXPECT_EQ(a.where("/spec/missing/deeper"), "p.yaml:3");
  EXPECT_EQ((*docs)[1].line, 12);
}

TEST(Yaml, SyntaxErrorNamesFileLineColumn) {
  auto docs = parse_yaml_documents("a: b\n  c: [d\n", "bad.yaml");
  ASSERT_FALSE(docs.has_value());
  EXPECT_EQ(docs.error().code, ErrorCode::invalid_policy);
  EXPECT_THAT(docs.error().message, ::testing::StartsWith("bad.yaml:"));
  EXPECT_THAT(docs.error().message, HasSubstr("invalid YAML"));
}

// Bytes that are not UTF-8 would reach objects that cannot be serialised (found by the
// policy loader fuzzer); they are an input error naming the line.
TEST(Yaml, InvalidUtf8NamesTheLine) {
  auto docs = parse_yaml_documents("a: b\nc: d\ne: caf\xe9\n", "latin1.yaml");
  ASSERT_FALSE(docs.has_value());
  EXPECT_EQ(docs.error().code, ErrorCode::invalid_policy);
  EXPECT_EQ(docs.error().message, "latin1.yaml:3: not valid UTF-8 text (save the file as UTF-8)");
  EXPECT_TRUE(parse_yaml_documents("e: caf\xc3\xa9\n", "utf8.yaml").has_value());
}

TEST(Yaml, MissingFile) {
  auto docs = load_yaml_file("/nonexistent/x.yaml", ErrorCode::config);
  ASSERT_FALSE(docs.has_value());
  EXPECT_EQ(docs.error().code, ErrorCode::config);
  EXPECT_THAT(docs.error().message, HasSubstr("/nonexistent/x.yaml: cannot read file"));
}

TEST(Yaml, RoundTripsThroughToYaml) {
  nlohmann::json v = {{"metadata", {{"name", "a"}, {"labels", {{"x", "true"}, {"y", "80"}}}}},
                      {"spec",
                       {{"ports", {{{"port", 80}, {"protocol", "TCP"}}, {{"port", 53}}}},
                        {"podSelector", nlohmann::json::object()},
                        {"items", {"a: b", "-x", ""}}}}};
  const auto text = to_yaml(v);
  auto back = parse_yaml_documents(text, "t");
  ASSERT_TRUE(back.has_value()) << text;
  EXPECT_EQ((*back)[0].value, v) << text;
}

// yaml-cpp 0.7 never returns from LoadAll on these (found by the kubeconfig fuzzer).
TEST(Yaml, InputsThatHangYamlCppAreErrors) {
  for (const char* text : {",", "a: 1\n---\n,\n", "---\n# comment\n ,context:\n  x: 1\n"}) {
    auto r = parse_yaml_documents(text, "in.yaml", ErrorCode::config);
    ASSERT_FALSE(r.has_value()) << text;
    EXPECT_EQ(r.error().code, ErrorCode::config);
    EXPECT_THAT(r.error().message, ::testing::StartsWith("in.yaml:")) << text;
  }
  // Empty documents in a stream still parse.
  auto empty = parse_yaml_documents("---\n---\na: 1\n", "in.yaml");
  ASSERT_TRUE(empty.has_value());
  EXPECT_EQ(empty->back().value, nlohmann::json({{"a", 1}}));
}

} // namespace
} // namespace netpol
