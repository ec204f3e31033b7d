#include "cli/detect_cmd.hpp"

#include <fmt/format.h>

#include "cilium/version.hpp"
#include "detect/reports.hpp"

namespace netpol::cli {
namespace {

void describe_options(po::options_description& options, po::positional_options_description&) {
  // clang-format off
  options.add_options()
    ("require-enforcement", po::value<std::string>()->implicit_value("true")->value_name("BOOL"),
     "exit 4 when the provider does not enforce NetworkPolicy "
     "[NETWORK_POLICY_REQUIRE_ENFORCEMENT]");
  // clang-format on
}

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

Result<detect::Detection> detect_and_report(Context& ctx, bool require_enforcement) {
  detect::Hints hints;
  if (auto config = ctx.kube_config()) { // fails later, in kube(), when it cannot be read
    hints.context_name = (*config)->context_name;
  }
  detect::DetectOptions options;
  options.require_enforcement = require_enforcement;
  options.unsupported_version = cilium::unsupported_provider_version;
  return detect::detect_and_report([&ctx] { return ctx.kube(); }, hints, options, ctx.session());
}

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
