// Detection as `detect` and `run` report it: a progress phase and warnings, the JUnit cases
// of junit-detect.xml, and provider.json and netpol.env in the output directory.
#pragma once

#include <functional>
#include <initializer_list>
#include <optional>
#include <string>

#include "detect/detection.hpp"
#include "detect/evidence.hpp"
#include "kube/api.hpp"
#include "report/session.hpp"
#include "util/error.hpp"

namespace netpol::detect {

// The files detect_and_report() owes (SPEC §5), on every way out; junit-detect.xml besides.
inline constexpr std::initializer_list<const char*> k_detect_reports = {"provider.json",
                                                                        "netpol.env"};

struct DetectOptions {
  // --require-enforcement: a provider that does not enforce NetworkPolicy is a failed JUnit
  // case, not a skipped one. The exit code is the caller's.
  bool require_enforcement = false;
  // The evidence line for a provider found whose version netpol does not support (a Cilium
  // older than the supported lines: cilium::older_than_supported), or nullopt. The first such
  // line ends the evidence and is warned about. Empty: no provider is judged.
  std::function<std::optional<std::string>(const Provider&)> unsupported_version;
};

// Connects to `cluster`, detects (hints.server is the client's), warns (forbidden reads, low
// confidence, an unsupported version, agents not ready), and writes provider.json, netpol.env
// and the JUnit cases. When the cluster cannot be read, only junit-detect.xml is written, its
// case "cluster reachable" carrying the error, and the error is returned as detect() gives it;
// a report that cannot be written is its io error.
Result<Detection> detect_and_report(const kube::Connect& cluster, Hints hints,
                                    const DetectOptions& options, report::Session session);

} // namespace netpol::detect
