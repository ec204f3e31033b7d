// One error vocabulary for the whole library. Functions that can fail return
// netpol::Result<T>; parser exceptions are caught where they are thrown and converted.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <tl/expected.hpp>

namespace netpol {

// Closed set of failure kinds. Each maps to exactly one process exit code (SPEC §3).
enum class ErrorCode {
  usage,          // bad flag or argument                          -> exit 2
  config,         // bad kubeconfig, bad variable, bad values file  -> exit 2
  invalid_policy, // policy input failed to parse or validate       -> exit 3
  unreachable,    // cluster could not be contacted (DNS, TLS, refused) -> exit 1
  api,            // the API server answered with an error status   -> exit 1
  timeout,        // a wait or request ran out of time              -> exit 1
  io,             // local file or process failure                  -> exit 1
  check_failed,   // a requested check failed (--require-enforcement ...) -> exit 4
  internal,       // a bug in netpol                                -> exit 1
  cancelled,      // SIGTERM or SIGINT stopped the command (util/cancel) -> exit 128 + signal
};

const char* to_string(ErrorCode code);
// The exit code of a failure of this kind; for `cancelled`, 128 + the signal that cancelled
// (130 when none did).
int exit_code(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::internal;
  // One line, without the "netpol: error: " prefix:
  // "<what> <kind>/<ns>/<name>: <detail>" or "<file>:<line>: <detail>".
  std::string message;
  // HTTP status for API errors, 0 otherwise.
  int http_status = 0;
  // Machine-readable reason from a Kubernetes Status (e.g. "Conflict"), if any.
  std::string reason;
  // Extra lines (validation causes, the list of missing permissions); printed indented.
  std::vector<std::string> details;

  Error() = default;
  Error(ErrorCode c, std::string msg) : code(c), message(std::move(msg)) {}

  // Prefixes the message with context, keeping code and details: "loading x: <old>".
  Error& wrap(const std::string& context);
};

template <class T> using Result = tl::expected<T, Error>;

inline tl::unexpected<Error> fail(ErrorCode code, std::string message) {
  return tl::unexpected<Error>(Error(code, std::move(message)));
}
inline tl::unexpected<Error> fail(Error error) {
  return tl::unexpected<Error>(std::move(error));
}

// "netpol: error: <message>" plus indented detail lines, each ending in '\n'.
std::string format_error(const Error& error);

} // namespace netpol
