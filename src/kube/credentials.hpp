// Credentials that change over a process's life: exec credential plugins (run on demand,
// cached until their expirationTimestamp or a 401) and token files (re-read each minute,
// since projected service account tokens rotate). Static credentials pass straight through.
#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <string>

#include "kube/kubeconfig.hpp"
#include "kube/transport.hpp"
#include "util/error.hpp"

namespace netpol::kube {

// What one exec plugin run produced.
struct ExecCredential {
  std::string token;
  std::string client_certificate_pem;
  std::string client_key_pem;
  std::optional<std::chrono::system_clock::time_point> expires; // nullopt: until a 401
};

// Runs the plugin of `config.credentials.exec` once: KUBERNETES_EXEC_INFO carries the
// ExecCredential request (with spec.cluster when provideClusterInfo), stdin is closed.
// Failure (ErrorCode::config): command not found (with its installHint), a non-zero exit
// (with the plugin's stderr), output that is not an ExecCredential of the configured
// apiVersion, or a credential with neither token nor certificate, or no result within
// `timeout` (the plugin is then stopped). A cancellation is ErrorCode::cancelled.
Result<ExecCredential> run_exec_plugin(const ClientConfig& config,
                                       Duration timeout = std::chrono::minutes(2));

// Reads an exec plugin's stdout as the ExecCredential of `exec`'s apiVersion. Failure
// (ErrorCode::config, naming the plugin): not JSON, not an ExecCredential, another
// apiVersion, neither token nor certificate, a bad expirationTimestamp. Never throws.
Result<ExecCredential> parse_exec_credential(std::string_view stdout_text, const ExecConfig& exec);

// An ExecCredential's expirationTimestamp: an RFC 3339 time (util/time.hpp) in whole seconds,
// its year clamped to 1970..2200 so the clock cannot overflow.
std::optional<std::chrono::system_clock::time_point>
parse_expiration_timestamp(std::string_view text);

// Thread-safe source of WireAuth for the transport.
class CredentialSource {
public:
  // An exec plugin gets `exec_timeout` to print its credential (the request timeout: a
  // plugin that hangs must not hang the command).
  explicit CredentialSource(ClientConfig config, Duration exec_timeout = std::chrono::minutes(2))
      : m_config(std::move(config)), m_exec_timeout(exec_timeout) {}

  // The credentials for the next request (runs the exec plugin when needed).
  Result<WireAuth> current();
  // Forgets cached exec/file credentials after a 401; true when fetching again may help.
  bool invalidate();
  // Number of exec plugin runs so far.
  int exec_runs() const;

private:
  ClientConfig m_config;
  Duration m_exec_timeout;
  mutable std::mutex m_mutex;
  std::optional<ExecCredential> m_exec;
  int m_exec_runs = 0;
  std::string m_file_token;
  std::chrono::steady_clock::time_point m_file_read_at{};
};

} // namespace netpol::kube
