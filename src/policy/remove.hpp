// `remove`'s policy part, the kill switch: delete every object netpol applied for this
// project and environment, and nothing else.
#pragma once

#include "kube/api.hpp"
#include "policy/profiles.hpp"
#include "report/junit.hpp"
#include "report/session.hpp"
#include "util/error.hpp"

namespace netpol::policy {

// Deletes every NetworkPolicy, CiliumNetworkPolicy and CiliumClusterwideNetworkPolicy
// labelled for `render`'s project and environment (in render.namespace_name for the
// namespaced kinds); Cilium kinds the server does not serve are skipped, and a Cilium kind the
// token may not list is a warning. The delete permission of every kind found is checked before
// the first delete (missing ones: api/403 listing them; nothing is deleted). Each delete is a
// case in `junit` and a "deleted Kind/ns/name" line on session.out; an object already gone
// counts as deleted. Returns how many were deleted (or would be, with `dry_run`); the first
// failed delete after trying all.
Result<int> remove_policies(const RenderOptions& render, bool dry_run, kube::KubeApi& api,
                            const report::Session& session, report::JUnitReport& junit);

} // namespace netpol::policy
