#include "cli/apply_cmd.hpp"

#include <optional>

#include <fmt/format.h>

#include "cli/evidence_options.hpp"
#include "cli/policy_options.hpp"
#include "detect/detect.hpp"
#include "detect/provider_file.hpp"

namespace netpol::cli {
namespace {

void describe_apply(po::options_description& options, po::positional_options_description&) {
  describe_apply_options(options);
  // clang-format off
  options.add_options()
    ("mode", po::value<std::string>()->value_name("off|audit|enforce"),
     "off: apply nothing; audit: apply only where the provider audits; enforce: apply [NETWORK_POLICY_MODE; default off]")
    ("require-enforcement", po::value<std::string>()->value_name("BOOL")->implicit_value("true"),
     "exit 4 when the provider does not enforce NetworkPolicy [NETWORK_POLICY_REQUIRE_ENFORCEMENT]")
    ("provider-file", po::value<std::string>()->value_name("FILE"),
     "provider.json of an earlier `netpol detect` instead of detecting again");
  // clang-format on
}

// The provider decides what each mode does: read from --provider-file, or detected. Mode off
// needs none.
Result<std::optional<detect::Detection>> provider_for(policy::PolicyMode mode,
                                                      const po::variables_map& args,
                                                      kube::KubeApi& api, Context& ctx) {
  if (mode == policy::PolicyMode::off) return std::optional<detect::Detection>();
  if (args.count("provider-file")) {
    auto read = detect::read_provider_file(args["provider-file"].as<std::string>());
    if (!read) return fail(read.error());
    return std::optional(std::move(*read));
  }
  auto phase = ctx.reporter().phase("Detecting the network provider");
  detect::Hints hints;
  hints.server = api.server();
  auto detected = detect::detect(api, hints);
  if (!detected) return fail(detected.error());
  phase.done(std::string(detect::to_string(detected->provider.name)));
  return std::optional(std::move(*detected));
}

Result<int> run_apply(const po::variables_map& args, Context& ctx) {
  auto mode = policy::parse_policy_mode(args.count("mode") ? args["mode"].as<std::string>() : "off",
                                        "--mode (NETWORK_POLICY_MODE)");
  if (!mode) return fail(mode.error());
  bool require_enforcement = false;
  if (args.count("require-enforcement")) {
    auto b = parse_bool(args["require-enforcement"].as<std::string>(),
                        "--require-enforcement (NETWORK_POLICY_REQUIRE_ENFORCEMENT)");
    if (!b) return fail(b.error());
    require_enforcement = *b;
  }
  auto& junit = ctx.reports().junit("apply");
  ctx.reports().owe(policy::k_plan_reports);
  auto api = ctx.kube();
  if (!api) return fail(api.error());
  auto options = read_apply_options(args, ctx);
  if (!options) return fail(options.error());
  options->mode = *mode;
  options->require_enforcement = require_enforcement;
  auto detection = provider_for(*mode, args, **api, ctx);
  if (!detection) return fail(detection.error());
  auto outcome = policy::apply(*options, *detection ? &(*detection)->provider : nullptr, ctx.env(),
                               **api, ctx.session(), junit);
  if (!outcome) return fail(outcome.error());
  if (outcome->allowed) {
    ctx.out() << fmt::format("{} applied, {} unchanged, {} pruned{}\n", outcome->applied,
                             outcome->unchanged, outcome->pruned,
                             outcome->dry_run ? " (dry run)" : "");
  }
  return 0;
}

} // namespace

void describe_apply_options(po::options_description& options) {
  describe_policy_options(options);
  describe_evidence_options(options);
  // clang-format off
  options.add_options()
    ("force-conflicts", po::bool_switch(), "take over fields another field manager owns")
    ("dry-run", po::bool_switch(), "server-side dry run: the server validates, nothing is stored");
  // clang-format on
}

Result<policy::ApplyOptions> read_apply_options(const po::variables_map& args, Context& ctx,
                                                NamespaceWhen when) {
  auto plan = read_plan_options(args, ctx, when);
  if (!plan) return fail(plan.error());
  policy::ApplyOptions o;
  o.plan = std::move(*plan);
  o.force_conflicts = args.count("force-conflicts") != 0 && args["force-conflicts"].as<bool>();
  o.dry_run = args.count("dry-run") != 0 && args["dry-run"].as<bool>();
  return o;
}

Command apply_command() {
  return Command{
      .name = "apply",
      .summary = "plan, then server-side apply and prune the policies (honours --mode)",
      .usage = "apply [--mode off|audit|enforce] [--policies PATH] [--default-policy PROFILE] "
               "[--dry-run] [--force-conflicts]",
      .help = "Runs `plan`, then by --mode: off applies nothing; audit applies only when the\n"
              "provider is in audit mode (nothing gets blocked); enforce applies, warning when\n"
              "the provider only audits. Before the first write it checks every permission it\n"
              "needs and lists the missing ones. Objects are server-side applied (field\n"
              "manager netpol); unchanged ones are not sent. A field owned by another manager\n"
              "is a conflict unless --force-conflicts. A name that an object netpol did not\n"
              "apply for this project and environment holds is never taken over (exit 3).\n"
              "Objects of this project and environment that are no longer declared are\n"
              "pruned, only when every apply succeeded.\n"
              "Writes policies.yaml, plan.txt, plan.json and junit-apply.xml.\n\n"
              "Examples:\n"
              "  CI_PROJECT_ID=42 CI_ENVIRONMENT_SLUG=review netpol -n shop apply --mode enforce\n"
              "  netpol apply --mode enforce --default-policy gitlab --dry-run",
      .needs_cluster = true,
      .describe = describe_apply,
      .env =
          [] {
            auto env = policy_env();
            for (const auto& binding : evidence_env())
              env.push_back(binding);
            env.push_back({"mode", "NETWORK_POLICY_MODE"});
            env.push_back({"require-enforcement", "NETWORK_POLICY_REQUIRE_ENFORCEMENT"});
            return env;
          }(),
      .run = run_apply,
  };
}

} // namespace netpol::cli
