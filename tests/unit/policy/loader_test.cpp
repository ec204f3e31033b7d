#include <sys/stat.h>

#include <fstream>
#include <set>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "policy/loader.hpp"
#include "util/hash.hpp"
#include "support/paths.hpp"
#include "support/temp_dir.hpp"

namespace netpol::policy {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

using test::TempDir;

std::string policy(const std::string& name, const std::string& extra = "") {
  return "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: " + name +
         "\n" + extra + "spec:\n  podSelector: {}\n";
}

std::vector<std::string> names(const LoadResult& r) {
  std::vector<std::string> out;
  for (const auto& p : r.policies)
    out.push_back(p.name());
  return out;
}

TEST(Loader, DirectoryRecursiveSortedMultiDocumentAndList) {
  TempDir dir;
  dir.write("b.yaml", policy("b1") + "---\n" + policy("b2") + "---\n");
  dir.write("a/z.yml", policy("az"));
  dir.write(
      "c.json",
      R"({"apiVersion":"v1","kind":"List","items":[)"
      R"({"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy","metadata":{"name":"c1"},"spec":{}},)"
      R"({"apiVersion":"cilium.io/v2","kind":"CiliumNetworkPolicy","metadata":{"name":"c2"},"spec":{}}]})");
  dir.write("README.md", "not a policy");
  dir.write(".hidden/x.yaml", "kind: Secret\n");
  auto r = load_policies({dir.path().string()}, {});
  ASSERT_TRUE(r.errors.empty()) << r.errors.front().message;
  EXPECT_THAT(names(r), ElementsAre("az", "b1", "b2", "c1", "c2"));
  EXPECT_EQ(r.policies[4].kind, PolicyKind::cilium_network_policy);
  EXPECT_EQ(r.policies[2].where(), (dir.path() / "b.yaml").string() + ":8");
  EXPECT_EQ(r.policies[0].origin, (dir.path() / "a/z.yml").string());
  EXPECT_EQ(r.files.size(), 3u);
}

TEST(Loader, OtherKindsAreAnErrorNamingFileLineAndWhatIsAccepted) {
  auto r =
      load_policy_text(policy("ok") + "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"
                                      "---\napiVersion: extensions/v1beta1\nkind: NetworkPolicy\n",
                       "p.yaml", {});
  ASSERT_EQ(r.errors.size(), 2u);
  EXPECT_EQ(r.errors[0].code, ErrorCode::invalid_policy);
  EXPECT_THAT(r.errors[0].message,
              StartsWith("p.yaml:8: unsupported object v1 ConfigMap; accepted: "
                         "networking.k8s.io/v1 NetworkPolicy"));
  EXPECT_THAT(r.errors[1].message, StartsWith("p.yaml:12: unsupported object extensions/v1beta1"));
  EXPECT_THAT(names(r), ElementsAre("ok"));
}

TEST(Loader, TemplatesExpandFromTheEnvironment) {
  MapEnvironment env{{"CI_ENVIRONMENT_SLUG", "review-x"}, {"KUBE_NAMESPACE", "shop"}};
  const TemplateVariables vars(env);
  LoadOptions options;
  options.vars = &vars;
  auto r = load_policy_text(policy("web-${CI_ENVIRONMENT_SLUG}",
                                   "  namespace: ${KUBE_NAMESPACE}\n  annotations:\n"
                                   "    note: \"cost $$5 and $${literal}\"\n"),
                            "p.yaml", options);
  ASSERT_TRUE(r.errors.empty()) << r.errors.front().message;
  EXPECT_EQ(r.policies[0].name(), "web-review-x");
  EXPECT_EQ(r.policies[0].namespace_name(), "shop");
  EXPECT_EQ(r.policies[0].value["metadata"]["annotations"]["note"], "cost $$5 and ${literal}");
}

TEST(Loader, UnsetTemplateVariableIsAnErrorWithFileLine) {
  MapEnvironment env;
  const TemplateVariables vars(env);
  LoadOptions options;
  options.vars = &vars;
  auto r = load_policy_text(policy("a", "  namespace: ${KUBE_NAMESPACE}\n"), "p.yaml", options);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].code, ErrorCode::invalid_policy);
  EXPECT_EQ(r.errors[0].message, "p.yaml:5: template variable KUBE_NAMESPACE is not set");
  EXPECT_TRUE(r.policies.empty());
  auto unterminated = expand_template("a-${X", &vars, "f:1");
  ASSERT_FALSE(unterminated);
  EXPECT_THAT(unterminated.error().message, HasSubstr("unterminated"));
}

// SPEC §6: templates read an allow-list, so a secret never reaches policies.yaml or the
// cluster through a policy file.
TEST(Loader, TemplatesReadOnlyTheAllowList) {
  MapEnvironment env{{"CI_JOB_TOKEN", "glcbt-secret-job-token"},
                     {"CI_PROJECT_PATH", "group/shop"},
                     {"TEAM", "payments"},
                     {"DB_PASSWORD", "hunter2-db"}};
  const TemplateVariables vars(env, {"TEAM"}, {{"GIVEN", "by-flag"}});
  LoadOptions options;
  options.vars = &vars;
  auto ok = load_policy_text(policy("a", "  labels:\n    p: ${CI_PROJECT_PATH}-${TEAM}-${GIVEN}\n"),
                             "p.yaml", options);
  ASSERT_TRUE(ok.errors.empty()) << ok.errors.front().message;
  EXPECT_EQ(ok.policies[0].value["metadata"]["labels"]["p"], "group/shop-payments-by-flag");
  for (const char* name : {"CI_JOB_TOKEN", "DB_PASSWORD", "HOME"}) {
    auto r = load_policy_text(policy("a", std::string("  labels:\n    t: x${") + name + "}\n"),
                              "p.yaml", options);
    ASSERT_EQ(r.errors.size(), 1u) << name;
    EXPECT_EQ(r.errors[0].code, ErrorCode::invalid_policy);
    EXPECT_THAT(r.errors[0].message, StartsWith(std::string("p.yaml:6: template variable ") + name +
                                                " may not be read by templates"));
    EXPECT_THAT(r.errors[0].message, HasSubstr("list it in NETPOL_TEMPLATE_VARS"));
    EXPECT_THAT(r.errors[0].message, Not(HasSubstr("glcbt-secret-job-token")));
    EXPECT_TRUE(r.policies.empty());
  }
}

TEST(Loader, TemplateVarListRefusesSecretsAndBadNames) {
  auto names = parse_template_var_list("TEAM, REGION  TIER,", "--template-vars");
  ASSERT_TRUE(names.has_value());
  EXPECT_EQ(*names, (std::set<std::string>{"REGION", "TEAM", "TIER"}));
  auto secret = parse_template_var_list("TEAM,CI_JOB_TOKEN", "NETPOL_TEMPLATE_VARS");
  ASSERT_FALSE(secret.has_value());
  EXPECT_EQ(secret.error().code, ErrorCode::usage);
  EXPECT_THAT(secret.error().message, HasSubstr("CI_JOB_TOKEN holds a credential"));
  auto bad = parse_template_var_list("TEAM;rm", "NETPOL_TEMPLATE_VARS");
  ASSERT_FALSE(bad.has_value());
  EXPECT_THAT(bad.error().message, HasSubstr("\"TEAM;rm\" is not a variable name"));
}

TEST(Loader, MissingPathIsAnIoError) {
  auto r = load_policies({"/nonexistent/policies"}, {});
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].code, ErrorCode::io);
  EXPECT_THAT(r.errors[0].message, HasSubstr("/nonexistent/policies"));
}

TEST(Loader, Sha256) {
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Loader, ImportsPinnedBySha256OverFileUrls) {
  TempDir dir;
  const std::string body = policy("imported");
  // Inside the policy directory (a hidden folder is not loaded on its own).
  const fs::path source = dir.write(".vendor/base.yaml", body);
  dir.write("local.yaml", policy("local"));
  dir.write("imports.yaml", "imports:\n- url: file://" + source.string() +
                                "\n  sha256: " + sha256_hex(body) + "\n");
  auto r = load_policies({dir.path().string()}, {});
  ASSERT_TRUE(r.errors.empty()) << r.errors.front().message;
  EXPECT_THAT(names(r), ElementsAre("local", "imported"));
  EXPECT_EQ(r.policies[1].origin, "file://" + source.string());
}

TEST(Loader, ImportDigestMismatchIsInvalidPolicy) {
  TempDir dir;
  const fs::path source = dir.write(".vendor/base.yaml", policy("imported"));
  dir.write("imports.yaml", "imports:\n- url: file://" + source.string() +
                                "\n  sha256: " + std::string(64, 'f') + "\n");
  auto r = load_policies({dir.path().string()}, {});
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].code, ErrorCode::invalid_policy);
  EXPECT_THAT(r.errors[0].message, HasSubstr("imports.yaml:3: import file://"));
  EXPECT_THAT(r.errors[0].message, HasSubstr("sha256 mismatch"));
  EXPECT_TRUE(r.policies.empty());
}

TEST(Loader, ImportFetchFailureNamesTheUrl) {
  TempDir dir;
  const std::string missing = "file://" + dir.file("missing.yaml");
  dir.write("imports.yaml",
            "imports:\n- url: " + missing + "\n  sha256: " + std::string(64, 'a') + "\n");
  auto r = load_policies({dir.path().string()}, {});
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].code, ErrorCode::io);
  EXPECT_THAT(r.errors[0].message, HasSubstr(missing));
}

// A policy's say does not make a CI job read /etc.
TEST(Loader, FileImportsComeFromInsideThePolicyDirectoryOnly) {
  TempDir outside;
  const std::string body = policy("outside");
  const fs::path source = outside.write("base.yaml", body);
  TempDir dir;
  fs::create_symlink(source, dir.path() / "link.txt");
  for (const std::string& url :
       {std::string("file:///etc/passwd"), "file://" + source.string(),
        "file://" + dir.file("../x.yaml"), "file://" + dir.file("link.txt")}) {
    dir.write("imports.yaml", "imports:\n- url: " + url + "\n  sha256: " + sha256_hex(body) + "\n");
    auto r = load_policies({dir.path().string()}, {});
    ASSERT_EQ(r.errors.size(), 1u) << url;
    EXPECT_EQ(r.errors[0].code, ErrorCode::invalid_policy);
    EXPECT_THAT(r.errors[0].message,
                HasSubstr("file:// imports must be inside the policy directory"))
        << url;
    EXPECT_TRUE(r.policies.empty());
  }
}

// What libcurl would read is not what a check of the URL as written sees: percent-encoded
// dots and an upper-case scheme both once read outside the policy directory. The URL is now
// parsed once, decoded, made canonical and read by netpol itself.
TEST(Loader, FileImportBypassesAreClosed) {
  TempDir outside;
  const std::string body = policy("outside");
  const fs::path source = outside.write("base.yaml", body);
  TempDir dir;
  fs::create_directory_symlink(outside.path(), dir.path() / "vendor");
  fs::create_directories(dir.path() / ".vendor");
  fs::create_symlink(source, dir.path() / ".vendor" / "link.yaml");
  const std::string up = "/%2e%2e/" + outside.path().filename().string() + "/base.yaml";
  for (const std::string& url : {
           "file://" + dir.path().string() + up, // encoded dots
           "file://" + dir.path().string() + "/%2E%2E/%2e%2e" + source.string(),
           "FILE://" + source.string(),                             // scheme case
           "File://localhost" + source.string(),                    //
           "file://" + dir.file("vendor/base.yaml"),                // a symlinked folder
           "file://" + dir.file(".vendor/link.yaml"),               // a symlinked file
           "file://" + dir.file(".vendor/%6c%69nk.yaml"),           // the same, encoded
           "file://" + dir.file("missing/%2e%2e/vendor/base.yaml"), // past a missing folder
       }) {
    dir.write("imports.yaml", "imports:\n- url: " + url + "\n  sha256: " + sha256_hex(body) + "\n");
    auto r = load_policies({dir.path().string()}, {});
    ASSERT_EQ(r.errors.size(), 1u) << url;
    EXPECT_EQ(r.errors[0].code, ErrorCode::invalid_policy) << url;
    EXPECT_THAT(r.errors[0].message,
                HasSubstr("file:// imports must be inside the policy directory"))
        << url;
    EXPECT_TRUE(r.policies.empty()) << url;
  }
}

TEST(Loader, FileImportsInsideAreReadInAnySpelling) {
  TempDir dir;
  const std::string body = policy("imported");
  const fs::path source = dir.write(".vendor/base one.yaml", body);
  for (const std::string& url :
       {"FILE://" + source.string(), "file://localhost" + source.string(),
        "file://" + dir.path().string() + "/.vendor/base%20one.yaml",
        "file://" + dir.path().string() + "/x/%2e%2e/.vendor/base%20one.yaml"}) {
    dir.write("imports.yaml", "imports:\n- url: " + url + "\n  sha256: " + sha256_hex(body) + "\n");
    auto r = load_policies({dir.path().string()}, {});
    ASSERT_TRUE(r.errors.empty()) << url << ": " << r.errors.front().message;
    EXPECT_THAT(names(r), ElementsAre("imported")) << url;
  }
}

TEST(Loader, MalformedFileUrlsAreRefusedWithTheReason) {
  TempDir dir;
  const std::string base = "file://" + dir.path().string();
  const std::vector<std::pair<std::string, std::string>> cases = {
      {base + "/a%2Fb.yaml", "encoded path separator"},
      {base + "/a%5cb.yaml", "encoded path separator"},
      {base + "/a%00.yaml", "encoded NUL"},
      {base + "/a%zz.yaml", "two hex digits"},
      {base + "/a.yaml%2", "two hex digits"},
      {base + "/a.yaml?x=1", "query or fragment"},
      {base + "/a.yaml#top", "query or fragment"},
      {"file://evil.example" + dir.path().string() + "/a.yaml", "names the host 'evil.example'"},
      {"file:" + dir.path().string() + "/a.yaml", "file:///absolute/path"},
      {"gopher://example.com/a.yaml", "not an https://, http:// or file:// URL"},
      {"ftp://example.com/a.yaml", "not an https://, http:// or file:// URL"},
      {"/etc/passwd", "not an https://, http:// or file:// URL"},
  };
  for (const auto& [url, why] : cases) {
    dir.write("imports.yaml",
              "imports:\n- url: \"" + url + "\"\n  sha256: " + std::string(64, 'a') + "\n");
    auto r = load_policies({dir.path().string()}, {});
    ASSERT_EQ(r.errors.size(), 1u) << url;
    EXPECT_EQ(r.errors[0].code, ErrorCode::invalid_policy) << url;
    EXPECT_THAT(r.errors[0].message, HasSubstr("imports.yaml:2: import " + url + ": ")) << url;
    EXPECT_THAT(r.errors[0].message, HasSubstr(why)) << url;
  }
}

TEST(Loader, UrlScheme) {
  EXPECT_EQ(url_scheme("FILE:///x"), "file");
  EXPECT_EQ(url_scheme("HttpS://h/"), "https");
  EXPECT_EQ(url_scheme("git+ssh://h/"), "git+ssh");
  EXPECT_EQ(url_scheme("/etc/passwd"), "");
  EXPECT_EQ(url_scheme(" file:///x"), "");
  EXPECT_EQ(url_scheme("1http://h"), "");
  EXPECT_EQ(url_scheme(":x"), "");
  ASSERT_TRUE(file_url_path("file:///a/b%20c"));
  EXPECT_EQ(*file_url_path("file:///a/b%20c"), "/a/b c");
  EXPECT_EQ(*file_url_path("file://LOCALHOST/a/%2e%2e/b"), "/a/../b");
}

// A FIFO, a device or a huge file named by a file:// import is refused like one in the folder.
TEST(Loader, FileImportsAreReadBounded) {
  TempDir dir;
  ASSERT_EQ(::mkfifo(dir.file(".vendor-fifo.yaml").c_str(), 0600), 0);
  dir.write("imports.yaml", "imports:\n- url: file://" + dir.file(".vendor-fifo.yaml") +
                                "\n  sha256: " + std::string(64, 'a') + "\n");
  auto r = load_policies({dir.path().string()}, {});
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].code, ErrorCode::io);
  EXPECT_THAT(r.errors[0].message, HasSubstr("not a regular file (a FIFO)"));
}

TEST(Loader, SpecialFilesAndSymlinkLoopsInTheFolderAreErrorsByName) {
  TempDir dir;
  dir.write("ok.yaml", policy("ok"));
  ASSERT_EQ(::mkfifo(dir.file("fifo.yaml").c_str(), 0600), 0);
  fs::create_symlink(dir.file("loop.yaml"), dir.file("loop.yaml"));
  fs::create_symlink("/dev/zero", dir.file("zero.yaml"));
  fs::create_directories(dir.path() / "sub");
  fs::create_directory_symlink(dir.path(), dir.path() / "sub" / "back"); // a directory loop
  auto r = load_policies({dir.path().string()}, {});
  std::vector<std::string> messages;
  for (const auto& e : r.errors)
    messages.push_back(e.message);
  EXPECT_THAT(messages, ::testing::UnorderedElementsAre(
                            HasSubstr("fifo.yaml: not a regular file (a FIFO)"),
                            HasSubstr("loop.yaml: symbolic link loop"),
                            HasSubstr("zero.yaml: not a regular file (a character device)")));
  EXPECT_THAT(names(r), ElementsAre("ok"));
}

TEST(Loader, InjectedFetchIsUsed) {
  TempDir dir;
  const std::string body = policy("from-fetch");
  dir.write("imports.yaml",
            "imports:\n- url: https://example.com/p.yaml\n  sha256: " + sha256_hex(body) + "\n");
  LoadOptions options;
  std::vector<std::string> fetched;
  options.fetch = [&](const std::string& url) -> Result<std::string> {
    fetched.push_back(url);
    return body;
  };
  auto r = load_policies({dir.path().string()}, options);
  ASSERT_TRUE(r.errors.empty()) << r.errors.front().message;
  EXPECT_THAT(fetched, ElementsAre("https://example.com/p.yaml"));
  EXPECT_THAT(names(r), ElementsAre("from-fetch"));
  EXPECT_EQ(r.policies[0].where(), "https://example.com/p.yaml:1");
}

} // namespace
} // namespace netpol::policy
