// Pure classification: Evidence in, Detection out. No I/O, so every rule is tested from
// fixture files. The rules follow what each platform and provider really deploys
// (docs/detect.md lists them): the flavour rules (flavor_rules.hpp) and the provider rules
// (provider_rules.hpp); each conclusion adds the evidence line it rests on.
#pragma once

#include "detect/detection.hpp"
#include "detect/evidence.hpp"

namespace netpol::detect {

// Never fails: missing evidence lowers confidence and is named in Detection::evidence.
Detection classify(const Evidence& evidence);

} // namespace netpol::detect
