// --flows FILE... (NETPOL_FLOWS) and --fail-on-breaking (NETWORK_POLICY_FAIL_ON_BREAKING):
// the traffic a change preview is checked against (SPEC §11), for analyze, plan, apply and
// run.
#pragma once

#include <memory>
#include <vector>

#include "cli/command.hpp"
#include "cli/context.hpp"
#include "model/evidence.hpp"

namespace netpol::cli {

struct EvidenceOptions {
  std::shared_ptr<const model::FlowEvidence> evidence; // null without --flows
  bool fail_on_breaking = false;
};

void describe_evidence_options(po::options_description& options);
std::vector<EnvBinding> evidence_env();

// Reads every --flows file now, before any step (a bad file is ErrorCode::usage naming it),
// and says what it read on ctx's reporter. --fail-on-breaking without --flows is a usage
// error: there would be nothing to compare with.
Result<EvidenceOptions> read_evidence_options(const po::variables_map& args, Context& ctx);

} // namespace netpol::cli
