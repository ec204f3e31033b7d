// What a plan changes in who may connect to whom: the connectivity analysis `plan` and
// `apply` run over the cluster when the plan changes anything (SPEC §11).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "analyze/output.hpp"
#include "kube/api.hpp"
#include "model/evidence.hpp"
#include "report/junit.hpp"
#include "report/session.hpp"
#include "util/error.hpp"

namespace netpol::analyze {

struct ConnectivityChange {
  size_t newly_denied = 0;  // ordered pod pairs, summed over the ports analysed
  size_t newly_allowed = 0; // likewise
  size_t ports = 0;
  size_t pods = 0;
  bool verified = false; // flow evidence was given
  std::string evidence;  // its window in words (describe_window); "" without
  // Connections seen in the evidence that the change newly denies, most flows first.
  std::vector<DeniedConnection> will_break;
};

// `desired` applied over the policies in force, without the `removed` ones ("Kind/ns/name",
// pruned), against the pods running now. Lists namespaces, pods and policies (cluster-wide
// reads), diffs every port of interest, writes connectivity.txt and connectivity.json (the
// diff) to session.output and adds analyze's cases to `junit` (a port with newly denied pairs
// fails its case, so reviewers see it in the MR); progress goes to session.reporter, nothing
// to session.out. With `evidence` (may be null), the newly denied connections seen in traffic
// come first in every view, each a failing case of its own (SPEC §11). Fails as the reads do;
// callers treat that as "cannot tell", not as a failed plan.
Result<ConnectivityChange>
analyze_change(kube::KubeApi& api, const std::vector<nlohmann::json>& desired,
               const std::vector<std::string>& removed, const model::FlowEvidence* evidence,
               const report::Session& session, report::JUnitReport& junit);

} // namespace netpol::analyze
