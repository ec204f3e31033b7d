// The Cilium options `install-cilium` and `run` share, read into cilium::InstallOptions, and
// the cilium::Site the Cilium workflows (install, `remove --cilium`) run against.
#pragma once

#include <vector>

#include "cilium/install.hpp"
#include "cilium/site.hpp"
#include "cli/command.hpp"

namespace netpol::cli {

// --chart, --cilium-version, --values, --[no-]audit-mode, --helm, --timeout, --eks-mode,
// --native-routing-cidr, --cilium-namespace, --restart-unmanaged, --export-forwarded,
// --test-cluster
// (install-cilium adds --force and --dry-run).
void describe_cilium_options(po::options_description& options);
// Their variables (CILIUM_CHART, CILIUM_VERSION, ...).
std::vector<EnvBinding> cilium_env();
// Reads them (and --force/--dry-run when declared); a bad value is ErrorCode::usage.
Result<cilium::InstallOptions> read_install_cilium_options(const po::variables_map& args);

// Where the Cilium workflows find the cluster and helm: this context's client, kubeconfig,
// context, PATH and NETPOL_CILIUM_CHART. Valid as long as `ctx`.
cilium::Site cilium_site(Context& ctx);

} // namespace netpol::cli
