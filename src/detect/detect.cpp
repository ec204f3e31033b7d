#include "detect/detect.hpp"

#include "detect/classify.hpp"
#include "detect/collect.hpp"

namespace netpol::detect {

Result<Detection> detect(kube::KubeApi& api, const Hints& hints) {
  const uint64_t before = api.request_count();
  auto evidence = collect(api, hints);
  if (!evidence) return fail(evidence.error());
  Detection detection = classify(*evidence);
  detection.api_requests = api.request_count() - before;
  return detection;
}

} // namespace netpol::detect
