// `install-cilium` as a workflow: detect the platform, decide the Helm values (an upgrade
// keeps the release's own), show the change, run `helm upgrade --install`, wait until Cilium
// is healthy, verify cilium-config, and list (or restart) the pods Cilium does not manage
// yet. Each step is a JUnit case; results go to the session's output (text or JSON).
#pragma once

#include <initializer_list>
#include <optional>
#include <string>

#include "cilium/defaults.hpp"
#include "cilium/site.hpp"
#include "cilium/values.hpp"
#include "report/session.hpp"
#include "util/duration.hpp"
#include "util/error.hpp"

namespace netpol::cilium {

// What the install is asked for (SPEC §4: flags and their variables, read by cli).
struct InstallOptions {
  // --chart / CILIUM_CHART; nullopt: the bundled chart (Site::bundled_chart, else
  // defaults::k_bundled_chart).
  std::optional<std::string> chart;
  std::optional<std::string> version;     // --cilium-version / CILIUM_VERSION
  std::optional<std::string> values_file; // --values / CILIUM_VALUES_FILE
  std::optional<bool> audit_mode;  // --[no-]audit-mode / CILIUM_AUDIT_MODE; nullopt = default
  std::optional<std::string> helm; // --helm / NETPOL_HELM; nullopt = helm on PATH
  Duration timeout = defaults::k_wait_timeout;        // --timeout
  bool force = false;                                 // --force
  bool dry_run = false;                               // --dry-run
  bool restart_unmanaged = false;                     // --restart-unmanaged
  bool export_forwarded = false;                      // --export-forwarded
  EksMode eks_mode = EksMode::chaining;               // --eks-mode
  std::optional<std::string> native_routing_cidr;     // --native-routing-cidr
  std::string namespace_name = defaults::k_namespace; // --cilium-namespace
  bool namespace_given = false;                       // false: follow a running Cilium's namespace
  // --test-cluster / NETPOL_TEST_CLUSTER: the cluster is a test cluster, so a test build of
  // the chart (version "X.Y.Z-test") may be installed; refused everywhere else.
  bool test_cluster = false;
};

// The files install() owes (SPEC §5) on every way out; junit-install-cilium.xml besides, and
// cilium-values.diff only on an upgrade.
inline constexpr std::initializer_list<const char*> k_install_reports = {"cilium-values.yaml"};
// What install_with_metrics() owes besides: owed by the command before its options are read,
// so a usage error leaves it too.
inline constexpr std::initializer_list<const char*> k_install_metrics_reports = {"metrics.txt"};

// Every phase, with its progress, JUnit case (junit-install-cilium.xml) and files
// (cilium-values.yaml, on an upgrade cilium-values.diff), and the result on session.out.
// Connects to site.cluster only once the chart and helm are settled. Returns 0, or the Error
// of the first phase that failed (refusal: config; helm: io/config; not ready: check_failed;
// cancelled).
Result<int> install(const InstallOptions& options, const Site& site, report::Session session);

// install(), then metrics.txt (netpol_cilium_installs: 1 when helm ran and succeeded), for
// following adoption across projects with GitLab's metrics report: the install-cilium
// command. `run` calls install() and writes metrics of its own.
Result<int> install_with_metrics(const InstallOptions& options, const Site& site,
                                 report::Session session);

} // namespace netpol::cilium
