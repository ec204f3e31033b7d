#include "policy/lint_files.hpp"

#include <fmt/format.h>

#include "policy/check.hpp"
#include "policy/inventory.hpp"
#include "util/log.hpp"

namespace netpol::policy {

Result<void> lint_files(const LintFilesOptions& options, const Environment& env,
                        const report::Session& session) {
  const TemplateVariables vars(env, options.listed_vars, options.vars);
  LintOptions lint_options;
  lint_options.default_namespace = options.default_namespace;
  lint_options.pod_cidrs = options.pod_cidrs;
  if (!options.pods_from.empty()) {
    LoadOptions pod_load;
    pod_load.collect_other_kinds = true;
    auto pods = load_policies(options.pods_from, pod_load);
    if (!pods.errors.empty()) {
      Error e = pods.errors.front();
      e.code = e.code == ErrorCode::invalid_policy ? ErrorCode::usage : e.code;
      return fail(e.wrap("--pods-from"));
    }
    lint_options.inventory = make_inventory(pods.others, lint_options.default_namespace);
  }

  session.reports.owe(k_code_quality_report);
  auto phase = session.reporter.phase("Linting policies");
  LoadOptions load;
  load.vars = &vars;
  auto report = check_policies(load_policies(options.paths, load), lint_options);

  auto& junit = session.reports.junit("lint"); // written by the dispatcher
  const auto cases = junit_for(report, "lint");
  for (const auto& c : cases.cases())
    junit.add(c);
  if (auto w = session.output.write(
          k_code_quality_report,
          report::code_quality_json(code_quality_issues(report),
                                    env.get("CI_PROJECT_DIR").value_or("")));
      !w) {
    return fail(w.error());
  }

  if (session.format == report::Format::json) {
    session.out << to_json(report).dump(2) << "\n";
  } else {
    // Findings quote names from the files: escaped, so a name cannot drive the terminal.
    for (const auto& f : report.findings)
      session.out << log::printable(f.text()) << "\n";
    session.out << fmt::format("{} objects, {} invalid; {} errors, {} warnings, {} info\n",
                               report.loaded.policies.size(), report.invalid_objects,
                               report.count(Severity::error), report.count(Severity::warning),
                               report.count(Severity::info));
  }
  if (report.has_errors()) {
    phase.failed(report.error().code == ErrorCode::invalid_policy ? "invalid policies"
                                                                  : report.error().message);
    return fail(report.error());
  }
  if (options.strict && report.count(Severity::warning) > 0) {
    phase.failed("warnings with --strict");
    return fail(ErrorCode::check_failed,
                fmt::format("lint: {} warnings (--strict)", report.count(Severity::warning)));
  }
  phase.done(fmt::format("{} objects valid", report.loaded.policies.size()));
  return {};
}

} // namespace netpol::policy
