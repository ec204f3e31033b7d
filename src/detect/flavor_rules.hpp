// The flavour rules: which platform runs the cluster, from the server version, the
// kubeconfig's names, node labels and providerIDs, and the API groups served (docs/detect.md,
// "Flavour"). Signals that name a platform by themselves decide, a distribution before a
// cloud; kubeconfig names only hint.
#pragma once

#include "detect/detection.hpp"
#include "detect/evidence.hpp"

namespace netpol::detect {

// Sets detection.flavor and flavor_confidence from `evidence` (the server version is read
// from detection.kubernetes_version), adding the evidence line of every signal seen.
void decide_flavor(const Evidence& evidence, Detection& detection);

} // namespace netpol::detect
