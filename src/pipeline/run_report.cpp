#include "pipeline/run_report.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace netpol::pipeline {
namespace {

report::MetricsReport metrics_of(const RunState& state) {
  report::MetricsReport m;
  m.add({"netpol_cilium_installs",
         "Cilium installs or upgrades done by this job",
         state.installed ? 1.0 : 0.0,
         {}});
  if (state.detection) {
    const auto& p = state.detection->provider;
    m.add({"netpol_provider_enforces",
           "1 when the network provider enforces NetworkPolicy",
           p.enforces_network_policy ? 1.0 : 0.0,
           {{"provider", std::string(detect::to_string(p.name))}}});
    m.add({"netpol_provider_audit_mode",
           "1 when the provider only audits policy denials",
           p.audit_mode ? 1.0 : 0.0,
           {}});
  }
  const auto* a = state.applied ? &*state.applied : nullptr;
  m.add({"netpol_policies_applied",
         "Policies created or updated by this job",
         a ? static_cast<double>(a->applied) : 0.0,
         {}});
  m.add({"netpol_policies_unchanged",
         "Declared policies already in place",
         a ? static_cast<double>(a->unchanged) : 0.0,
         {}});
  m.add({"netpol_policies_pruned",
         "Policies this job deleted as no longer declared",
         a ? static_cast<double>(a->pruned) : 0.0,
         {}});
  const auto* d = state.drops ? &*state.drops : nullptr;
  m.add({"netpol_flows",
         "Dropped or audited flows touching the namespace in the window",
         d ? static_cast<double>(d->dropped) : 0.0,
         {{"verdict", "dropped"}}});
  m.add({"netpol_flows",
         "Dropped or audited flows touching the namespace in the window",
         d ? static_cast<double>(d->audited) : 0.0,
         {{"verdict", "audited"}}});
  return m;
}

} // namespace

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

Result<void> write_metrics(const RunState& state, const report::Session& session) {
  if (auto r = session.output.write("metrics.txt", metrics_of(state).to_text()); !r)
    return fail(r.error());
  return {};
}

void print_summary(const RunState& state, policy::PolicyMode mode, int exit,
                   const report::Session& session) {
  const auto& d = *state.detection;
  if (session.format == report::Format::json) {
    nlohmann::ordered_json summary;
    summary["detection"] = d.to_json();
    summary["cilium_installed"] = state.installed;
    summary["mode"] = to_string(mode);
    nlohmann::ordered_json policies;
    policies["result"] = state.policies_line;
    if (state.applied) {
      policies["applied"] = state.applied->applied;
      policies["unchanged"] = state.applied->unchanged;
      policies["pruned"] = state.applied->pruned;
      policies["plan"] = state.applied->plan.to_json();
    }
    summary["policies"] = policies;
    nlohmann::ordered_json drops;
    drops["result"] = state.drops_line;
    if (state.drops) {
      drops["dropped"] = state.drops->dropped;
      drops["audited"] = state.drops->audited;
      drops["rows"] = state.drops->rows;
    }
    summary["drop_log"] = drops;
    summary["exit_code"] = exit;
    summary["output_dir"] = session.output.path().string();
    session.out << summary.dump(2) << "\n";
    return;
  }
  session.out << fmt::format(
      "cluster     {} (Kubernetes {})\n"
      "provider    {}{} — {}\n"
      "cilium      {}\n"
      "policies    {}\n"
      "drop log    {}\n"
      "reports     {}/ ({:.1f}s)\n",
      detect::to_string(d.flavor), d.kubernetes_version.empty() ? "?" : d.kubernetes_version,
      detect::to_string(d.provider.name),
      d.provider.version ? " " + *d.provider.version : std::string(),
      d.enforcing()                        ? "enforces NetworkPolicy"
      : d.provider.enforces_network_policy ? "audit mode: logs what policies would drop"
                                           : "does NOT enforce NetworkPolicy",
      state.installed ? "installed or upgraded by this job" : "not installed by this job",
      state.policies_line, state.drops_line, session.output.path().string(),
      seconds_since(state.started));
}

} // namespace netpol::pipeline
