// The detection entry point shared by `detect`, `run`, `install-cilium` and `apply`.
#pragma once

#include "detect/detection.hpp"
#include "detect/evidence.hpp"
#include "kube/api.hpp"
#include "util/error.hpp"

namespace netpol::detect {

// Collects evidence (collect.hpp) and classifies it (classify.hpp). Detection::api_requests
// counts the requests sent. Fails only as collect() does: unreachable cluster, timeout, or
// rejected credentials; missing rights lower the confidence instead.
Result<Detection> detect(kube::KubeApi& api, const Hints& hints);

} // namespace netpol::detect
