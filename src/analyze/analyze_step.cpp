#include "analyze/analyze_step.hpp"

#include <fmt/format.h>

#include "analyze/connectivity_file.hpp"
#include "analyze/input.hpp"
#include "analyze/live.hpp"
#include "analyze/output.hpp"
#include "report/junit.hpp"

namespace netpol::analyze {
namespace {

// Everything the analysis reads, loaded before anything is computed.
struct AnalyzeInput {
  Cluster cluster;
  PolicySet planned;
  std::optional<PolicySet> base;
};

// Offline: pods from --pods-from, planned from --policies, base from --base-policies.
Result<void> load_offline(const AnalyzeOptions& o, const AnalyzeServices& services,
                          AnalyzeInput& input) {
  auto cluster = load_cluster(o.pods_from, o.default_namespace);
  if (!cluster) return fail(cluster.error());
  input.cluster = std::move(*cluster);
  auto planned = load_policies(o.policies, o.default_namespace);
  if (!planned) return fail(planned.error());
  if (auto ok = services.check_policy_files(o.policies, o.default_namespace, "--policies"); !ok)
    return ok;
  input.planned = std::move(*planned);
  if (o.diff) {
    auto base = load_policies(o.base_policies, o.default_namespace);
    if (!base) return fail(base.error());
    if (auto ok =
            services.check_policy_files(o.base_policies, o.default_namespace, "--base-policies");
        !ok)
      return ok;
    input.base = std::move(*base);
  }
  return {};
}

// --live: pods (unless --pods-from) and the policies in force from the cluster; --policies
// are applied over those; --diff compares with those.
Result<void> load_live(const AnalyzeOptions& o, const AnalyzeServices& services,
                       AnalyzeInput& input) {
  if (o.policies_given) {
    if (auto ok = services.check_policy_files(o.policies, o.default_namespace, "--policies"); !ok)
      return ok;
  }
  auto api = services.connect();
  if (!api) return fail(api.error());
  auto objects = list_live(**api);
  if (!objects) return fail(objects.error());
  if (o.pods_from.empty()) {
    auto cluster = cluster_from(*objects);
    if (!cluster) return fail(cluster.error());
    input.cluster = std::move(*cluster);
  } else {
    auto cluster = load_cluster(o.pods_from, o.default_namespace);
    if (!cluster) return fail(cluster.error());
    input.cluster = std::move(*cluster);
  }
  auto in_force = policies_from(objects->policies);
  if (!in_force) return fail(in_force.error());
  if (o.policies_given) {
    auto planned = load_policies(o.policies, o.default_namespace);
    if (!planned) return fail(planned.error());
    input.planned = overlay(*in_force, *planned);
  } else {
    input.planned = *in_force;
  }
  if (o.diff) input.base = std::move(*in_force);
  return {};
}

Result<AnalyzeInput> load_input(AnalyzeOptions& o, const AnalyzeServices& services,
                                const report::Session& session) {
  auto phase = session.reporter.phase(o.live ? "Reading pods and policies from the cluster"
                                             : "Loading pods and policies");
  AnalyzeInput input;
  if (o.live && !o.namespace_given) {
    // Planned policies without a namespace go where they would be applied.
    auto ns = services.cluster_namespace();
    if (!ns) {
      phase.failed(ns.error().message);
      return fail(ns.error());
    }
    o.default_namespace = *ns;
  }
  auto loaded = o.live ? load_live(o, services, input) : load_offline(o, services, input);
  if (!loaded) {
    phase.failed(loaded.error().message);
    return fail(loaded.error());
  }
  auto count = [](size_t n, const char* one, const char* many) {
    return fmt::format("{} {}", n, n == 1 ? one : many);
  };
  phase.done(fmt::format(
      "{}, {}{}", count(input.cluster.pods().size(), "pod", "pods"),
      count(input.planned.policies.size(), "policy", "policies"),
      input.base ? ", " + count(input.base->policies.size(), "base policy", "base policies")
                 : std::string()));
  return input;
}

std::vector<std::string> all_warnings(const AnalyzeInput& input) {
  std::vector<std::string> out = input.planned.warnings;
  if (input.base) {
    for (const auto& w : input.base->warnings)
      out.push_back("base: " + w);
  }
  return out;
}

} // namespace

Result<void> analyze_step(AnalyzeOptions options, const AnalyzeServices& services,
                          const report::Session& session, report::JUnitReport& junit) {
  session.reports.owe(k_analyze_reports);
  auto input = load_input(options, services, session);
  if (!input) {
    report::TestCase c;
    c.classname = "netpol.analyze";
    c.name = "inputs are readable and valid";
    c.status = report::CaseStatus::error;
    c.message = input.error().message;
    junit.add(std::move(c));
    return fail(input.error());
  }
  const auto warnings = all_warnings(*input);
  for (const auto& w : warnings)
    session.reporter.warn(w);

  auto phase = session.reporter.phase("Analysing connectivity");
  const auto results =
      analyze_ports(input->cluster, input->planned.policies,
                    input->base ? &input->base->policies : nullptr, options.port, options.engine);
  phase.done(fmt::format("{} {}", results.size(), results.size() == 1 ? "port" : "ports"));

  std::optional<ObservedIndex> observed;
  if (options.evidence && options.diff) {
    std::vector<AnalysedPort> ports;
    for (const auto& r : results)
      ports.push_back(r.port);
    observed.emplace(input->cluster, *options.evidence, ports);
  }
  const ObservedIndex* seen = observed ? &*observed : nullptr;
  const std::string text = to_text(input->cluster, results, input->planned.policies.size(), seen);
  add_junit_cases(junit, input->cluster, results, warnings, seen);

  if (auto written = session.output.write("connectivity.txt", text); !written) {
    return fail(written.error());
  }
  auto written =
      write_connectivity_json(session.output.path() / "connectivity.json", input->cluster, results,
                              {.connectivity = true, .diff = options.diff, .observed = seen});
  if (!written) return fail(written.error());
  session.output.note_written("connectivity.json");

  if (session.format == report::Format::json) {
    write_json_results(session.out, input->cluster, results,
                       {.connectivity = !options.diff, .diff = options.diff, .observed = seen},
                       options.port.has_value());
  } else {
    session.out << text;
  }
  if (seen != nullptr && options.fail_on_breaking) {
    return refuse_breaking(will_break(results, *seen));
  }
  return {};
}

} // namespace netpol::analyze
