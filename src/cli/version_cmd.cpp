#include "cli/version_cmd.hpp"

#include <boost/version.hpp>
#include <curl/curl.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <openssl/crypto.h>
#include <spdlog/version.h>

#include "cilium/defaults.hpp"
#include "cilium/helm.hpp"
#include "cilium/version.hpp"
#include "netpol/build_info.hpp"

namespace netpol::cli {
namespace {

// The Cilium chart `install-cilium` uses by default: the one bundled in the image, or
// NETPOL_CILIUM_CHART.
nlohmann::ordered_json bundled_chart(Context& ctx) {
  std::string ref = cilium::defaults::k_bundled_chart;
  if (auto configured = ctx.getenv("NETPOL_CILIUM_CHART"); configured && !configured->empty())
    ref = *configured;
  nlohmann::ordered_json chart;
  chart["path"] = ref;
  auto resolved = cilium::resolve_chart(ref, std::nullopt);
  if (resolved && resolved->kind == cilium::ChartKind::local && resolved->chart_version) {
    chart["version"] = *resolved->chart_version;
    // A packaged chart's digest is the one Cilium publishes for that version; a chart
    // directory has none.
    chart["sha256"] = resolved->digest ? nlohmann::ordered_json(*resolved->digest) : nullptr;
    const auto v = cilium::parse_version(*resolved->chart_version);
    chart["test_build"] = v && cilium::is_test_build(*v);
  } else {
    chart["version"] = nullptr; // not there: install-cilium then needs --chart
    chart["sha256"] = nullptr;
  }
  return chart;
}

nlohmann::ordered_json version_info() {
  const curl_version_info_data* curl = curl_version_info(CURLVERSION_NOW);
  nlohmann::ordered_json libs;
  libs["libcurl"] = curl->version;
  libs["tls"] = curl->ssl_version ? curl->ssl_version : "none";
  libs["http2"] = (curl->features & CURL_VERSION_HTTP2) != 0;
  libs["openssl"] = OpenSSL_version(OPENSSL_VERSION);
  libs["yaml-cpp"] = build_info::k_yaml_cpp_version;
  libs["nlohmann_json"] = fmt::format("{}.{}.{}", NLOHMANN_JSON_VERSION_MAJOR,
                                      NLOHMANN_JSON_VERSION_MINOR, NLOHMANN_JSON_VERSION_PATCH);
  libs["spdlog"] = fmt::format("{}.{}.{}", SPDLOG_VER_MAJOR, SPDLOG_VER_MINOR, SPDLOG_VER_PATCH);
  libs["fmt"] =
      fmt::format("{}.{}.{}", FMT_VERSION / 10000, FMT_VERSION / 100 % 100, FMT_VERSION % 100);
  libs["boost"] = fmt::format("{}.{}.{}", BOOST_VERSION / 100000, BOOST_VERSION / 100 % 1000,
                              BOOST_VERSION % 100);
  nlohmann::ordered_json info;
  info["version"] = build_info::k_version;
  info["git_revision"] = build_info::k_git_revision;
  info["libraries"] = std::move(libs);
  return info;
}

Result<int> run_version(const po::variables_map&, Context& ctx) {
  auto info = version_info();
  info["cilium_chart"] = bundled_chart(ctx);
  if (ctx.global().format == OutputFormat::json) {
    ctx.out() << info.dump(2) << "\n";
    return 0;
  }
  ctx.out() << fmt::format("netpol {} (git {})\n", info["version"].get<std::string>(),
                           info["git_revision"].get<std::string>());
  for (const auto& [name, value] : info["libraries"].items()) {
    ctx.out() << fmt::format("  {:<14} {}\n", name,
                             value.is_string() ? value.get<std::string>() : value.dump());
  }
  const auto& chart = info["cilium_chart"];
  std::string line;
  if (!chart["version"].is_string()) {
    line = fmt::format("not bundled ({} is missing; install-cilium needs --chart)",
                       chart["path"].get<std::string>());
  } else {
    line = fmt::format("{} ({}", chart["version"].get<std::string>(),
                       chart["path"].get<std::string>());
    if (chart["sha256"].is_string()) line += ", sha256 " + chart["sha256"].get<std::string>();
    line += ")";
    if (chart["test_build"] == true) line += " — a test build: install-cilium needs --test-cluster";
  }
  ctx.out() << "cilium chart " << line << "\n";
  return 0;
}

} // namespace

Command version_command() {
  return Command{
      .name = "version",
      .summary = "print version, git revision and linked library versions",
      .usage = "version [--format json]",
      .help = "Prints what this binary is: its version, the git revision it was built from, the\n"
              "versions of the libraries it links, and the Cilium chart install-cilium uses by\n"
              "default (bundled in the image, or NETPOL_CILIUM_CHART) with its version and\n"
              "sha256. Needs no cluster.",
      .needs_cluster = false,
      .describe = nullptr,
      .env = {},
      .run = run_version,
  };
}

} // namespace netpol::cli
