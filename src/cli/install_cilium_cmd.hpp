#pragma once

#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "cilium/defaults.hpp"
#include "cilium/values.hpp"
#include "cli/command.hpp"
#include "util/duration.hpp"

namespace netpol::cli {

// The options of `install-cilium` after flags and variables are read (SPEC §4).
struct InstallCiliumOptions {
  // --chart / CILIUM_CHART; nullopt: NETPOL_CILIUM_CHART, else the bundled chart.
  std::optional<std::string> chart;
  std::optional<std::string> version;     // --cilium-version / CILIUM_VERSION
  std::optional<std::string> values_file; // --values / CILIUM_VALUES_FILE
  std::optional<bool> audit_mode;  // --[no-]audit-mode / CILIUM_AUDIT_MODE; nullopt = default
  std::optional<std::string> helm; // --helm / NETPOL_HELM; nullopt = helm on PATH
  Duration timeout = cilium::defaults::k_wait_timeout;        // --timeout
  bool force = false;                                         // --force
  bool dry_run = false;                                       // --dry-run
  bool restart_unmanaged = false;                             // --restart-unmanaged
  cilium::EksMode eks_mode = cilium::EksMode::chaining;       // --eks-mode
  std::optional<std::string> native_routing_cidr;             // --native-routing-cidr
  std::string namespace_name = cilium::defaults::k_namespace; // --cilium-namespace
  bool namespace_given = false; // false: follow a running Cilium's namespace
  // --test-cluster / NETPOL_TEST_CLUSTER: the cluster is a test cluster, so a test build of
  // the chart (version "X.Y.Z-test") may be installed; refused everywhere else.
  bool test_cluster = false;
};

// The Cilium options `install-cilium` and `run` share: --chart, --cilium-version, --values,
// --[no-]audit-mode, --helm, --timeout, --eks-mode, --native-routing-cidr,
// --cilium-namespace, --restart-unmanaged, --test-cluster (install-cilium adds --force and
// --dry-run).
void describe_cilium_options(po::options_description& options);
// Their variables (CILIUM_CHART, CILIUM_VERSION, ...).
std::vector<EnvBinding> cilium_env();
// Reads them (and --force/--dry-run when declared); a bad value is ErrorCode::usage.
Result<InstallCiliumOptions> read_install_cilium_options(const po::variables_map& args);

// The files an install writes on every way out (SPEC §5); junit-install-cilium.xml besides,
// and cilium-values.diff only on an upgrade.
inline constexpr std::initializer_list<const char*> k_install_cilium_reports = {
    "cilium-values.yaml"};

// The whole of `install-cilium` for callers that already hold the options (`run`): the
// same phases, output and report files as the subcommand. Returns 0, or the Error of the
// first phase that failed (refusal: config; helm: io/config; not ready: check_failed).
Result<int> install_cilium(const InstallCiliumOptions& options, Context& ctx);

// `netpol install-cilium`: detect the platform, decide the Helm values, run
// `helm upgrade --install`, wait until Cilium is healthy, verify its configuration, and list
// (or restart) the pods it does not manage yet. Writes cilium-values.yaml, on an upgrade
// cilium-values.diff, and junit-install-cilium.xml, also on failure.
Command install_cilium_command();

} // namespace netpol::cli
