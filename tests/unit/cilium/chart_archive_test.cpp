// Packaged charts read without helm: the stand-in chart packaged with tar (as `helm package`
// lays it out: one top directory), and files that are not charts. The real charts are read in
// tests/charts/.
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cilium/chart_archive.hpp"
#include "cilium/helm.hpp"
#include "support/paths.hpp"
#include "support/temp_dir.hpp"
#include "util/process.hpp"

namespace netpol::cilium {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class ChartArchive : public ::testing::Test {
protected:
  // charts/cilium-test packaged as <dir>/cilium-test.tgz, top directory "cilium".
  std::string package() {
    const auto staging = m_dir.path() / "staging";
    fs::create_directories(staging);
    fs::copy(test::source_dir() / "charts/cilium-test", staging / "cilium",
             fs::copy_options::recursive);
    const auto tgz = (m_dir.path() / "cilium-test.tgz").string();
    auto r = run_process({"/bin/tar", "-czf", tgz, "-C", staging.string(), "cilium"});
    EXPECT_TRUE(r && r->exit_code == 0);
    return tgz;
  }
  test::TempDir m_dir;
};

TEST_F(ChartArchive, ReadsChartYamlAndDigestOfAPackagedChart) {
  const auto tgz = package();
  auto text = read_chart_yaml(tgz);
  ASSERT_TRUE(text) << text.error().message;
  EXPECT_THAT(*text, HasSubstr("version: 1.19.5-test"));
  auto values = read_chart_file(tgz, "values.yaml");
  ASSERT_TRUE(values) << values.error().message;
  EXPECT_THAT(*values, HasSubstr("policyAuditMode"));

  auto chart = resolve_chart(tgz, std::nullopt);
  ASSERT_TRUE(chart) << chart.error().message;
  EXPECT_EQ(chart->kind, ChartKind::local);
  EXPECT_EQ(chart->chart_version, "1.19.5-test");
  auto digest = sha256_file(tgz);
  ASSERT_TRUE(digest);
  EXPECT_EQ(chart->digest, *digest);
  EXPECT_EQ(digest->size(), 64u);
}

// --chart names a file anyone may have put there: a FIFO must not block, /dev/zero must not
// be read for ever, and a tar header claiming an 8 GiB Chart.yaml must not be believed.
TEST_F(ChartArchive, SpecialAndHugeFilesAreRefusedByName) {
  const auto fifo = m_dir.file("fifo.tgz");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  for (const std::string& path : {fifo, std::string("/dev/zero")}) {
    auto r = read_chart_yaml(path);
    ASSERT_FALSE(r) << path;
    EXPECT_EQ(r.error().code, ErrorCode::config);
    EXPECT_THAT(r.error().message, HasSubstr("chart: " + path + ": not a regular file"));
    auto digest = sha256_file(path);
    ASSERT_FALSE(digest) << path;
    EXPECT_EQ(digest.error().code, ErrorCode::io);
    auto chart = resolve_chart(path, std::nullopt);
    ASSERT_FALSE(chart) << path;
    EXPECT_THAT(chart.error().message, HasSubstr("not a regular file"));
  }

  std::string header(512, '\0');
  header.replace(0, 17, "cilium/Chart.yaml");
  header.replace(124, 11, "77777777777"); // 8 GiB
  header[156] = '0';
  header.replace(257, 5, "ustar");
  m_dir.write("huge.tar", header + std::string(4096, 'v'));
  auto zipped = run_process({"/bin/gzip", "-f", m_dir.file("huge.tar")});
  ASSERT_TRUE(zipped && zipped->exit_code == 0);
  auto huge = read_chart_yaml(m_dir.file("huge.tar.gz"));
  ASSERT_FALSE(huge);
  EXPECT_THAT(huge.error().message,
              HasSubstr("cilium/Chart.yaml is 8589934591 bytes, more than the 16 MiB"));
  // The same size on a member that is only skipped.
  header.replace(0, 17, "cilium/README.md\0");
  m_dir.write("skip.tar", header + std::string(4096, 'v'));
  zipped = run_process({"/bin/gzip", "-f", m_dir.file("skip.tar")});
  ASSERT_TRUE(zipped && zipped->exit_code == 0);
  auto skipped = read_chart_yaml(m_dir.file("skip.tar.gz"));
  ASSERT_FALSE(skipped);
  EXPECT_THAT(skipped.error().message, HasSubstr("no Chart.yaml in the first 64 MiB"));
}

TEST_F(ChartArchive, NotAChartIsAConfigErrorNamingTheFile) {
  const auto plain = m_dir.write("plain.tgz", "this is not gzip");
  auto r = read_chart_yaml(plain);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::config);
  EXPECT_THAT(r.error().message, HasSubstr("chart " + plain + ": not a packaged Helm chart"));

  // A gzip'ed tar without Chart.yaml.
  fs::create_directories(m_dir.path() / "empty/cilium");
  std::ofstream(m_dir.path() / "empty/cilium/README.md") << "no chart here\n";
  const auto tgz = (m_dir.path() / "empty.tgz").string();
  auto made =
      run_process({"/bin/tar", "-czf", tgz, "-C", (m_dir.path() / "empty").string(), "cilium"});
  ASSERT_TRUE(made && made->exit_code == 0);
  auto none = read_chart_yaml(tgz);
  ASSERT_FALSE(none);
  EXPECT_THAT(none.error().message, HasSubstr("no Chart.yaml in the archive"));

  // Cut short.
  const auto full = package();
  std::ifstream in(full, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto cut = m_dir.write("cut.tgz", bytes.substr(0, 40));
  EXPECT_FALSE(read_chart_yaml(cut));

  auto missing = read_chart_yaml((m_dir.path() / "nope.tgz").string());
  ASSERT_FALSE(missing);
  EXPECT_THAT(missing.error().message, HasSubstr("cannot read"));
}

} // namespace
} // namespace netpol::cilium
