// Every default of the project's policies in one place (SPEC §4): where they are read from,
// the default profile and pruning. The command line shows these in --help and the CI
// templates pass their own, so a change here is a change of documented behaviour.
#pragma once

namespace netpol::policy::defaults {

// NETWORK_POLICY_PATH: the project's policy directory. This directory may be absent (a
// project without policies of its own); any other path must exist.
inline constexpr const char* k_policy_dir = ".gitlab/network-policies";
// NETWORK_POLICY_DEFAULT: no profile is added.
inline constexpr const char* k_profile = "none";
// NETWORK_POLICY_PRUNE: objects applied earlier and no longer declared are deleted.
inline constexpr bool k_prune = true;

} // namespace netpol::policy::defaults
