#pragma once

#include <initializer_list>

#include "cli/command.hpp"
#include "detect/detection.hpp"

namespace netpol::cli {

// `netpol detect`: cluster flavour, network provider, enforcement and drop-log capability;
// writes provider.json, netpol.env and junit-detect.xml.
Command detect_command();

// The files detection writes (SPEC §5), on every way out; junit-detect.xml besides.
inline constexpr std::initializer_list<const char*> k_detect_reports = {"provider.json",
                                                                        "netpol.env"};

// The detection phase shared with `run`: detects, reports progress and warnings, and writes
// provider.json, netpol.env and junit-detect.xml (junit-detect.xml also when the cluster
// cannot be read). `require_enforcement` only decides whether a non-enforcing provider is a
// failed or a skipped JUnit case; callers decide the exit code.
Result<detect::Detection> detect_and_report(Context& ctx, bool require_enforcement);

} // namespace netpol::cli
