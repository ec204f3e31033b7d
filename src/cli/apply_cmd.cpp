#include "cli/apply_cmd.hpp"

#include <fstream>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "cli/plan_cmd.hpp"
#include "detect/detect.hpp"

namespace netpol::cli {
namespace {

using policy::Action;

void describe_apply(po::options_description& options, po::positional_options_description&) {
  describe_policy_options(options);
  // clang-format off
  options.add_options()
    ("mode", po::value<std::string>()->value_name("off|audit|enforce"),
     "off: apply nothing; audit: apply only where the provider audits; enforce: apply [NETWORK_POLICY_MODE; default off]")
    ("require-enforcement", po::value<std::string>()->value_name("BOOL")->implicit_value("true"),
     "exit 4 when the provider does not enforce NetworkPolicy [NETWORK_POLICY_REQUIRE_ENFORCEMENT]")
    ("provider-file", po::value<std::string>()->value_name("FILE"),
     "provider.json of an earlier `netpol detect` instead of detecting again")
    ("force-conflicts", po::bool_switch(), "take over fields another manager owns")
    ("dry-run", po::bool_switch(), "server-side dry run: the server validates, nothing is stored");
  // clang-format on
}

struct Mode {
  enum { off, audit, enforce } value = off;
};

Result<Mode> parse_mode(const po::variables_map& args) {
  const std::string m = args.count("mode") ? args["mode"].as<std::string>() : "off";
  if (m == "off") return Mode{Mode::off};
  if (m == "audit") return Mode{Mode::audit};
  if (m == "enforce") return Mode{Mode::enforce};
  return fail(ErrorCode::usage,
              "--mode/NETWORK_POLICY_MODE '" + m + "': use off, audit or enforce");
}

Result<detect::Detection> provider(const po::variables_map& args, kube::KubeApi& api) {
  if (args.count("provider-file")) {
    const std::string path = args["provider-file"].as<std::string>();
    std::ifstream in(path);
    if (!in) return fail(ErrorCode::config, path + ": cannot read provider file");
    std::stringstream text;
    text << in.rdbuf();
    auto j = nlohmann::json::parse(text.str(), nullptr, false);
    auto d = j.is_discarded() ? std::nullopt : detect::Detection::from_json(j);
    if (!d) return fail(ErrorCode::config, path + ": not a provider.json written by netpol detect");
    return *d;
  }
  detect::Hints hints;
  hints.server = api.server();
  return detect::detect(api, hints);
}

// RBAC preflight: every verb the writes need, asked before the first write.
Result<void> preflight(kube::KubeApi& api, const policy::Plan& plan, bool prune) {
  std::set<std::tuple<std::string, std::string, std::string, std::string>> needed;
  for (const auto& item : plan.items) {
    const auto& o = item.action == Action::prune ? item.live : item.desired;
    auto info = api.resolve(o.value("apiVersion", ""), o.value("kind", ""));
    if (!info) return fail(info.error());
    if (!*info) continue;
    const std::string ns = (*info)->namespaced ? o["metadata"].value("namespace", "") : "";
    if (item.action == Action::create) {
      needed.insert({"create", (*info)->group, (*info)->resource, ns});
      needed.insert({"patch", (*info)->group, (*info)->resource, ns});
    } else if (item.action == Action::update) {
      needed.insert({"patch", (*info)->group, (*info)->resource, ns});
    } else if (item.action == Action::prune && prune) {
      needed.insert({"delete", (*info)->group, (*info)->resource, ns});
    }
  }
  std::vector<std::string> missing;
  for (const auto& [verb, group, resource, ns] : needed) {
    kube::AccessCheck check{verb, group, resource, ns, ""};
    auto allowed = api.can_i(check);
    if (!allowed) return fail(allowed.error());
    if (!*allowed) {
      missing.push_back(fmt::format("{} {}{}{}", verb, resource, group.empty() ? "" : "." + group,
                                    ns.empty() ? " (cluster-wide)" : " in namespace " + ns));
    }
  }
  if (!missing.empty()) {
    Error e(ErrorCode::api, fmt::format("apply: missing permissions, nothing was changed: {}",
                                        fmt::join(missing, ", ")));
    e.http_status = 403;
    e.reason = "Forbidden";
    e.details = missing;
    return tl::unexpected(e);
  }
  return {};
}

Result<int> run_apply(const po::variables_map& args, Context& ctx) {
  auto mode = parse_mode(args);
  if (!mode) return fail(mode.error());
  bool require_enforcement = false;
  if (args.count("require-enforcement")) {
    auto b = parse_bool(args["require-enforcement"].as<std::string>(), "--require-enforcement");
    if (!b) return fail(b.error());
    require_enforcement = *b;
  }
  auto api_result = ctx.kube();
  if (!api_result) return fail(api_result.error());
  kube::KubeApi& api = **api_result;

  report::JUnitReport junit("apply");
  auto write_junit = [&] { (void)ctx.output().write("junit-apply.xml", junit.to_xml()); };
  auto step = plan_step(args, ctx, api, junit);
  if (!step) {
    write_junit();
    return fail(step.error());
  }
  const policy::Plan& plan = step->plan;

  // Decide by mode and provider (SPEC §4).
  report::TestCase decision{
      "netpol.apply", "policies applied", report::CaseStatus::passed, "", "", 0};
  auto skip = [&](const std::string& why) -> Result<int> {
    ctx.reporter().warn(why);
    decision.status = report::CaseStatus::skipped;
    decision.message = why;
    junit.add(decision);
    write_junit();
    return 0;
  };
  if (mode->value == Mode::off)
    return skip("mode off: nothing applied (set --mode audit or enforce)");
  auto detection = provider(args, api);
  if (!detection) {
    write_junit();
    return fail(detection.error());
  }
  const auto& p = detection->provider;
  if (!p.enforces_network_policy) {
    const std::string why = fmt::format("the network provider ({}) does not enforce NetworkPolicy",
                                        detect::to_string(p.name));
    if (require_enforcement) {
      decision.status = report::CaseStatus::failed;
      decision.message = why;
      junit.add(decision);
      write_junit();
      return fail(ErrorCode::check_failed, why + " (--require-enforcement)");
    }
    return skip(why + ": nothing applied");
  }
  if (mode->value == Mode::audit && !p.audit_mode) {
    return skip(
        "mode audit but the provider enforces: nothing applied (run `netpol analyze` to see "
        "what the policies would block)");
  }
  if (mode->value == Mode::enforce && p.audit_mode) {
    ctx.reporter().warn("the provider is in audit mode: the policies are applied but nothing is "
                        "blocked yet");
  }

  const bool prune = prune_enabled(args);
  if (auto ok = preflight(api, plan, prune); !ok) {
    decision.status = report::CaseStatus::failed;
    decision.message = ok.error().message;
    junit.add(decision);
    write_junit();
    return fail(ok.error());
  }

  kube::ApplyOptions options;
  options.field_manager = policy::k_field_manager;
  options.force = args["force-conflicts"].as<bool>();
  options.dry_run = args["dry-run"].as<bool>();
  std::vector<nlohmann::json> to_send;
  std::vector<const policy::PlanItem*> sent_items;
  for (const auto& item : plan.items) {
    if (item.action == Action::create || item.action == Action::update) {
      to_send.push_back(item.desired);
      sent_items.push_back(&item);
    }
  }
  auto phase = ctx.reporter().phase(
      fmt::format("Applying {} objects{}", to_send.size(), options.dry_run ? " (dry run)" : ""));
  auto results =
      to_send.empty() ? std::vector<Result<nlohmann::json>>{} : api.apply_all(to_send, options);
  int failures = 0;
  std::optional<Error> first_error;
  for (size_t i = 0; i < results.size(); ++i) {
    report::TestCase c{
        "netpol.apply",
        fmt::format("{} {}", to_string(sent_items[i]->action), sent_items[i]->object),
        report::CaseStatus::passed,
        "",
        "",
        0};
    if (!results[i]) {
      ++failures;
      Error e = results[i].error();
      if (kube::is_conflict(e)) {
        e.message += " (a field is owned by another manager; --force-conflicts takes it over)";
      }
      c.status = report::CaseStatus::failed;
      c.message = e.message;
      ctx.reporter().warn(fmt::format("apply {}: {}", sent_items[i]->object, e.message));
      if (!first_error) first_error = e;
    }
    junit.add(c);
  }
  for (const auto& item : plan.items) {
    if (item.action == Action::unchanged) {
      junit.add(
          {"netpol.apply", "unchanged " + item.object, report::CaseStatus::passed, "", "", 0});
    }
  }
  if (failures > 0) {
    phase.failed(fmt::format("{} of {} failed", failures, results.size()));
  } else {
    phase.done();
  }

  int prune_failures = 0;
  if (prune && plan.count(Action::prune) > 0) {
    for (const auto& item : plan.items) {
      if (item.action != Action::prune) continue;
      report::TestCase c{
          "netpol.apply", "prune " + item.object, report::CaseStatus::passed, "", "", 0};
      if (failures > 0) {
        c.status = report::CaseStatus::skipped;
        c.message = "not pruned: an apply failed in this run";
        junit.add(c);
        continue;
      }
      auto info = api.resolve(item.live.value("apiVersion", ""), item.live.value("kind", ""));
      Result<void> removed =
          info ? (*info ? api.remove(**info, item.live["metadata"].value("namespace", ""),
                                     item.live["metadata"].value("name", ""),
                                     kube::DeleteOptions{"Background", options.dry_run})
                        : Result<void>{})
               : Result<void>(tl::unexpected(info.error()));
      if (!removed && !kube::is_not_found(removed.error())) {
        ++prune_failures;
        c.status = report::CaseStatus::failed;
        c.message = removed.error().message;
        if (!first_error) first_error = removed.error();
      }
      junit.add(c);
    }
  }
  write_junit();
  if (first_error) return fail(*first_error);
  ctx.out() << fmt::format("{} applied, {} unchanged, {} pruned{}\n", results.size(),
                           plan.count(Action::unchanged), prune ? plan.count(Action::prune) : 0,
                           options.dry_run ? " (dry run)" : "");
  return 0;
}

} // namespace

Command apply_command() {
  return Command{
      .name = "apply",
      .summary = "plan, then server-side apply and prune the policies (honours --mode)",
      .usage = "apply [--mode off|audit|enforce] [--policies PATH] [--default-policy PROFILE] "
               "[--dry-run] [--force-conflicts]",
      .help =
          "Runs `plan`, then by --mode: off applies nothing; audit applies only when the\n"
          "provider is in audit mode; enforce applies (warning when the provider only audits).\n"
          "Before the first write it checks the permissions it needs and lists the missing\n"
          "ones. Objects are applied with server-side apply (field manager netpol); unchanged\n"
          "ones are not sent. A field owned by another manager is a conflict unless\n"
          "--force-conflicts. Objects of this project and environment that are no longer\n"
          "declared are pruned, only if every apply succeeded. Writes junit-apply.xml.\n",
      .needs_cluster = true,
      .describe = describe_apply,
      .env =
          [] {
            auto env = policy_env();
            env.push_back({"mode", "NETWORK_POLICY_MODE"});
            env.push_back({"require-enforcement", "NETWORK_POLICY_REQUIRE_ENFORCEMENT"});
            return env;
          }(),
      .run = run_apply,
  };
}

} // namespace netpol::cli
