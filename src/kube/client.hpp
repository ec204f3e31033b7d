// The real KubeApi: JSON over HTTPS to one API server (kube/transport), configured from a
// kubeconfig or the in-cluster service account (kube/kubeconfig).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "kube/api.hpp"
#include "kube/kubeconfig.hpp"
#include "kube/transport.hpp"
#include "util/duration.hpp"
#include "util/env.hpp"

namespace netpol::kube {

struct ConnectOptions {
  // --request-timeout: one ordinary request; for log streams, the longest wait for a byte.
  // nullopt: no limit beyond connect's 10 s.
  std::optional<Duration> request_timeout = k_default_request_timeout;
  const Environment* env = nullptr; // SSL_CERT_FILE / SSL_CERT_DIR
  std::optional<RetryPolicy> retry; // tests shorten the backoff
};

// A client for `config`. Sends no request: connection and credential failures (an exec
// plugin that fails, an untrusted certificate) show on the first call.
Result<std::unique_ptr<KubeApi>> connect(const ClientConfig& config,
                                         const ConnectOptions& options = {});

// A client over any transport (tests).
std::unique_ptr<KubeApi> make_client(std::string server, std::unique_ptr<HttpTransport> transport);

// The Error for a non-2xx answer: ErrorCode::api, http_status, reason and message from the
// Status body ("<what>: <message>"), its causes as details ("<field>: <message>"). A body that
// is not a Status still yields a message (the generic text for the code, plus the start of
// the body).
Error api_error(int http_status, std::string_view body, const std::string& what);

} // namespace netpol::kube
