#include "detect/detect.hpp"

#include <fmt/format.h>

#include "detect/classify.hpp"
#include "detect/collect.hpp"

namespace netpol::detect {
namespace {

// Detection found no provider, and no DaemonSet list was readable: "none" would be a guess
// that reads like a finding (an authorization failure is never evidence, SPEC §3).
Error daemon_sets_unreadable(const Evidence& evidence) {
  const ReadOutcome* why = nullptr;
  for (const auto& r : evidence.reads) {
    if (r.what.starts_with("list daemonsets") && r.status != ReadStatus::ok) {
      why = &r;
      break;
    }
  }
  const bool forbidden = why != nullptr && why->status == ReadStatus::forbidden;
  Error e(ErrorCode::api,
          fmt::format("detect: cannot tell the network provider without listing DaemonSets ({}){}",
                      why != nullptr ? why->detail : "no list was readable",
                      forbidden ? "; grant `list daemonsets` cluster-wide or in kube-system "
                                  "(examples/rbac/detect.yaml grants every read detect makes; "
                                  "see docs/cluster-access.md#permissions)"
                                : ""));
  if (forbidden) {
    e.http_status = 403;
    e.reason = "Forbidden";
  }
  return e;
}

} // namespace

Result<Detection> detect(kube::KubeApi& api, const Hints& hints) {
  const uint64_t before = api.request_count();
  auto evidence = collect(api, hints);
  if (!evidence) return fail(evidence.error());
  Detection detection;
  try {
    detection = classify(*evidence);
  } catch (const nlohmann::json::exception& e) {
    // An object of a shape no Kubernetes server sends (a proxy in between, a broken
    // aggregated API): the server's error, not netpol's.
    return fail(
        ErrorCode::api,
        fmt::format("detect: the server sent an object of an unexpected shape ({})", e.what()));
  }
  // Other evidence (a provider's API group) may still name the provider.
  if (!evidence->daemon_sets && detection.provider.name == ProviderName::none) {
    return fail(daemon_sets_unreadable(*evidence));
  }
  detection.api_requests = api.request_count() - before;
  return detection;
}

} // namespace netpol::detect
