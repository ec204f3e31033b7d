#include "cli/cilium_options.hpp"

#include <optional>
#include <string>

namespace netpol::cli {
namespace {

std::optional<std::string> string_arg(const po::variables_map& args, const char* name) {
  if (args.count(name) == 0) return std::nullopt;
  auto value = args[name].as<std::string>();
  if (value.empty()) return std::nullopt;
  return value;
}

} // namespace

Result<cilium::InstallOptions> read_install_cilium_options(const po::variables_map& args) {
  cilium::InstallOptions o;
  o.chart = string_arg(args, "chart");
  o.version = string_arg(args, "cilium-version");
  o.values_file = string_arg(args, "values");
  o.helm = string_arg(args, "helm");
  if (args.count("no-audit-mode") && args["no-audit-mode"].as<bool>()) {
    o.audit_mode = false;
  } else if (auto text = string_arg(args, "audit-mode")) {
    auto value = parse_bool(*text, "--audit-mode (CILIUM_AUDIT_MODE)");
    if (!value) return fail(value.error());
    o.audit_mode = *value;
  }
  if (auto text = string_arg(args, "timeout")) {
    auto timeout = parse_duration(*text, "--timeout");
    if (!timeout) return fail(timeout.error());
    o.timeout = *timeout;
  }
  o.force = args.count("force") && args["force"].as<bool>();
  o.dry_run = args.count("dry-run") && args["dry-run"].as<bool>();
  if (auto text = string_arg(args, "restart-unmanaged")) {
    auto value = parse_bool(*text, "--restart-unmanaged (CILIUM_RESTART_UNMANAGED)");
    if (!value) return fail(value.error());
    o.restart_unmanaged = *value;
  }
  if (auto text = string_arg(args, "export-forwarded")) {
    auto value = parse_bool(*text, "--export-forwarded (CILIUM_EXPORT_FORWARDED)");
    if (!value) return fail(value.error());
    o.export_forwarded = *value;
  }
  if (auto mode = string_arg(args, "eks-mode")) {
    if (*mode == "eni") {
      o.eks_mode = cilium::EksMode::eni;
    } else if (*mode != "chaining") {
      return fail(ErrorCode::usage, "invalid --eks-mode '" + *mode + "': use chaining or eni");
    }
  }
  if (auto text = string_arg(args, "test-cluster")) {
    auto value = parse_bool(*text, "--test-cluster (NETPOL_TEST_CLUSTER)");
    if (!value) return fail(value.error());
    o.test_cluster = *value;
  }
  o.native_routing_cidr = string_arg(args, "native-routing-cidr");
  if (auto ns = string_arg(args, "cilium-namespace")) {
    o.namespace_name = *ns;
    o.namespace_given = true;
  }
  return o;
}

std::vector<EnvBinding> cilium_env() {
  return {{"chart", "CILIUM_CHART"},
          {"cilium-version", "CILIUM_VERSION"},
          {"values", "CILIUM_VALUES_FILE"},
          {"audit-mode", "CILIUM_AUDIT_MODE"},
          {"helm", "NETPOL_HELM"},
          {"eks-mode", "CILIUM_EKS_MODE"},
          {"native-routing-cidr", "CILIUM_NATIVE_ROUTING_CIDR"},
          {"cilium-namespace", "CILIUM_NAMESPACE"},
          {"restart-unmanaged", "CILIUM_RESTART_UNMANAGED"},
          {"export-forwarded", "CILIUM_EXPORT_FORWARDED"},
          {"test-cluster", "NETPOL_TEST_CLUSTER"}};
}

void describe_cilium_options(po::options_description& options) {
  // clang-format off
  options.add_options()
    ("chart", po::value<std::string>()->value_name("REF"),
     "chart: a directory or .tgz, repo/chart, or oci://quay.io/cilium/charts/cilium "
     "(default: the chart bundled in the image)")
    ("cilium-version", po::value<std::string>()->value_name("VERSION"),
     "chart version for a repository or OCI chart, e.g. 1.19.5")
    ("values", po::value<std::string>()->value_name("FILE"),
     "extra Helm values, merged over netpol's")
    ("audit-mode", po::value<std::string>()->value_name("BOOL")->implicit_value("true"),
     "policyAuditMode: log what policies would drop instead of dropping it (default: true; "
     "an upgrade keeps the running mode)")
    ("no-audit-mode", po::bool_switch(), "enforce policies (policyAuditMode false)")
    ("helm", po::value<std::string>()->value_name("PATH"), "helm binary (default: helm on PATH)")
    ("timeout", po::value<std::string>()->value_name("DURATION"),
     "how long to wait for Cilium to be ready (default 5m)")
    ("eks-mode", po::value<std::string>()->value_name("chaining|eni"),
     "EKS: chain on the AWS VPC CNI (default) or run Cilium's ENI mode")
    ("native-routing-cidr", po::value<std::string>()->value_name("CIDR"),
     "the cluster's pod CIDR (GKE needs it)")
    ("cilium-namespace", po::value<std::string>()->value_name("NS"),
     "namespace of the release (default kube-system)")
    ("restart-unmanaged", po::value<std::string>()->value_name("BOOL")->implicit_value("true"),
     "delete running pods Cilium does not manage yet, so their controllers recreate them")
    ("export-forwarded", po::value<std::string>()->value_name("BOOL")->implicit_value("true"),
     "also export FORWARDED flows, as evidence of allowed traffic for the change preview "
     "(default: false; Cilium 1.19+ aggregates them every 10s per pod pair and port, 1.18 "
     "writes one agent log line per flow)")
    ("test-cluster", po::value<std::string>()->value_name("BOOL")->implicit_value("true"),
     "the cluster is a test cluster: allow a test build of the chart (version X.Y.Z-test)");
  // clang-format on
}

cilium::Site cilium_site(Context& ctx) {
  return {.cluster = [&ctx] { return ctx.kube(); },
          .kubeconfig_paths = ctx.global().kubeconfig_paths,
          .context = ctx.global().context,
          .search_path = ctx.getenv("PATH").value_or(""),
          .bundled_chart = ctx.getenv("NETPOL_CILIUM_CHART")};
}

} // namespace netpol::cli
