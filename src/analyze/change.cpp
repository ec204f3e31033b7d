#include "analyze/change.hpp"

#include <optional>
#include <set>

#include <fmt/format.h>

#include "analyze/connectivity_file.hpp"
#include "analyze/live.hpp"
#include "analyze/output.hpp"

namespace netpol::analyze {

Result<ConnectivityChange>
analyze_change(kube::KubeApi& api, const std::vector<nlohmann::json>& desired,
               const std::vector<std::string>& removed, const model::FlowEvidence* evidence,
               const report::Session& session, report::JUnitReport& junit) {
  auto phase = session.reporter.phase("Analysing what the change allows and denies");
  auto objects = list_live(api);
  if (!objects) return fail(objects.error());
  auto cluster = cluster_from(*objects);
  if (!cluster) return fail(cluster.error());
  // After the change: the live policies without the pruned ones, then the desired ones over
  // them (a desired object replaces the live one of the same kind, namespace and name). Each
  // live object is parsed once: in force now are the kept ones plus the pruned ones.
  const std::set<std::string> gone(removed.begin(), removed.end());
  std::vector<nlohmann::json> kept, pruned;
  for (auto& object : objects->policies)
    (gone.count(kube::describe(object)) ? pruned : kept).push_back(std::move(object));
  auto remaining = policies_from(kept);
  if (!remaining) return fail(remaining.error());
  auto in_force = policies_from(pruned);
  if (!in_force) return fail(in_force.error());
  in_force->policies.insert(in_force->policies.begin(), remaining->policies.begin(),
                            remaining->policies.end());
  auto planned = policies_from(desired);
  if (!planned) return fail(planned.error());
  const auto after = overlay(*remaining, *planned);
  const auto results =
      analyze_ports(*cluster, after.policies, &in_force->policies, std::nullopt, EngineOptions{});
  ConnectivityChange out;
  out.ports = results.size();
  out.pods = cluster->pods().size();
  for (const auto& r : results) {
    for (size_t from = 0; from < r.planned.size(); ++from) {
      for (size_t to = 0; to < r.planned.size(); ++to) {
        const bool before = r.base->allowed(from, to), now = r.planned.allowed(from, to);
        out.newly_denied += before && !now ? 1 : 0;
        out.newly_allowed += !before && now ? 1 : 0;
      }
    }
  }
  std::optional<ObservedIndex> observed;
  if (evidence != nullptr) {
    std::vector<AnalysedPort> ports;
    for (const auto& r : results)
      ports.push_back(r.port);
    observed.emplace(*cluster, *evidence, ports);
    out.verified = true;
    out.evidence = describe_window(*evidence);
    out.will_break = will_break(results, *observed);
  }
  const ObservedIndex* seen = observed ? &*observed : nullptr;
  add_junit_cases(junit, *cluster, results, after.warnings, seen);
  if (auto w = session.output.write("connectivity.txt",
                                    to_text(*cluster, results, after.policies.size(), seen));
      !w) {
    return fail(w.error());
  }
  auto written =
      write_connectivity_json(session.output.path() / "connectivity.json", *cluster, results,
                              {.connectivity = false, .diff = true, .observed = seen});
  if (!written) return fail(written.error());
  phase.done(fmt::format(
      "{} pod pair(s) newly denied, {} newly allowed over {} port(s), {} pods{}", out.newly_denied,
      out.newly_allowed, out.ports, out.pods,
      !out.verified ? std::string()
      : out.will_break.empty()
          ? "; none of the newly denied connections was seen in traffic"
          : fmt::format("; {} newly denied {} seen in traffic", out.will_break.size(),
                        out.will_break.size() == 1 ? "connection was" : "connections were")));
  return out;
}

} // namespace netpol::analyze
