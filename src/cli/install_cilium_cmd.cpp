#include "cli/install_cilium_cmd.hpp"

#include "cilium/install.hpp"
#include "cli/cilium_options.hpp"

namespace netpol::cli {
namespace {

Result<int> run_install_cilium(const po::variables_map& args, Context& ctx) {
  ctx.reports().owe(cilium::k_install_metrics_reports);
  auto options = read_install_cilium_options(args);
  if (!options) return fail(options.error());
  return cilium::install_with_metrics(*options, cilium_site(ctx), ctx.session());
}

void describe(po::options_description& options, po::positional_options_description&) {
  describe_cilium_options(options);
  // clang-format off
  options.add_options()
    ("force", po::bool_switch(), "install even where netpol refuses (another enforcing provider, "
     "GKE Dataplane V2, OpenShift, ...)")
    ("dry-run", po::bool_switch(), "print the values and the helm command; change nothing");
  // clang-format on
}

} // namespace

Command install_cilium_command() {
  return Command{
      .name = "install-cilium",
      .summary = "install or upgrade Cilium with Helm, wait for it, verify it",
      .usage = "install-cilium [--chart REF] [--cilium-version V] [--values FILE] "
               "[--no-audit-mode] [--dry-run] [options]",
      .help =
          "Detects the cluster flavour and network provider, decides the Helm values for that\n"
          "platform (policy audit mode on by default, Hubble exporting dropped and audited\n"
          "flows to the agents' stdout, Hubble Relay on), runs `helm upgrade --install cilium`,\n"
          "(an upgrade keeps the release's values and datapath and changes only the Hubble\n"
          "export and, when asked, the audit mode; the change is shown as a values diff),\n"
          "waits like `cilium status --wait`, checks cilium-config, and lists the pods Cilium\n"
          "does not manage yet. Refuses where Cilium cannot or must not go (GKE Dataplane V2,\n"
          "another enforcing provider, AKS without BYOCNI, ...) unless --force.\n"
          "Writes cilium-values.yaml, cilium-values.diff (upgrades), metrics.txt and\n"
          "junit-install-cilium.xml to the output directory, also when it fails or is\n"
          "cancelled (SIGTERM stops helm and says where the release was left).\n\n"
          "Examples:\n"
          "  netpol install-cilium --dry-run\n"
          "  netpol install-cilium --chart oci://quay.io/cilium/charts/cilium "
          "--cilium-version 1.20.0\n"
          "  CILIUM_AUDIT_MODE=false netpol install-cilium --restart-unmanaged",
      .needs_cluster = true,
      .describe = describe,
      .env = cilium_env(),
      .run = run_install_cilium,
  };
}

} // namespace netpol::cli
