// `remove --cilium`: the Cilium Helm release uninstalled, as one step of a removal.
#pragma once

#include <optional>
#include <string>

#include "cilium/defaults.hpp"
#include "cilium/site.hpp"
#include "report/junit.hpp"
#include "report/session.hpp"
#include "util/error.hpp"

namespace netpol::cilium {

struct UninstallOptions {
  std::string namespace_name = defaults::k_namespace; // --cilium-namespace / CILIUM_NAMESPACE
  std::optional<std::string> helm;                    // --helm / NETPOL_HELM
  bool dry_run = false;                               // --dry-run: say what would go
};

// `helm uninstall` of release defaults::k_release in options.namespace_name, with a progress
// phase, a line on session.out and one JUnit case ("uninstall Cilium release NS/cilium") added
// to `junit` under `classname` (the removal's report). Returns true when a release was
// removed, false when there was none or on a dry run; helm missing is ErrorCode::config, a
// failing helm ErrorCode::io.
Result<bool> uninstall_release(const UninstallOptions& options, const Site& site,
                               report::Session session, report::JUnitReport& junit,
                               const std::string& classname);

} // namespace netpol::cilium
