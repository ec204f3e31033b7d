// libFuzzer target: any bytes through the policy loader, validation and lint must give
// objects or errors, never a crash, an exception or a hang.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "policy/cilium_schema.hpp"
#include "policy/inventory.hpp"
#include "policy/lint.hpp"
#include "policy/loader.hpp"
#include "policy/validate.hpp"

// The Cilium CRD schemas are parsed on first use: seconds under ASan and coverage, which
// libFuzzer would otherwise charge to the first input's -timeout on a busy machine.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const auto object = nlohmann::json::parse(R"({"apiVersion":"cilium.io/v2","spec":{}})");
  (void)netpol::policy::cilium_schema_errors(object, false);
  (void)netpol::policy::cilium_schema_errors(object, true);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace netpol;
  static const MapEnvironment env{{"CI_ENVIRONMENT_SLUG", "review"}, {"KUBE_NAMESPACE", "shop"}};
  static const policy::TemplateVariables vars(env, {"NETPOL_FUZZ_LISTED"});
  policy::LoadOptions options;
  options.vars = &vars;
  options.collect_other_kinds = true;
  options.fetch = [](const std::string&) -> Result<std::string> {
    return fail(ErrorCode::io, "no network in the fuzzer");
  };
  auto loaded = policy::load_policy_text(
      std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.yaml", options);
  for (const auto& object : loaded.policies) {
    auto result = policy::validate(object);
    for (const auto& e : result.errors)
      (void)policy::format_field_error(object, e);
  }
  policy::LintOptions lint_options;
  lint_options.inventory = policy::make_inventory(loaded.others, "default");
  lint_options.pod_cidrs.push_back(
      *model::Cidr::parse("10.244.0.0/16", model::IpSyntax::api_server));
  (void)policy::lint(loaded.policies, lint_options);
  return 0;
}
