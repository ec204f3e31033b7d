#include "cli/plan_cmd.hpp"

#include "cli/evidence_options.hpp"
#include "cli/policy_options.hpp"
#include "policy/plan_step.hpp"

namespace netpol::cli {
namespace {

void describe_plan(po::options_description& options, po::positional_options_description&) {
  describe_policy_options(options);
  describe_evidence_options(options);
}

Result<int> run_plan(const po::variables_map& args, Context& ctx) {
  auto& junit = ctx.reports().junit("plan");
  ctx.reports().owe(policy::k_plan_reports);
  auto api = ctx.kube();
  if (!api) return fail(api.error());
  auto options = read_plan_options(args, ctx);
  if (!options) return fail(options.error());
  auto step = policy::plan_step(*options, ctx.env(), **api, ctx.session(), junit);
  if (!step) return fail(step.error());
  return 0;
}

} // namespace

Command plan_command() {
  return Command{
      .name = "plan",
      .summary = "render, validate and lint the desired policies and diff them against the cluster",
      .usage = "plan [--policies PATH] [--default-policy PROFILE] [--no-prune] [--flows FILE...] "
               "[--fail-on-breaking]",
      .help = "Loads the project's policies and the default profile, validates and lints them,\n"
              "labels them for this project and environment (CI_PROJECT_ID, CI_ENVIRONMENT_SLUG)\n"
              "and compares them with what netpol applied earlier: create, update (with the\n"
              "changed fields), unchanged, prune. Writes policies.yaml, plan.txt, plan.json and\n"
              "junit-plan.xml. Changes nothing. Exit 3 when any policy is invalid.\n\n"
              "When the plan changes anything, it also says which pod pairs the change newly\n"
              "denies or allows (connectivity.txt, connectivity.json). With --flows (the traffic\n"
              "seen), the newly denied connections that were seen come first, each a failing\n"
              "JUnit case (\"will break: seen N times between ...\"); --fail-on-breaking exits 4\n"
              "on them. Without --flows the preview is unverified.\n",
      .needs_cluster = true,
      .describe = describe_plan,
      .env =
          [] {
            auto env = policy_env();
            for (const auto& binding : evidence_env())
              env.push_back(binding);
            return env;
          }(),
      .run = run_plan,
  };
}

} // namespace netpol::cli
