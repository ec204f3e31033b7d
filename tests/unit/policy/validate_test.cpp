// The API server's NetworkPolicy validation cases (tests/data/netpol/k8s-validation): every
// valid case accepted, every invalid case rejected at the expected field path.
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "policy/loader.hpp"
#include "policy/validate.hpp"
#include "support/paths.hpp"

namespace netpol::policy {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

fs::path validation_dir() {
  return test::testdata("netpol/k8s-validation");
}

struct Expectation {
  std::string file;
  std::vector<std::string> fields; // every field path that must carry an error
  std::string type;                // "" when the data does not say
};

// "spec.egress[0].ports[0..2].endPort" -> three paths; "a / b" and "a, b" -> two.
std::vector<std::string> expand_paths(const std::string& text) {
  std::vector<std::string> parts;
  static const std::regex sep(" / |, ");
  for (std::sregex_token_iterator it(text.begin(), text.end(), sep, -1), end; it != end; ++it)
    parts.push_back(*it);
  std::vector<std::string> out;
  static const std::regex range("(.*)\\[([0-9]+)\\.\\.([0-9]+)\\](.*)");
  for (const auto& p : parts) {
    std::smatch m;
    if (std::regex_match(p, m, range)) {
      for (int i = std::stoi(m[2]); i <= std::stoi(m[3]); ++i)
        out.push_back(m[1].str() + "[" + std::to_string(i) + "]" + m[4].str());
    } else {
      out.push_back(p);
    }
  }
  return out;
}

// "<paths>: <Type>..." as INDEX.tsv and the derived files' headers state it.
Expectation parse_expectation(const std::string& file, const std::string& text) {
  Expectation e{file, {}, ""};
  const size_t colon = text.find(": ");
  e.fields = expand_paths(text.substr(0, colon));
  const std::string rest = colon == std::string::npos ? "" : text.substr(colon + 2);
  for (const auto& [word, type] :
       std::vector<std::pair<std::string, std::string>>{{"Invalid value", "Invalid value"},
                                                        {"Required", "Required value"},
                                                        {"Unsupported value", "Unsupported value"},
                                                        {"Forbidden", "Forbidden"}}) {
    if (rest.rfind(word, 0) == 0) e.type = type;
  }
  return e;
}

std::vector<Expectation> invalid_cases() {
  std::vector<Expectation> out;
  std::ifstream index(validation_dir() / "INDEX.tsv");
  std::string line;
  while (std::getline(index, line)) {
    if (line.empty() || line[0] == '#') continue;
    const auto tab = line.rfind('\t');
    const std::string outcome = line.substr(tab + 1);
    if (outcome.rfind("reject: ", 0) != 0) continue;
    out.push_back(parse_expectation(line.substr(0, line.find('\t')), outcome.substr(8)));
  }
  for (const auto& entry : fs::directory_iterator(validation_dir() / "invalid-derived")) {
    if (entry.path().extension() != ".yaml") continue;
    std::ifstream in(entry.path());
    std::getline(in, line);
    const std::string marker = "# expected: reject: ";
    if (line.rfind(marker, 0) != 0) continue; // the version-dependent case is tested apart
    out.push_back(parse_expectation("invalid-derived/" + entry.path().filename().string(),
                                    line.substr(marker.size())));
  }
  return out;
}

std::vector<PolicyObject> load_one(const fs::path& path) {
  auto loaded = load_policies({path.string()}, {});
  EXPECT_TRUE(loaded.errors.empty()) << loaded.errors.front().message;
  EXPECT_FALSE(loaded.policies.empty()) << path;
  return loaded.policies;
}

TEST(Validate, AcceptsEveryValidCase) {
  int accepted = 0, total = 0;
  for (const auto& entry : fs::directory_iterator(validation_dir() / "valid")) {
    ++total;
    bool ok = true;
    for (const auto& object : load_one(entry.path())) {
      auto result = validate(object);
      for (const auto& e : result.errors)
        ADD_FAILURE() << format_field_error(object, e);
      ok = ok && result.ok();
    }
    accepted += ok ? 1 : 0;
  }
  EXPECT_EQ(total, 17);
  EXPECT_EQ(accepted, total);
}

TEST(Validate, RejectsEveryInvalidCaseAtTheExpectedPath) {
  const auto cases = invalid_cases();
  ASSERT_EQ(cases.size(), 30u + 5u); // upstream cases + derived ones (one is a warning)
  int right = 0;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.file);
    auto objects = load_one(validation_dir() / c.file);
    ASSERT_EQ(objects.size(), 1u);
    auto result = validate(objects[0]);
    EXPECT_FALSE(result.ok());
    bool all = !result.ok();
    for (const auto& field : c.fields) {
      const int matching = static_cast<int>(
          std::count_if(result.errors.begin(), result.errors.end(), [&](const FieldError& e) {
            return e.field == field && (c.type.empty() || e.type == c.type);
          }));
      EXPECT_GE(matching, 1) << "no " << (c.type.empty() ? "error" : c.type) << " at " << field;
      all = all && matching >= 1;
    }
    // Nothing but the expected fields is reported (the API server lists exactly these).
    for (const auto& e : result.errors) {
      EXPECT_NE(std::find(c.fields.begin(), c.fields.end(), e.field), c.fields.end())
          << "unexpected " << e.text();
    }
    right += all ? 1 : 0;
  }
  EXPECT_EQ(right, static_cast<int>(cases.size()));
}

// Found by the policy_loader fuzzer: valijson threw from a format check (std::terminate).
TEST(Validate, ACiliumPolicyValijsonCannotCompareIsInvalidNotACrash) {
  std::ifstream in(std::string(NETPOL_SOURCE_DIR) +
                   "/tests/fuzz/corpus/policy_loader/regression-valijson-throws.yaml");
  std::stringstream text;
  text << in.rdbuf();
  auto loaded = load_policy_text(text.str(), "p.yaml", {});
  for (const auto& object : loaded.policies)
    EXPECT_NO_THROW((void)validate(object));
  ASSERT_EQ(loaded.policies.size(), 1u);
  EXPECT_FALSE(validate(loaded.policies[0]).errors.empty());
}

TEST(Validate, HostBitsInCidrAreAWarningNotAnError) {
  auto objects = load_one(validation_dir() / "invalid-derived/ipblock-host-bits-set.yaml");
  auto result = validate(objects[0]);
  EXPECT_TRUE(result.ok());
  ASSERT_EQ(result.warnings.size(), 1u);
  EXPECT_EQ(result.warnings[0].field, "spec.egress[0].to[0].ipBlock.cidr");
  EXPECT_THAT(result.warnings[0].detail, HasSubstr("10.0.0.0/8"));
}

TEST(Validate, ErrorLineNamesFileLineObjectAndField) {
  auto objects = load_one(validation_dir() / "invalid/invalid-ingress-ports-port-int.yaml");
  auto result = validate(objects[0]);
  ASSERT_EQ(result.errors.size(), 1u);
  const std::string text = format_field_error(objects[0], result.errors[0]);
  EXPECT_THAT(text, ::testing::MatchesRegex(
                        ".*invalid-ingress-ports-port-int\\.yaml:[0-9]+: NetworkPolicy/bar/foo: "
                        "spec\\.ingress\\[0\\]\\.ports\\[0\\]\\.port: Invalid value: .*: must be "
                        "between 1 and 65535, inclusive"));
  // The line is the port's own line in the file.
  std::ifstream in(validation_dir() / "invalid/invalid-ingress-ports-port-int.yaml");
  std::string line;
  int n = 0, port_line = 0;
  while (std::getline(in, line)) {
    ++n;
    if (std::regex_search(line, std::regex("^ *-? *port:")) && port_line == 0) port_line = n;
  }
  EXPECT_THAT(text, HasSubstr(".yaml:" + std::to_string(port_line) + ":"));
}

PolicyObject from_text(const std::string& text) {
  auto loaded = load_policy_text(text, "t.yaml", {});
  EXPECT_TRUE(loaded.errors.empty());
  EXPECT_EQ(loaded.policies.size(), 1u);
  return loaded.policies.at(0);
}

std::set<std::string> error_fields(const std::string& text) {
  std::set<std::string> out;
  for (const auto& e : validate(from_text(text)).errors)
    out.insert(e.field + " " + e.type);
  return out;
}

TEST(Validate, StrictDecodingRejectsUnknownFieldsAndWrongTypes) {
  EXPECT_EQ(error_fields("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
                         "metadata: {name: a}\nspec:\n  podselector: {}\n"),
            (std::set<std::string>{"spec.podselector Unknown field"}));
  EXPECT_EQ(error_fields("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
                         "metadata: {name: a}\nspec:\n  podSelector: {}\n  ingress: {}\n"),
            (std::set<std::string>{"spec.ingress Invalid value"}));
  EXPECT_EQ(error_fields("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
                         "metadata: {name: a, labels: {x: 1}}\nspec: {podSelector: {}}\n"),
            (std::set<std::string>{"metadata.labels Invalid value"}));
}

TEST(Validate, QuotedNumericPortIsAPortNameAsForTheApiServer) {
  // intstr: "80" is a string, and a port name needs a letter.
  auto fields = error_fields("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
                             "metadata: {name: a}\nspec:\n  podSelector: {}\n  ingress:\n"
                             "  - ports: [{port: \"80\"}]\n");
  EXPECT_EQ(fields, (std::set<std::string>{"spec.ingress[0].ports[0].port Invalid value"}));
}

TEST(Validate, MissingNameIsRequired) {
  EXPECT_EQ(error_fields("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
                         "metadata: {namespace: x}\nspec: {podSelector: {}}\n"),
            (std::set<std::string>{"metadata.name Required value"}));
}

TEST(Validate, CiliumPolicyStructure) {
  EXPECT_TRUE(error_fields("apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\n"
                           "metadata: {name: a, namespace: b}\nspec:\n  endpointSelector: {}\n"
                           "  ingress:\n  - fromEndpoints: [{matchLabels: {app: x}}]\n"
                           "    toPorts: [{ports: [{port: \"80\", protocol: TCP}]}]\n")
                  .empty());
  EXPECT_EQ(error_fields("apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\n"
                         "metadata: {name: a}\nspec:\n  ingress: []\n"),
            (std::set<std::string>{"spec.endpointSelector Required value"}));
  EXPECT_EQ(error_fields("apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\n"
                         "metadata: {name: a}\n"),
            (std::set<std::string>{"spec Required value"}));
  EXPECT_EQ(
      error_fields("apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\n"
                   "metadata: {name: a}\nspecs:\n- endpointSelector: {}\n  egress:\n"
                   "  - toCIDR: [10.0.0.0/33]\n    toPorts: [{ports: [{port: 53, protocol: "
                   "DNS}]}]\n"),
      (std::set<std::string>{"specs[0].egress[0].toCIDR[0] Invalid value",
                             "specs[0].egress[0].toPorts[0].ports[0].port Invalid value",
                             "specs[0].egress[0].toPorts[0].ports[0].protocol Unsupported value"}));
  // Cilium's label sources ("k8s:", "any:") are keys the schema allows.
  EXPECT_TRUE(error_fields("apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\n"
                           "metadata: {name: a}\nspec:\n  endpointSelector:\n"
                           "    matchLabels: {\"k8s:io.kubernetes.pod.namespace\": x}\n")
                  .empty());
  // A misspelt field would be dropped by the server without a word: an error here.
  EXPECT_EQ(error_fields("apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\n"
                         "metadata: {name: a}\nspec:\n  endpointSelector: {}\n  ingress:\n"
                         "  - toPort: [{ports: [{port: \"80\"}]}]\n"),
            (std::set<std::string>{"spec.ingress[0].toPort Unknown field"}));
}

// tests/data/cilium-policies: what the API server (with Cilium's CRDs) accepts and rejects,
// and the field each rejection names; an end-to-end test checks the server agrees.
TEST(Validate, CiliumPoliciesAsTheServerJudgesThem) {
  namespace fs = std::filesystem;
  const auto dir = test::testdata("cilium-policies");
  int valid = 0, invalid = 0;
  for (const auto& entry : fs::directory_iterator(dir / "valid")) {
    auto loaded = load_policies({entry.path().string()}, {});
    ASSERT_EQ(loaded.policies.size(), 1u) << entry.path();
    auto result = validate(loaded.policies[0]);
    EXPECT_TRUE(result.ok()) << entry.path() << ": "
                             << (result.ok() ? "" : result.errors[0].text());
    ++valid;
  }
  for (const auto& entry : fs::directory_iterator(dir / "invalid")) {
    std::ifstream in(entry.path());
    std::string first;
    std::getline(in, first);
    const std::string expect = first.substr(first.find(": ") + 2);
    auto loaded = load_policies({entry.path().string()}, {});
    ASSERT_EQ(loaded.policies.size(), 1u) << entry.path();
    std::set<std::string> fields;
    for (const auto& e : validate(loaded.policies[0]).errors)
      fields.insert(e.field);
    EXPECT_EQ(fields, std::set<std::string>{expect}) << entry.path();
    ++invalid;
  }
  EXPECT_EQ(valid, 5);
  EXPECT_EQ(invalid, 7);
}

} // namespace
} // namespace netpol::policy
