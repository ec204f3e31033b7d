// `netpol detect` as a command, over the fake API: the report files and exit paths.
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cli/detect_cmd.hpp"
#include "unit/detect/fake_kube_api.hpp"

namespace netpol::test {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

class DetectCommand : public ::testing::Test {
protected:
  void SetUp() override {
    m_dir =
        fs::temp_directory_path() /
        ("netpol-detect-cmd-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
         "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(m_dir);
  }
  void TearDown() override { fs::remove_all(m_dir); }

  // Runs the command on `scenario` with `args` (detect's own options).
  Result<int> run(const std::string& scenario, const std::vector<std::string>& args = {},
                  cli::OutputFormat format = cli::OutputFormat::text) {
    return run(load_detect_scenario(scenario), args, format);
  }
  Result<int> run(DetectScenario scenario, const std::vector<std::string>& args = {},
                  cli::OutputFormat format = cli::OutputFormat::text) {
    cli::GlobalOptions globals;
    globals.output_dir = m_dir.string();
    globals.format = format;
    globals.quiet = true;
    cli::Context ctx(globals, cli::Io{m_out, m_err, m_env, false}, "detect");
    ctx.set_kube(std::make_unique<FakeKubeApi>(std::move(scenario)));
    const auto command = cli::detect_command();
    cli::po::options_description options;
    cli::po::positional_options_description positional;
    command.describe(options, positional);
    cli::po::variables_map vm;
    cli::po::store(cli::po::command_line_parser(args).options(options).run(), vm);
    cli::po::notify(vm);
    return cli::run_command(command, vm, ctx);
  }

  std::string file(const char* name) const {
    std::ifstream in(m_dir / name);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  fs::path m_dir;
  std::ostringstream m_out, m_err;
  MapEnvironment m_env;
};

TEST_F(DetectCommand, WritesProviderJsonDotenvAndJunit) {
  auto r = run("cilium-audit-hubble");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(*r, 0);
  EXPECT_EQ(nlohmann::json::parse(file("provider.json")),
            load_detect_scenario("cilium-audit-hubble").expected);
  EXPECT_THAT(file("netpol.env"), HasSubstr("NETPOL_AUDIT_MODE=true\n"));
  const auto junit = file("junit-detect.xml");
  EXPECT_THAT(junit, HasSubstr("<testsuite name=\"netpol detect\""));
  for (const char* name : {"cluster reachable", "network provider detected",
                           "NetworkPolicy enforced", "drop log available"}) {
    EXPECT_THAT(junit, HasSubstr(std::string("name=\"") + name + "\"")) << name;
  }
  EXPECT_THAT(junit, Not(HasSubstr("<failure")));
  EXPECT_THAT(m_out.str(), HasSubstr("Provider     cilium 1.18.2 in kube-system\n"));
}

// The scenario's Cilium with every image tag v1.18.2 replaced by `tag`.
DetectScenario cilium_at(const std::string& tag) {
  auto s = load_detect_scenario("cilium-audit-hubble");
  for (auto& object : s.objects) {
    std::string text = object.dump();
    for (size_t at = 0; (at = text.find("cilium:v1.18.2", at)) != std::string::npos;) {
      text.replace(at + 7, 7, tag);
      at += 7 + tag.size();
    }
    object = nlohmann::json::parse(text);
  }
  return s;
}

TEST_F(DetectCommand, WarnsAboutACiliumOlderThanTheSupportedLines) {
  auto r = run(cilium_at("v1.17.6"));
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(*r, 0);
  const std::string warning = "Cilium 1.17.6 runs here, older than the oldest line netpol "
                              "supports (1.18–1.20; 1.17 and older are end of life)";
  EXPECT_THAT(m_err.str(), HasSubstr(warning + ": upgrade it one minor version at a time"));
  const auto provider = nlohmann::json::parse(file("provider.json"));
  EXPECT_EQ(provider["provider"]["version"], "1.17.6");
  EXPECT_THAT(provider["evidence"], ::testing::Contains(warning));
  EXPECT_THAT(m_out.str(), HasSubstr("  - " + warning + "\n"));

  // A supported line, and a tag that names no version, say nothing.
  for (const char* tag : {"v1.18.2", "latest"}) {
    m_err.str("");
    ASSERT_EQ(run(cilium_at(tag)).value_or(-1), 0) << tag;
    EXPECT_THAT(m_err.str(), Not(HasSubstr("oldest line"))) << tag;
    EXPECT_THAT(file("provider.json"), Not(HasSubstr("oldest line"))) << tag;
  }
}

TEST_F(DetectCommand, JsonOnStdoutIsProviderJson) {
  auto r = run("gke-dataplane-v2", {}, cli::OutputFormat::json);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(nlohmann::json::parse(m_out.str()), nlohmann::json::parse(file("provider.json")));
}

TEST_F(DetectCommand, NotEnforcingIsASkipUnlessRequired) {
  ASSERT_EQ(run("flannel-only").value_or(-1), 0);
  EXPECT_THAT(file("junit-detect.xml"), HasSubstr("does not enforce NetworkPolicy (not required)"));
  EXPECT_THAT(file("junit-detect.xml"), Not(HasSubstr("<failure")));
}

TEST_F(DetectCommand, RequireEnforcementFailsWithExit4AfterWritingReports) {
  auto r = run("eks-vpc-cni", {"--require-enforcement"});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::check_failed);
  EXPECT_EQ(exit_code(r.error().code), 4);
  EXPECT_THAT(r.error().message, HasSubstr("aws-vpc-cni does not enforce NetworkPolicy"));
  EXPECT_THAT(file("junit-detect.xml"), HasSubstr("<failure"));
  EXPECT_THAT(file("netpol.env"), HasSubstr("NETPOL_ENFORCES=false\n"));
}

TEST_F(DetectCommand, RequireEnforcementMetByAnEnforcingProvider) {
  auto r = run("eks-vpc-cni-network-policy", {"--require-enforcement=true"});
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(*r, 0);
}

TEST_F(DetectCommand, UnreachableWritesJunitAndStandIns) {
  cli::GlobalOptions globals;
  globals.output_dir = m_dir.string();
  globals.quiet = true;
  cli::Context ctx(globals, cli::Io{m_out, m_err, m_env, false}, "detect");
  auto api = std::make_unique<FakeKubeApi>(load_detect_scenario("k3s"));
  api->set_unreachable(true);
  ctx.set_kube(std::move(api));
  cli::po::variables_map vm;
  auto r = cli::run_command(cli::detect_command(), vm, ctx);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(exit_code(r.error().code), 1);
  EXPECT_THAT(file("junit-detect.xml"), HasSubstr("cannot reach https://fake.invalid:6443"));
  // provider.json says why there is no detection; the dotenv report claims nothing.
  EXPECT_THAT(nlohmann::json::parse(file("provider.json"))["error"].get<std::string>(),
              HasSubstr("netpol detect ended before it: cannot reach https://fake.invalid:6443"));
  EXPECT_TRUE(fs::exists(m_dir / "netpol.env"));
  EXPECT_EQ(file("netpol.env"), "");
}

} // namespace
} // namespace netpol::test
