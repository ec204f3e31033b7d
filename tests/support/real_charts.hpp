// The real Cilium charts (1.18, 1.19, 1.20 as Cilium's Helm repository serves them) and the
// real helm binaries (3 and 4) for tests. The charts are found in NETPOL_CILIUM_CHARTS_DIR
// (environment, else the CMake cache variable), their sha256 is checked against
// charts/cilium-charts.sha256 before any use, and they are never copied into the repository.
//
// A test that cannot have its tool (a chart, helm) skips on a developer machine and FAILS
// under CI=true: CI must not go green for want of the thing it tests.
#pragma once

#include "support/require.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace netpol::test {

struct RealChart {
  std::string version;        // "1.20.0"
  std::string file;           // "cilium-1.20.0.tgz"
  std::string sha256;         // pinned digest
  std::filesystem::path path; // in the charts directory
};

std::filesystem::path cilium_charts_dir();

// The pinned charts, oldest first.
std::vector<RealChart> pinned_charts();

// Empty when the chart is there with its pinned digest; else why it cannot be used.
std::string check_chart(const RealChart& chart);

// The helm binary of `major` (3 or 4) from scripts/test-cluster/get-helm.sh (cached), or
// nullopt with `why` set.
std::optional<std::string> real_helm(int major, std::string* why = nullptr);

// `helm template cilium <chart> --namespace <ns> --kube-version 1.30.0 -f <values>`: every
// rendered object, or nullopt with the helm error in `error`.
std::optional<std::vector<nlohmann::json>>
helm_template(const std::string& helm, const std::filesystem::path& chart,
              const nlohmann::json& values, const std::string& namespace_name, std::string* error);

// The first rendered object of `kind` named `name`, or null.
nlohmann::json find_object(const std::vector<nlohmann::json>& objects, const std::string& kind,
                           const std::string& name);

} // namespace netpol::test

// Skips, or under CI=true fails, the current test when `why` is not empty.
#define NETPOL_REQUIRE_TOOL(why_expr)                                                              \
  do {                                                                                             \
    const std::string netpol_why_ = (why_expr);                                                    \
    if (!netpol_why_.empty()) NETPOL_SKIP_OR_FAIL(netpol_why_);                                    \
  } while (0)
