#include "detect/reports.hpp"

#include <chrono>

#include <fmt/format.h>

#include "detect/detect.hpp"
#include "report/junit.hpp"

namespace netpol::detect {
namespace {

using report::CaseStatus;
using report::TestCase;

constexpr const char* k_classname = "netpol.detect";

std::string enforcement_summary(const Detection& d) {
  if (!d.provider.enforces_network_policy) return "NetworkPolicy not enforced";
  return d.provider.audit_mode ? "audit mode (denials logged, traffic passes)" : "enforced";
}

// The first unsupported-version line among the providers found, the deciding one first.
std::optional<std::string> unsupported_version(const Detection& d, const DetectOptions& options) {
  if (!options.unsupported_version) return std::nullopt;
  if (auto line = options.unsupported_version(d.provider)) return line;
  for (const auto& p : d.other_providers) {
    if (auto line = options.unsupported_version(p)) return line;
  }
  return std::nullopt;
}

// Writes provider.json and netpol.env; a write failure is reported but does not hide the
// detection.
Result<void> write_reports(const report::OutputDir& output, const Detection& detection) {
  if (auto r = output.write("provider.json", detection.to_json().dump(2) + "\n"); !r) {
    return fail(r.error());
  }
  if (auto r = output.write("netpol.env", detection.to_dotenv()); !r) return fail(r.error());
  return {};
}

void add_cases(report::JUnitReport& junit, const Detection& d, bool require_enforcement,
               double seconds) {
  std::string evidence;
  for (const auto& e : d.evidence)
    evidence += e + "\n";
  junit.add(TestCase{k_classname, "cluster reachable", CaseStatus::passed,
                     d.kubernetes_version.empty() ? "" : "Kubernetes " + d.kubernetes_version, "",
                     seconds});
  junit.add(
      TestCase{k_classname, "network provider detected",
               d.provider.name == ProviderName::none ? CaseStatus::skipped : CaseStatus::passed,
               fmt::format("{} on {} (confidence {})", to_string(d.provider.name),
                           to_string(d.flavor), to_string(d.confidence)),
               evidence, 0});
  TestCase enforced{
      k_classname, "NetworkPolicy enforced", CaseStatus::passed, enforcement_summary(d), "", 0};
  if (!d.provider.enforces_network_policy) {
    enforced.status = require_enforcement ? CaseStatus::failed : CaseStatus::skipped;
    enforced.message =
        fmt::format("provider {} does not enforce NetworkPolicy{}", to_string(d.provider.name),
                    require_enforcement ? "" : " (not required)");
  }
  junit.add(enforced);
  TestCase drops{k_classname,
                 "drop log available",
                 CaseStatus::passed,
                 std::string(to_string(d.provider.drop_log_source)),
                 "",
                 0};
  if (d.provider.drop_log_source == DropLogSource::none) {
    drops.status = CaseStatus::skipped;
    drops.message = fmt::format("no drop log source for {}", to_string(d.provider.name));
  }
  junit.add(drops);
}

} // namespace

Result<Detection> detect_and_report(const kube::Connect& cluster, Hints hints,
                                    const DetectOptions& options, report::Session session) {
  auto phase = session.reporter.phase("Detecting cluster flavour and network provider");
  const auto started = std::chrono::steady_clock::now();
  auto& junit = session.reports.junit("detect");
  session.reports.owe(k_detect_reports);
  auto fail_with = [&](Error error) -> Result<Detection> {
    junit.add(TestCase{k_classname, "cluster reachable", CaseStatus::error, error.message, "", 0});
    phase.failed(error.message);
    return fail(std::move(error));
  };

  auto api = cluster();
  if (!api) return fail_with(api.error());
  hints.server = (*api)->server();
  auto detection = detect(**api, hints);
  if (!detection) return fail_with(detection.error());
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  // A version older than the supported lines still detects and enforces, but netpol's export
  // settings and checks are untested there: said in the evidence and as a warning.
  const auto too_old = unsupported_version(*detection, options);
  if (too_old) detection->evidence.push_back(*too_old);

  const auto& d = *detection;
  phase.done(fmt::format("{} on {}: {}", to_string(d.provider.name), to_string(d.flavor),
                         enforcement_summary(d)));
  if (!d.forbidden_reads.empty()) {
    // Name the rights, not only the outcome: "confidence is medium" alone sends the reader
    // to the evidence to find out that a Role is missing.
    session.reporter.warn(
        fmt::format("detect: not allowed to {}: detected without that evidence, confidence {} "
                    "(examples/rbac/detect.yaml grants every read detect makes; see "
                    "docs/cluster-access.md#permissions)",
                    fmt::join(d.forbidden_reads, ", "), to_string(d.confidence)));
  } else if (d.confidence != Confidence::high) {
    session.reporter.warn(
        fmt::format("detection confidence is {}: see the evidence", to_string(d.confidence)));
  }
  if (too_old) session.reporter.warn(*too_old + ": upgrade it one minor version at a time");
  if (d.provider.ready.has_value() && !*d.provider.ready) {
    session.reporter.warn(fmt::format("not every {} agent is ready", to_string(d.provider.name)));
  }

  add_cases(junit, d, options.require_enforcement, seconds);
  if (auto r = write_reports(session.output, d); !r) return fail(r.error());
  return detection;
}

} // namespace netpol::detect
