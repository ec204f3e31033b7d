// The thin mapping from what `detect` concludes to what the install decision needs.
#pragma once

#include "cilium/values.hpp"
#include "detect/detection.hpp"

namespace netpol::cilium {

// Flavour and providers by their provider.json names, and the running Cilium's audit mode.
// cilium_release and chart_version are not known to detection: the caller sets them.
Platform platform_from(const detect::Detection& detection);

} // namespace netpol::cilium
