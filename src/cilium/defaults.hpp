// Every default of the Cilium install in one place: release, namespace, object names,
// the pinned chart, the Hubble export filter, and the wait timings.
#pragma once

#include <array>
#include <chrono>

namespace netpol::cilium::defaults {

inline constexpr const char* k_release = "cilium";
inline constexpr const char* k_namespace = "kube-system";

// The chart bundled in the image (SPEC §10): the packaged chart exactly as Cilium's Helm
// repository serves it, so its sha256 can be compared with the published one.
// NETPOL_CILIUM_CHART overrides it at run time.
inline constexpr const char* k_bundled_chart = "/usr/share/netpol/charts/cilium.tgz";
// Chart version used for a chart fetched from a repository or registry when none is asked
// for, and the one the image carries (charts/cilium-charts.sha256): the newest stable line
// at the time of pinning (no "v" prefix).
inline constexpr const char* k_chart_version = "1.20.0";
// The Cilium lines netpol is tested against (the real charts of 1.18, 1.19 and 1.20);
// upstream supports the last three minors, so 1.17 and older are end of life.
inline constexpr int k_oldest_supported_minor = 18;
inline constexpr int k_newest_supported_minor = 20;
// The first chart with `hubble.export.static.filePath: stdout` (cilium/cilium#31422).
inline constexpr int k_min_minor_for_stdout_export = 16;

// Objects the chart creates.
inline constexpr const char* k_agent_daemonset = "cilium";
inline constexpr const char* k_agent_container = "cilium-agent";
inline constexpr const char* k_agent_selector = "k8s-app=cilium";
inline constexpr const char* k_operator_deployment = "cilium-operator";
inline constexpr const char* k_operator_selector = "io.cilium/app=operator";
inline constexpr const char* k_relay_deployment = "hubble-relay";
inline constexpr const char* k_config_map = "cilium-config";

// Only dropped and audited flows leave the agent: the drop log needs nothing else, and the
// filter runs in the agent, so the log volume stays small.
inline constexpr const char* k_export_allowlist = R"({"verdict":["DROPPED","AUDIT"]})";

// --export-forwarded (CILIUM_EXPORT_FORWARDED) adds this filter beside the one above (filters
// of an allowlist are alternatives): allowed traffic becomes evidence for the change preview.
inline constexpr const char* k_export_forwarded_filter = R"({"verdict":["FORWARDED"]})";
// The first chart whose exporter aggregates (hubble.export.static.fieldAggregate,
// cilium/cilium#42011). The charts 1.19 and 1.20 render the interval from
// hubble.export.aggregationInterval (static.aggregationInterval alone renders as "0s", no
// aggregation), so netpol sets both.
inline constexpr int k_min_minor_for_export_aggregation = 19;
inline constexpr const char* k_export_aggregation_interval = "10s";
// What one aggregated line stands for: flows with equal values of these fields within an
// interval (field paths of Hubble's Flow). Source port, TCP flags and time are left out, so a
// connection's packets and repeated connections collapse into one line with counts; the fields
// are also what `drops` reads from a dropped flow.
inline constexpr std::array<const char*, 18> k_export_aggregate_fields = {
    "verdict",
    "traffic_direction",
    "drop_reason_desc",
    "ingress_denied_by",
    "egress_denied_by",
    "source.namespace",
    "source.pod_name",
    "source.labels",
    "source.workloads",
    "destination.namespace",
    "destination.pod_name",
    "destination.labels",
    "destination.workloads",
    "IP.source",
    "IP.destination",
    "l4.TCP.destination_port",
    "l4.UDP.destination_port",
    "l4.SCTP.destination_port",
};

// `cilium status --wait` polls every 2 s for at most 5 min (cilium-cli defaults).
inline constexpr std::chrono::seconds k_wait_timeout{300};
inline constexpr std::chrono::seconds k_poll_interval{2};
inline constexpr std::chrono::seconds k_progress_interval{10};
// A helm run that has not finished in this long is killed.
inline constexpr std::chrono::seconds k_helm_timeout{600};

} // namespace netpol::cilium::defaults
