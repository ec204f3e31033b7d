#pragma once

#include <cstddef>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/command.hpp"
#include "kube/api.hpp"
#include "report/junit.hpp"

namespace netpol::cli {

// `netpol analyze`: the connectivity matrix (which pod may reach which pod:port) under
// planned policies, and its diff against base policies (SPEC §11).
Command analyze_command();

struct WouldBlock {
  size_t newly_denied = 0; // ordered pod pairs (summed over the ports analysed)
  size_t ports = 0;
  size_t pods = 0;
};

// What applying `desired` over the policies in force would newly deny: lists namespaces, pods
// and policies (cluster-wide reads), diffs every port of interest, writes connectivity.txt
// and connectivity.json (with the diff) and adds analyze's cases to `junit` (a port with
// newly denied pairs fails its case). Used where policies are not applied because they would
// block (SPEC §4, mode audit). Fails as the reads do; the caller decides whether that matters.
Result<WouldBlock> analyze_would_block(kube::KubeApi& api,
                                       const std::vector<nlohmann::json>& desired, Context& ctx,
                                       report::JUnitReport& junit);

} // namespace netpol::cli
