// `netpol drops`: collects dropped and audited flows into the drop log (SPEC §8).
#pragma once

#include <string>

#include "cli/command.hpp"
#include "droplog/summary.hpp"

namespace netpol::cli {

Command drops_command();

// --from-file, --since, -A/--all-namespaces, --fail-on-drops (shared with `run`).
void describe_drops_options(po::options_description& options);

using droplog::k_drop_reports;

// --from-file, --since (else CI_PIPELINE_CREATED_AT, else an hour ago for the cluster),
// -A/-n, --fail-on-drops and --cilium-namespace as droplog::collect_drops takes them. Without
// -A, -n or a file, the namespace is the kubeconfig context's: read now, or with `later` left
// out (namespaces empty) for the caller to fill in when it first uses the cluster.
Result<droplog::DropsOptions> read_drops_options(const po::variables_map& args, Context& ctx,
                                                 NamespaceWhen when = NamespaceWhen::now);

} // namespace netpol::cli
