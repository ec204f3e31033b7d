#include "cli/detect_cmd.hpp"

#include <chrono>

#include <fmt/format.h>

#include "cilium/version.hpp"
#include "detect/detect.hpp"
#include "report/junit.hpp"

namespace netpol::cli {
namespace {

using report::CaseStatus;
using report::TestCase;

constexpr const char* k_classname = "netpol.detect";

void describe_options(po::options_description& options, po::positional_options_description&) {
  // clang-format off
  options.add_options()
    ("require-enforcement", po::value<std::string>()->implicit_value("true")->value_name("BOOL"),
     "exit 4 when the provider does not enforce NetworkPolicy "
     "[NETWORK_POLICY_REQUIRE_ENFORCEMENT]");
  // clang-format on
}

// The Cilium providers found (the primary one, or one chained beside another CNI).
std::vector<const detect::Provider*> cilium_providers(const detect::Detection& d) {
  std::vector<const detect::Provider*> out;
  if (d.provider.name == detect::ProviderName::cilium) out.push_back(&d.provider);
  for (const auto& p : d.other_providers) {
    if (p.name == detect::ProviderName::cilium) out.push_back(&p);
  }
  return out;
}

std::string enforcement_summary(const detect::Detection& d) {
  if (!d.provider.enforces_network_policy) return "NetworkPolicy not enforced";
  return d.provider.audit_mode ? "audit mode (denials logged, traffic passes)" : "enforced";
}

// Writes provider.json and netpol.env; a write failure is reported but does not hide the
// detection.
Result<void> write_reports(Context& ctx, const detect::Detection& detection) {
  if (auto r = ctx.output().write("provider.json", detection.to_json().dump(2) + "\n"); !r) {
    return fail(r.error());
  }
  if (auto r = ctx.output().write("netpol.env", detection.to_dotenv()); !r) return fail(r.error());
  return {};
}

void add_cases(report::JUnitReport& junit, const detect::Detection& d, bool require_enforcement,
               double seconds) {
  std::string evidence;
  for (const auto& e : d.evidence)
    evidence += e + "\n";
  junit.add(TestCase{k_classname, "cluster reachable", CaseStatus::passed,
                     d.kubernetes_version.empty() ? "" : "Kubernetes " + d.kubernetes_version, "",
                     seconds});
  junit.add(TestCase{k_classname, "network provider detected",
                     d.provider.name == detect::ProviderName::none ? CaseStatus::skipped
                                                                   : CaseStatus::passed,
                     fmt::format("{} on {} (confidence {})", detect::to_string(d.provider.name),
                                 detect::to_string(d.flavor), detect::to_string(d.confidence)),
                     evidence, 0});
  TestCase enforced{
      k_classname, "NetworkPolicy enforced", CaseStatus::passed, enforcement_summary(d), "", 0};
  if (!d.provider.enforces_network_policy) {
    enforced.status = require_enforcement ? CaseStatus::failed : CaseStatus::skipped;
    enforced.message = fmt::format("provider {} does not enforce NetworkPolicy{}",
                                   detect::to_string(d.provider.name),
                                   require_enforcement ? "" : " (not required)");
  }
  junit.add(enforced);
  TestCase drops{k_classname,
                 "drop log available",
                 CaseStatus::passed,
                 std::string(detect::to_string(d.provider.drop_log_source)),
                 "",
                 0};
  if (d.provider.drop_log_source == detect::DropLogSource::none) {
    drops.status = CaseStatus::skipped;
    drops.message = fmt::format("no drop log source for {}", detect::to_string(d.provider.name));
  }
  junit.add(drops);
}

} // namespace

Result<detect::Detection> detect_and_report(Context& ctx, bool require_enforcement) {
  auto phase = ctx.reporter().phase("Detecting cluster flavour and network provider");
  const auto started = std::chrono::steady_clock::now();
  auto& junit = ctx.reports().junit("detect");
  ctx.reports().owe(k_detect_reports);
  auto fail_with = [&](Error error) -> Result<detect::Detection> {
    junit.add(TestCase{k_classname, "cluster reachable", CaseStatus::error, error.message, "", 0});
    phase.failed(error.message);
    return fail(std::move(error));
  };

  auto api = ctx.kube();
  if (!api) return fail_with(api.error());
  detect::Hints hints;
  hints.server = (*api)->server();
  if (auto config = ctx.kube_config()) { // absent when a test injected the client
    hints.context_name = (*config)->context_name;
  }
  auto detection = detect::detect(**api, hints);
  if (!detection) return fail_with(detection.error());
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  // A Cilium older than the supported lines still detects and enforces, but netpol's export
  // settings and checks are untested there: said in the evidence and as a warning.
  std::optional<std::string> too_old;
  for (const auto* p : cilium_providers(*detection)) {
    if (p->version && !too_old) too_old = cilium::older_than_supported(*p->version);
  }
  if (too_old) detection->evidence.push_back(*too_old);

  const auto& d = *detection;
  phase.done(fmt::format("{} on {}: {}", detect::to_string(d.provider.name),
                         detect::to_string(d.flavor), enforcement_summary(d)));
  if (!d.forbidden_reads.empty()) {
    // Name the rights, not only the outcome: "confidence is medium" alone sends the reader
    // to the evidence to find out that a Role is missing.
    ctx.reporter().warn(
        fmt::format("detect: not allowed to {}: detected without that evidence, confidence {} "
                    "(examples/rbac/detect.yaml grants every read detect makes; see "
                    "docs/cluster-access.md#permissions)",
                    fmt::join(d.forbidden_reads, ", "), detect::to_string(d.confidence)));
  } else if (d.confidence != detect::Confidence::high) {
    ctx.reporter().warn(fmt::format("detection confidence is {}: see the evidence",
                                    detect::to_string(d.confidence)));
  }
  if (too_old) ctx.reporter().warn(*too_old + ": upgrade it one minor version at a time");
  if (d.provider.ready.has_value() && !*d.provider.ready) {
    ctx.reporter().warn(
        fmt::format("not every {} agent is ready", detect::to_string(d.provider.name)));
  }

  add_cases(junit, d, require_enforcement, seconds);
  if (auto r = write_reports(ctx, d); !r) return fail(r.error());
  return detection;
}

namespace {

Result<int> run_detect(const po::variables_map& args, Context& ctx) {
  bool require_enforcement = false;
  if (args.count("require-enforcement")) {
    auto b = parse_bool(args["require-enforcement"].as<std::string>(), "--require-enforcement");
    if (!b) return fail(b.error());
    require_enforcement = *b;
  }

  auto detection = detect_and_report(ctx, require_enforcement);
  if (!detection) return fail(detection.error());
  const auto& d = *detection;
  if (ctx.global().format == OutputFormat::json) {
    ctx.out() << d.to_json().dump(2) << "\n";
  } else {
    ctx.out() << d.to_text();
  }
  if (require_enforcement && !d.provider.enforces_network_policy) {
    return fail(ErrorCode::check_failed,
                fmt::format("detect: provider {} does not enforce NetworkPolicy "
                            "(--require-enforcement)",
                            detect::to_string(d.provider.name)));
  }
  return 0;
}

} // namespace

Command detect_command() {
  return Command{
      .name = "detect",
      .summary = "cluster flavour, network provider, enforcement and drop-log capability",
      .usage = "detect [--require-enforcement] [--format json]",
      .help = "Finds out which platform the cluster runs on (gke, eks, aks, openshift, k3s, kind,\n"
              "minikube, generic), which network provider handles NetworkPolicy, whether it\n"
              "enforces it or only audits, and whether dropped flows can be read from pod logs.\n"
              "Every conclusion comes with the evidence it rests on. Reads only; a read the token\n"
              "may not make lowers the confidence instead of failing.\n\n"
              "Writes provider.json, netpol.env (for artifacts:reports:dotenv) and\n"
              "junit-detect.xml to the output directory.\n\n"
              "Examples:\n"
              "  netpol detect\n"
              "  netpol detect --format json --output-dir out\n"
              "  netpol detect --require-enforcement   # exit 4 on a cluster that ignores policies",
      .needs_cluster = true,
      .describe = describe_options,
      .env = {{"require-enforcement", "NETWORK_POLICY_REQUIRE_ENFORCEMENT"}},
      .run = run_detect,
  };
}

} // namespace netpol::cli
