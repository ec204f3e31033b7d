// Helm as a child process: the only way netpol installs, upgrades or removes Cilium, so the
// release stays an ordinary Helm release that `helm` itself can inspect, roll back or remove.
// helm runs without a shell (util/process); its stderr is redacted before it is shown.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cilium/defaults.hpp"
#include "util/duration.hpp"
#include "util/error.hpp"

namespace netpol::cilium {

struct HelmOptions {
  std::string helm = "helm"; // path of the helm binary (see find_helm)
  int major = 3;             // helm's major version (helm_major_version): decides the flags
  std::vector<std::string> kubeconfig_paths; // one: --kubeconfig; several: KUBECONFIG
  std::string kube_context;                  // --kube-context when not empty
  std::string namespace_name = defaults::k_namespace;
  std::string release = defaults::k_release;
  // helm's own --timeout (each Kubernetes operation, hooks); the process is killed a little
  // later, so helm gets to fail (and roll back) by itself first.
  Duration timeout = defaults::k_helm_timeout;
};

enum class ChartKind {
  local,     // a chart directory or .tgz on disk (the bundled chart)
  oci,       // oci://registry/repo/chart
  url,       // https://.../chart.tgz
  repository // repo/chart from `helm repo add`
};

struct Chart {
  std::string ref; // what helm is given
  ChartKind kind = ChartKind::local;
  // --version for helm; never set for a local chart (helm ignores it there).
  std::optional<std::string> version;
  // The chart's own version: Chart.yaml of a local chart (directory or .tgz), else `version`.
  std::optional<std::string> chart_version;
  // sha256 of a local packaged chart (.tgz): the digest Cilium publishes for that version.
  std::optional<std::string> digest;
};

// Finds helm: `configured` (--helm / NETPOL_HELM) as a path or name, else "helm" on
// `path_variable` (PATH). Missing is ErrorCode::config saying how to point netpol at helm.
Result<std::string> find_helm(const std::optional<std::string>& configured,
                              const std::string& path_variable);

// helm's major version from `helm version --template {{.Version}}` ("v3.17.2" -> 3). A helm
// that does not run or prints no version is ErrorCode::config; a major other than 3 or 4
// is ErrorCode::config too (netpol knows the flags of those two).
Result<int> helm_major_version(const std::string& helm);

// Classifies a chart reference and checks what can be checked without the network: a local
// chart must exist (its Chart.yaml version is read, from a directory or a .tgz, and a .tgz's
// sha256 is taken), and a requested version must match a local chart's. Remote charts without
// `version` get defaults::k_chart_version. Errors are ErrorCode::config naming the reference.
Result<Chart> resolve_chart(const std::string& ref, const std::optional<std::string>& version);

// argv of `helm upgrade --install <release> <chart> --namespace <ns> [--kubeconfig p]
// [--kube-context c] [--version v] --values <file> --reset-values --create-namespace
// --timeout <t>`, plus on helm 4 `--server-side=false --wait=hookOnly`:
// - --reset-values: helm renders exactly the values file over the chart's defaults, never
//   values it reuses behind netpol's back (netpol puts the release's values in the file);
// - helm 4 applies server-side by default and inherits the mode on upgrade; netpol asks for
//   client-side apply as cilium-cli does, so an operator's `kubectl edit` is no field
//   conflict (cilium/cilium#44546);
// - no waiting by helm: netpol waits for readiness itself. helm's rollback on failure comes
//   only with its own wait (helm 3 --atomic implies --wait; helm 4.1 --rollback-on-failure
//   switches to its kstatus watcher even with --wait=hookOnly, and that watcher can hang on
//   custom resources), so netpol rolls a failed upgrade back itself (rollback()).
std::vector<std::string> upgrade_command(const HelmOptions& options, const Chart& chart,
                                         const std::string& values_path);

// Environment the helm child gets on top of ours (KUBECONFIG for several kubeconfig files).
std::map<std::string, std::string> helm_environment(const HelmOptions& options);

// The command for humans (dry run, logs): each argument shell-quoted where needed.
std::string display_command(const std::vector<std::string>& argv);

struct ReleaseInfo {
  bool exists = false;
  std::string status; // "deployed", "failed", "pending-upgrade", ...
  int revision = 0;
  std::string chart_version; // version of the chart the release was made from
  // The values the release was last given (`helm get values`: what the operator and netpol
  // set, not the chart's defaults). An upgrade starts from these and keeps every key.
  nlohmann::json values = nlohmann::json::object();
};

// `helm get metadata <release> -o json`, then `helm get values <release> -o json`. A release
// that does not exist is {exists=false}, not an error; any other helm failure is
// ErrorCode::io with helm's own message.
Result<ReleaseInfo> release_status(const HelmOptions& options);

// Writes `values` to a private temporary file (mode 0600, removed afterwards) and runs
// `helm upgrade --install`. Returns helm's stdout. A failing helm is ErrorCode::io with
// helm's message (redacted); an unknown chart repository adds how to add it.
Result<std::string> upgrade_install(const HelmOptions& options, const Chart& chart,
                                    const nlohmann::json& values);

// `helm rollback <release> <revision> --timeout <t>` (helm 4: without its wait): what
// --atomic / --rollback-on-failure would do, without helm's readiness wait. A failure is
// ErrorCode::io with helm's message.
Result<void> rollback(const HelmOptions& options, int revision);

// `helm uninstall <release>`: for `netpol remove --cilium`. Returns false when there was no
// release to remove (not an error), true when it was removed.
Result<bool> uninstall(const HelmOptions& options);

} // namespace netpol::cilium
