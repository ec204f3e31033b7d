#include "cilium/install.hpp"

#include <algorithm>
#include <chrono>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cilium/helm.hpp"
#include "cilium/platform.hpp"
#include "cilium/unmanaged.hpp"
#include "cilium/values_diff.hpp"
#include "cilium/version.hpp"
#include "cilium/wait.hpp"
#include "detect/detect.hpp"
#include "report/junit.hpp"
#include "report/metrics.hpp"
#include "util/log.hpp"
#include "util/yaml.hpp"

namespace netpol::cilium {
namespace {

using nlohmann::json;
using report::CaseStatus;

constexpr const char* k_values_file = "cilium-values.yaml";
constexpr const char* k_diff_file = "cilium-values.diff";
constexpr const char* k_classname = "netpol.install-cilium";

// JUnit case names, one per phase, in order.
constexpr const char* k_case_platform = "Cilium can be installed on this cluster";
constexpr const char* k_case_helm = "helm upgrade --install";
constexpr const char* k_case_ready = "Cilium is ready";
constexpr const char* k_case_verify = "cilium-config matches the values";
constexpr const char* k_case_pods = "running pods are managed by Cilium";

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

class InstallRun {
public:
  InstallRun(const InstallOptions& options, const Site& site, report::Session session)
      : m_o(options), m_site(site), m_session(session),
        m_junit(session.reports.junit("install-cilium")) {
    session.reports.owe(k_install_reports);
  }

  // Runs every phase; the JUnit report (written by the dispatcher) has a case for each.
  Result<int> execute() {
    auto result = phases();
    // Phases that did not get to run are reported as skipped, so the report always has one
    // case per phase.
    for (const char* name :
         {k_case_platform, k_case_helm, k_case_ready, k_case_verify, k_case_pods}) {
      if (!m_recorded.count(name)) {
        record(name, CaseStatus::skipped,
               m_o.dry_run && result ? "dry run: nothing was changed" : "an earlier step failed");
      }
    }
    return result;
  }

private:
  void record(const char* name, CaseStatus status, std::string message = {},
              std::string detail = {}, double seconds = 0.0) {
    m_recorded.insert(name);
    m_junit.add({k_classname, name, status, std::move(message), std::move(detail), seconds});
  }
  void record_failure(const char* name, const Error& e, double seconds) {
    std::string detail = e.message;
    for (const auto& d : e.details)
      detail += "\n" + d;
    record(name, CaseStatus::failed, e.message, log::redact(detail), seconds);
  }

  Result<int> phases();
  Result<void> decide();
  void show_changes();
  bool nothing_to_change() const;
  Result<void> install();
  Result<void> wait();
  Result<void> verify();
  Result<void> pods();
  void print_result();

  InstallOptions m_o;
  const Site& m_site;
  report::Session m_session;
  report::JUnitReport& m_junit;
  std::set<std::string> m_recorded;

  kube::KubeApi* m_api = nullptr;
  HelmOptions m_helm;
  bool m_helm_found = false;
  Chart m_chart;
  Platform m_platform;
  Decision m_decision;
  ReleaseInfo m_release;
  std::string m_diff; // the values diff of an upgrade (cilium-values.diff); empty: no change
  std::string m_values_path;
  std::vector<UnmanagedPod> m_unmanaged;
  std::vector<RestartOutcome> m_restarts;
};

Result<int> InstallRun::phases() {
  if (auto r = decide(); !r) return fail(r.error());
  if (m_o.dry_run) {
    print_result();
    return 0;
  }
  if (nothing_to_change()) {
    const std::string why =
        fmt::format("nothing to change: release {}/{} already has chart {} and these values",
                    m_helm.namespace_name, m_helm.release, m_release.chart_version);
    m_session.reporter.info(why + "; helm is not run");
    record(k_case_helm, CaseStatus::skipped, why);
  } else if (auto r = install(); !r) {
    return fail(r.error());
  }
  if (auto r = wait(); !r) return fail(r.error());
  if (auto r = verify(); !r) return fail(r.error());
  if (auto r = pods(); !r) return fail(r.error());
  print_result();
  return 0;
}

Result<void> InstallRun::decide() {
  const auto started = std::chrono::steady_clock::now();
  auto phase = m_session.reporter.phase("Detecting the platform");
  auto failed = [&](Error e) -> Result<void> {
    phase.failed(e.message);
    record_failure(k_case_platform, e, seconds_since(started));
    return fail(std::move(e));
  };

  Request request;
  request.audit_mode = m_o.audit_mode;
  request.eks_mode = m_o.eks_mode;
  request.force = m_o.force;
  request.native_routing_cidr = m_o.native_routing_cidr;
  request.export_forwarded = m_o.export_forwarded;
  if (m_o.values_file) {
    auto values = load_values_file(*m_o.values_file);
    if (!values) return failed(values.error());
    request.user_values = std::move(*values);
  }

  std::string chart_ref = defaults::k_bundled_chart;
  if (m_o.chart) {
    chart_ref = *m_o.chart;
  } else if (m_site.bundled_chart && !m_site.bundled_chart->empty()) {
    chart_ref = *m_site.bundled_chart;
  }
  auto chart = resolve_chart(chart_ref, m_o.version);
  if (!chart) return failed(chart.error());
  m_chart = std::move(*chart);
  // A test chart runs no agent: installed on a real cluster it would take the CNI away and
  // enforce nothing.
  if (m_chart.chart_version) {
    if (auto v = parse_version(*m_chart.chart_version);
        v && is_test_build(*v) && !m_o.test_cluster) {
      Error e(ErrorCode::config,
              fmt::format("refusing chart {} version {}: a test build, not a Cilium release",
                          m_chart.ref, *m_chart.chart_version));
      e.details.push_back("A test chart runs no Cilium agent: nothing would enforce or log "
                          "policies, and the cluster would lose its CNI.");
      e.details.push_back(fmt::format(
          "Use the chart bundled in the image or a release (--chart "
          "oci://quay.io/cilium/charts/cilium --cilium-version {}); on a test cluster pass "
          "--test-cluster (NETPOL_TEST_CLUSTER=true).",
          defaults::k_chart_version));
      return failed(std::move(e));
    }
  }

  m_helm.kubeconfig_paths = m_site.kubeconfig_paths;
  m_helm.kube_context = m_site.context;
  m_helm.namespace_name = m_o.namespace_name;
  auto helm = find_helm(m_o.helm, m_site.search_path);
  if (helm) {
    m_helm.helm = *helm;
    auto major = helm_major_version(m_helm.helm);
    if (major) {
      m_helm.major = *major;
      m_helm_found = true;
    } else if (!m_o.dry_run) {
      return failed(major.error());
    } else {
      m_session.reporter.warn(major.error().message);
    }
  } else if (!m_o.dry_run) {
    return failed(helm.error());
  } else {
    m_helm.helm = m_o.helm.value_or("helm");
    m_session.reporter.warn(helm.error().message);
  }

  auto api = m_site.cluster();
  if (!api) return failed(api.error());
  m_api = *api;
  detect::Hints hints;
  hints.server = m_api->server();
  hints.context_name = m_site.context;
  auto detection = detect::detect(*m_api, hints);
  if (!detection) return failed(detection.error());
  m_platform = platform_from(*detection);
  // Upgrade Cilium where it runs (GitLab's old integration used gitlab-managed-apps), not
  // beside it in kube-system.
  if (!m_o.namespace_given && detection->provider.name == detect::ProviderName::cilium &&
      detection->provider.namespace_name && !detection->provider.namespace_name->empty()) {
    m_o.namespace_name = *detection->provider.namespace_name;
    m_helm.namespace_name = m_o.namespace_name;
  }
  // The running Cilium's audit mode counts only if it is the release being upgraded.
  if (detection->provider.namespace_name.value_or("") != m_o.namespace_name) {
    m_platform.existing_audit_mode.reset();
  }
  m_platform.chart_version = m_chart.chart_version;
  if (detection->provider.name == detect::ProviderName::cilium) {
    m_platform.running_version = detection->provider.version;
  }

  if (m_helm_found) {
    auto status = release_status(m_helm);
    if (!status) return failed(status.error());
    m_release = *status;
    m_platform.cilium_release = status->exists;
    m_platform.release_values = status->values;
    if (!status->chart_version.empty()) m_platform.release_chart_version = status->chart_version;
    // What runs wins; the release's values say what was asked for when nothing runs.
    if (!m_platform.existing_audit_mode && status->values.contains("policyAuditMode") &&
        status->values["policyAuditMode"].is_boolean()) {
      m_platform.existing_audit_mode = status->values["policyAuditMode"].get<bool>();
    }
  }

  auto decision = decide_values(m_platform, request);
  if (!decision) return failed(decision.error());
  m_decision = std::move(*decision);

  // Files and output carry the values with secret-looking leaves masked; only helm's 0600
  // temporary file holds them whole.
  auto written =
      m_session.output.write(k_values_file, to_yaml(redact_secret_values(m_decision.values)));
  if (!written) return failed(written.error());
  m_values_path = written->string();
  if (m_decision.upgrade) {
    m_diff = values_diff(redact_secret_values(m_decision.previous_values),
                         redact_secret_values(m_decision.values),
                         fmt::format("release {}/{} revision {} (helm get values)",
                                     m_helm.namespace_name, m_helm.release, m_release.revision),
                         k_values_file);
    if (auto diff = m_session.output.write(k_diff_file, log::redact(m_diff)); !diff) {
      return failed(diff.error());
    }
  }

  for (const auto& note : m_decision.notes)
    m_session.reporter.warn(note);
  const std::string summary = fmt::format(
      "{} on {}, {}; {}",
      m_platform.provider.name == "none" ? "no network provider" : m_platform.provider.name,
      m_platform.flavor, m_decision.datapath,
      m_decision.upgrade
          ? fmt::format("upgrading release {}/{} (chart {} -> {}), {}", m_helm.namespace_name,
                        m_helm.release,
                        m_release.chart_version.empty() ? std::string("?")
                                                        : m_release.chart_version,
                        m_chart.chart_version.value_or("?"),
                        m_decision.changes.empty()
                            ? std::string("no value changes")
                            : fmt::format("{} values change", m_decision.changes.size()))
          : "new install");
  phase.done(summary);
  std::string detail = summary;
  for (const auto& e : detection->evidence)
    detail += "\n" + e;
  for (const auto& n : m_decision.notes)
    detail += "\nnote: " + n;
  if (!m_diff.empty()) detail += "\n" + m_diff;
  record(k_case_platform, CaseStatus::passed, summary, log::redact(detail), seconds_since(started));
  if (m_decision.upgrade) show_changes();
  return {};
}

// The job log shows the change before anything runs: the diff, and whether agents restart.
void InstallRun::show_changes() {
  auto phase = m_session.reporter.phase(
      fmt::format("Changes to release {}/{}", m_helm.namespace_name, m_helm.release));
  if (m_diff.empty()) {
    phase.done("no change to its values; " + m_decision.restart_reason);
    return;
  }
  size_t start = 0;
  const std::string diff = log::redact(m_diff);
  while (start < diff.size()) {
    size_t end = diff.find('\n', start);
    if (end == std::string::npos) end = diff.size();
    phase.progress(std::string_view(diff).substr(start, end - start));
    start = end + 1;
  }
  phase.done(fmt::format("{} values change ({}); {}", m_decision.changes.size(), k_diff_file,
                         m_decision.restart_reason));
}

// An upgrade whose values and chart version are those of a healthy release: helm would only
// write a new revision (and regenerate the Hubble certificates) for nothing.
bool InstallRun::nothing_to_change() const {
  return m_decision.upgrade && m_decision.changes.empty() && m_release.status == "deployed" &&
         m_chart.chart_version && *m_chart.chart_version == m_release.chart_version;
}

Result<void> InstallRun::install() {
  const auto started = std::chrono::steady_clock::now();
  auto phase = m_session.reporter.phase(fmt::format(
      "{} Cilium with Helm ({})", m_decision.upgrade ? "Upgrading" : "Installing", m_chart.ref));
  auto out = upgrade_install(m_helm, m_chart, m_decision.values);
  if (!out) {
    Error e = out.error();
    if (e.code == ErrorCode::cancelled) {
      // helm was stopped mid-way (its process group got SIGTERM): nothing more is written,
      // not even a rollback, so say where the release may stand.
      e.details.push_back(fmt::format(
          "helm {} was stopped: release {} in {} may be left pending-{}; `helm history {} "
          "--namespace {}` shows it, and the next install-cilium run{} resolves it",
          m_decision.upgrade ? "upgrade" : "install", m_helm.release, m_helm.namespace_name,
          m_decision.upgrade ? "upgrade" : "install", m_helm.release, m_helm.namespace_name,
          m_decision.upgrade && m_release.revision > 0
              ? fmt::format(" or `helm rollback {} {} --namespace {}`", m_helm.release,
                            m_release.revision, m_helm.namespace_name)
              : ""));
    } else if (m_decision.upgrade && m_release.revision > 0) {
      // helm rolls back only together with its own wait (upgrade_command); netpol does it.
      if (auto back = rollback(m_helm, m_release.revision); back) {
        e.details.push_back(
            fmt::format("netpol rolled the release back to revision {}.", m_release.revision));
      } else {
        e.details.push_back("rolling back failed too: " + back.error().message);
      }
    }
    phase.failed(e.message);
    record_failure(k_case_helm, e, seconds_since(started));
    return fail(std::move(e));
  }
  phase.done();
  record(k_case_helm, CaseStatus::passed, {}, *out, seconds_since(started));
  return {};
}

Result<void> InstallRun::wait() {
  const auto started = std::chrono::steady_clock::now();
  auto phase = m_session.reporter.phase("Waiting for Cilium to be ready");
  WaitOptions options;
  options.namespace_name = m_o.namespace_name;
  options.timeout = m_o.timeout;
  auto ready = wait_ready(*m_api, options, [&](std::string_view line) { phase.progress(line); });
  if (!ready) {
    Error e = ready.error();
    if (m_decision.upgrade && m_release.revision > 0) {
      e.details.push_back(fmt::format("To go back: helm rollback {} {} --namespace {}",
                                      m_helm.release, m_release.revision, m_helm.namespace_name));
    }
    phase.failed(e.message);
    record_failure(k_case_ready, e, seconds_since(started));
    return fail(std::move(e));
  }
  phase.done(ready->summary);
  record(k_case_ready, CaseStatus::passed, ready->summary, ready->summary, seconds_since(started));
  return {};
}

Result<void> InstallRun::verify() {
  const auto started = std::chrono::steady_clock::now();
  auto phase = m_session.reporter.phase("Verifying the configuration");
  auto checked = verify_config(*m_api, m_o.namespace_name, m_decision.values);
  if (!checked) {
    phase.failed(checked.error().message);
    record_failure(k_case_verify, checked.error(), seconds_since(started));
    return fail(checked.error());
  }
  std::string detail;
  for (const auto& line : *checked)
    detail += line + "\n";
  phase.done(fmt::format("{} settings as asked", checked->size()));
  record(k_case_verify, CaseStatus::passed, {}, detail, seconds_since(started));
  return {};
}

Result<void> InstallRun::pods() {
  const auto started = std::chrono::steady_clock::now();
  auto phase = m_session.reporter.phase("Finding pods Cilium does not manage yet");
  auto unmanaged = unmanaged_pods(*m_api);
  if (!unmanaged && kube::is_forbidden(unmanaged.error())) {
    // Cilium is installed and healthy; a job allowed to install it but not to list pods in
    // every namespace should not fail for this.
    const std::string reason =
        "cannot list pods and CiliumEndpoints in every namespace: " + unmanaged.error().message;
    m_session.reporter.warn(reason + "; restart pods started before Cilium yourself");
    phase.skipped(reason);
    record(k_case_pods, CaseStatus::skipped, reason, {}, seconds_since(started));
    return {};
  }
  if (!unmanaged) {
    phase.failed(unmanaged.error().message);
    record_failure(k_case_pods, unmanaged.error(), seconds_since(started));
    return fail(unmanaged.error());
  }
  m_unmanaged = std::move(*unmanaged);
  if (m_o.restart_unmanaged && !m_unmanaged.empty()) {
    m_restarts = restart_pods(*m_api, m_unmanaged);
  }
  std::string detail;
  size_t left = 0;
  for (size_t i = 0; i < m_unmanaged.size(); ++i) {
    const auto& p = m_unmanaged[i];
    std::string line = p.namespace_name + "/" + p.name;
    if (i < m_restarts.size()) {
      line += ": " + m_restarts[i].message;
      if (!m_restarts[i].restarted) ++left;
    } else {
      ++left;
    }
    detail += line + "\n";
  }
  std::string summary;
  if (m_unmanaged.empty()) {
    summary = "every running pod is managed";
  } else if (m_restarts.empty()) {
    summary = fmt::format("{} pods are not managed yet: restart them", m_unmanaged.size());
  } else {
    summary = fmt::format("{} of {} unmanaged pods restarted", m_unmanaged.size() - left,
                          m_unmanaged.size());
  }
  if (left > 0) {
    m_session.reporter.warn(fmt::format(
        "{} pods started before Cilium: no policy applies to them and none of their flows is "
        "logged until they are restarted",
        left));
  }
  phase.done(summary);
  // Not a failure: Cilium is installed; the list says what to restart.
  record(k_case_pods, CaseStatus::passed, summary, detail, seconds_since(started));
  return {};
}

void InstallRun::print_result() {
  const std::string release = m_helm.namespace_name + "/" + m_helm.release;
  const auto values_arg = m_values_path.empty() ? std::string(k_values_file) : m_values_path;
  const auto command = upgrade_command(m_helm, m_chart, values_arg);
  if (m_session.format == report::Format::json) {
    json out;
    out["dry_run"] = m_o.dry_run;
    out["release"] = release;
    out["upgrade"] = m_decision.upgrade;
    out["chart"] = m_chart.ref;
    out["chart_version"] = m_chart.chart_version ? json(*m_chart.chart_version) : json();
    out["flavor"] = m_platform.flavor;
    out["provider"] = m_platform.provider.name;
    out["datapath"] = m_decision.datapath;
    out["audit_mode"] = m_decision.audit_mode;
    out["audit_mode_source"] = m_decision.audit_mode_source;
    out["chart_digest"] = m_chart.digest ? json(*m_chart.digest) : json();
    out["helm_major"] = m_helm.major;
    out["helm_command"] = command;
    out["helm_skipped"] = !m_o.dry_run && nothing_to_change();
    out["values"] = redact_secret_values(m_decision.values);
    if (m_decision.upgrade) {
      out["previous_chart_version"] = m_release.chart_version;
      out["previous_values"] = redact_secret_values(m_decision.previous_values);
      out["changes"] = m_decision.changes;
      out["values_diff"] = m_diff;
    }
    out["agents_restart"] = m_decision.agents_restart;
    out["restart_reason"] = m_decision.restart_reason;
    out["notes"] = m_decision.notes;
    json pods = json::array();
    for (size_t i = 0; i < m_unmanaged.size(); ++i) {
      const auto& p = m_unmanaged[i];
      pods.push_back({{"namespace", p.namespace_name},
                      {"name", p.name},
                      {"owner", p.owner},
                      {"restarted", i < m_restarts.size() && m_restarts[i].restarted}});
    }
    out["unmanaged_pods"] = std::move(pods);
    m_session.out << log::redact(out.dump(2)) << "\n";
    return;
  }
  auto& o = m_session.out;
  if (m_o.dry_run) {
    o << "# dry run: nothing was changed. This would run:\n"
      << log::redact(display_command(command)) << "\n"
      << "# with these values (" << values_arg << "):\n"
      << log::redact(to_yaml(redact_secret_values(m_decision.values)));
    if (m_decision.upgrade) {
      o << fmt::format("# change to release {} revision {} ({}):\n", release, m_release.revision,
                       k_diff_file);
      o << (m_diff.empty() ? std::string("# none: the release has these values already\n")
                           : log::redact(m_diff));
      if (nothing_to_change()) {
        o << "# helm would not run: chart and values are those of the release\n";
      }
    }
    o << "# agents: " << m_decision.restart_reason << "\n";
    return;
  }
  o << fmt::format("Cilium {} as release {} (chart {}{})\n",
                   !m_decision.upgrade   ? "installed"
                   : nothing_to_change() ? "unchanged"
                                         : "upgraded",
                   release, m_chart.ref, m_chart.chart_version ? " " + *m_chart.chart_version : "");
  o << fmt::format("  datapath:          {}\n", m_decision.datapath);
  o << fmt::format("  policy audit mode: {} ({})\n", m_decision.audit_mode ? "on" : "off",
                   m_decision.audit_mode_source);
  o << "  flow export:       dropped and audited flows to the agents' log (stdout)\n";
  o << fmt::format("  values:            {}\n", values_arg);
  if (m_decision.upgrade) {
    o << fmt::format("  changes:           {}\n",
                     m_decision.changes.empty()
                         ? std::string("none")
                         : fmt::format("{} keys ({})", m_decision.changes.size(), k_diff_file));
  }
  o << fmt::format("  agents:            {}\n", m_decision.restart_reason);
  if (m_unmanaged.empty()) return;
  if (!m_restarts.empty()) {
    o << "Pods restarted to come under Cilium:\n";
    for (const auto& r : m_restarts) {
      o << fmt::format("  {}/{}: {}\n", r.pod.namespace_name, r.pod.name, r.message);
    }
    return;
  }
  o << fmt::format("Pods not managed by Cilium yet ({}): no policy applies to them until they "
                   "are restarted.\nRestart them (or run again with --restart-unmanaged):\n",
                   m_unmanaged.size());
  for (const auto& line : restart_commands(m_unmanaged))
    o << "  " << line << "\n";
}

} // namespace

Result<int> install(const InstallOptions& options, const Site& site, report::Session session) {
  return InstallRun(options, site, session).execute();
}

Result<int> install_with_metrics(const InstallOptions& options, const Site& site,
                                 report::Session session) {
  auto result = install(options, site, session);
  // metrics.txt: whether this job installed or upgraded Cilium.
  const auto& cases = session.reports.junit("install-cilium").cases();
  const bool installed =
      !options.dry_run && std::any_of(cases.begin(), cases.end(), [](const report::TestCase& c) {
        return c.name == k_case_helm && c.status == CaseStatus::passed;
      });
  report::MetricsReport metrics;
  metrics.add({"netpol_cilium_installs",
               "Cilium installs or upgrades done by this job",
               installed ? 1.0 : 0.0,
               {}});
  if (auto written = session.output.write("metrics.txt", metrics.to_text()); !written && result)
    return fail(written.error());
  return result;
}

} // namespace netpol::cilium
