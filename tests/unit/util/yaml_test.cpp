#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <filesystem>

#include "support/temp_dir.hpp"
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

// Strings a YAML 1.1 reader (Helm, kubectl, PyYAML) takes for booleans, nulls, numbers or
// dates when plain, or cannot read when raw; tests/io/test_hostile_io.py reads them back
// with PyYAML too.
const std::vector<std::string> k_adversarial_strings = {"Yes",
                                                        "yes",
                                                        "ON",
                                                        "Off",
                                                        "Y",
                                                        "y",
                                                        "N",
                                                        "n",
                                                        "~",
                                                        "null",
                                                        "NULL",
                                                        "true",
                                                        "False",
                                                        ".nan",
                                                        ".NaN",
                                                        ".inf",
                                                        "-.Inf",
                                                        "0x1F",
                                                        "017",
                                                        "0o17",
                                                        "0b101",
                                                        "1_000",
                                                        "1:20",
                                                        "1e3",
                                                        "1.",
                                                        "+1",
                                                        "-0",
                                                        "2001-12-14",
                                                        "2001-12-14T21:59:43Z",
                                                        "<<",
                                                        "=",
                                                        "a:",
                                                        "a: b",
                                                        "a #b",
                                                        "#c",
                                                        "- x",
                                                        "-",
                                                        "?",
                                                        "[a]",
                                                        "{a}",
                                                        "*x",
                                                        "&x",
                                                        "!x",
                                                        "%x",
                                                        "@x",
                                                        "`x",
                                                        "|",
                                                        ">",
                                                        "'q'",
                                                        "\"q\"",
                                                        " lead",
                                                        "trail ",
                                                        "multi\nline",
                                                        "tab\tx",
                                                        "cr\rx",
                                                        "\x1b[31mred\x1b]0;title\x07",
                                                        "del\x7f",
                                                        "c1\xc2\x9b",
                                                        "nel\xc2\x85",
                                                        "ls\xe2\x80\xa8x",
                                                        "\xef\xbf\xbe",
                                                        "\xef\xbb\xbf"
                                                        "bom",
                                                        "é ü 日本",
                                                        "😀",
                                                        "",
                                                        " ",
                                                        "\\",
                                                        "a\\nb"};

TEST(Yaml, AdversarialStringsComeBackAsTheSameStrings) {
  nlohmann::json object = nlohmann::json::object();
  nlohmann::json list = nlohmann::json::array();
  for (const auto& s : k_adversarial_strings) {
    object[s] = s; // as keys too
    list.push_back(s);
  }
  const nlohmann::json v = {{"object", object}, {"list", list}};
  const auto text = to_yaml(v);
  auto back = parse_yaml_documents(text, "t");
  ASSERT_TRUE(back.has_value()) << back.error().message << "\n" << text;
  for (const auto& s : k_adversarial_strings) {
    // U+FFFE is not a character: YAML::Emitter writes U+FFFD in its place.
    const std::string expected = s == "\xef\xbf\xbe" ? "\xef\xbf\xbd" : s;
    EXPECT_TRUE((*back)[0].value["object"].contains(expected)) << s << "\n" << text;
  }
  EXPECT_EQ((*back)[0].value["list"].size(), list.size());
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string expected =
        list[i] == "\xef\xbf\xbe" ? std::string("\xef\xbf\xbd") : list[i].get<std::string>();
    EXPECT_EQ((*back)[0].value["list"][i], expected) << list[i];
  }
  // The YAML 1.1 look-alikes are quoted (our reader is YAML 1.2 and would not notice).
  for (const char* s : {"Yes", "ON", "Y", "n", "~", ".nan", "0x1F", "017", "1:20", "2001-12-14"})
    EXPECT_THAT(text, HasSubstr(std::string("- \"") + s + "\"\n")) << s;
  // Raw DEL and C1 controls never reach the file.
  EXPECT_EQ(text.find('\x7f'), std::string::npos);
  EXPECT_EQ(text.find("\xc2\x9b"), std::string::npos);
  EXPECT_EQ(text.find('\x1b'), std::string::npos);
}

TEST(Yaml, NumbersBooleansAndNullStayTyped) {
  const nlohmann::json v = {{"i", 80},
                            {"n", -3},
                            {"f", 1.5},
                            {"b", false},
                            {"z", nullptr},
                            {"big", 18446744073709551615ULL},
                            {"e", nlohmann::json::object()},
                            {"l", nlohmann::json::array()}};
  auto back = parse_yaml_documents(to_yaml(v), "t");
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ((*back)[0].value, v) << to_yaml(v);
}

TEST(Yaml, AliasBombIsAnErrorNotAnAbort) {
  // The 495-byte "billion laughs": 10^9 strings by nine levels of aliases.
  std::string bomb =
      "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n";
  for (char c = 'b'; c <= 'i'; ++c) {
    const char prev = static_cast<char>(c - 1);
    bomb += std::string(1, c) + ": &" + c + " [";
    for (int i = 0; i < 9; ++i)
      bomb += std::string(i ? "," : "") + "*" + prev;
    bomb += "]\n";
  }
  auto r = parse_yaml_documents(bomb, "bomb.yaml");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::invalid_policy);
  EXPECT_THAT(r.error().message, ::testing::StartsWith("bomb.yaml:"));
  EXPECT_THAT(r.error().message, HasSubstr("aliases expand to more than 100000 nodes"));
  // A few aliases are fine.
  auto ok = parse_yaml_documents("a: &x {p: 1}\nb: *x\nc: *x\n", "ok.yaml");
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ((*ok)[0].value["c"], nlohmann::json({{"p", 1}}));
}

TEST(Yaml, DeepNestingIsAnError) {
  for (const std::string& text :
       {std::string(100000, '[') + std::string(100000, ']'), std::string(5000, '{') + "a: 1", [] {
          std::string s;
          for (int i = 0; i < 200; ++i)
            s += std::string(static_cast<size_t>(i), ' ') + "k:\n";
          return s;
        }()}) {
    auto r = parse_yaml_documents(text, "deep.yaml", ErrorCode::config);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, ErrorCode::config);
    EXPECT_THAT(r.error().message, HasSubstr("nested deeper than 64 levels"));
  }
}

TEST(Yaml, DuplicateKeysAreAnErrorWithBothLines) {
  auto r = parse_yaml_documents("metadata:\n  name: a\n  labels: {}\n  name: b\n", "dup.yaml");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message,
            "dup.yaml:4:3: duplicate key \"name\" (also at line 2): remove one of them");
  auto flow = parse_yaml_documents("{a: 1, a: 2}", "dup.json");
  ASSERT_FALSE(flow.has_value());
  EXPECT_THAT(flow.error().message, HasSubstr("duplicate key \"a\""));
  // The same key in different maps is fine.
  EXPECT_TRUE(parse_yaml_documents("a: {x: 1}\nb: {x: 1}\n", "ok.yaml").has_value());
}

TEST(Yaml, SpecialFilesAreRefusedByName) {
  test::TempDir dir;
  const auto fifo = dir.file("fifo.yaml");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const auto loop = dir.file("loop.yaml");
  std::filesystem::create_symlink(loop, loop);
  const auto big = dir.write("big.yaml", std::string(17u * 1024 * 1024, '#'));
  const std::vector<std::pair<std::string, std::string>> cases = {
      {fifo, "not a regular file (a FIFO)"},
      {"/dev/zero", "not a regular file (a character device)"},
      {loop, "symbolic link loop"},
      {big, "larger than 16 MiB"},
      {dir.path().string(), "not a regular file (a directory)"},
  };
  for (const auto& [path, expected] : cases) {
    auto r = load_yaml_file(path, ErrorCode::config);
    ASSERT_FALSE(r.has_value()) << path;
    EXPECT_EQ(r.error().code, ErrorCode::config);
    EXPECT_THAT(r.error().message, ::testing::StartsWith(path + ": ")) << path;
    EXPECT_THAT(r.error().message, HasSubstr(expected)) << path;
  }
}

} // namespace
} // namespace netpol
