#include "util/error.hpp"

#include "util/cancel.hpp"

namespace netpol {

const char* to_string(ErrorCode code) {
  switch (code) {
  case ErrorCode::usage: return "usage";
  case ErrorCode::config: return "config";
  case ErrorCode::invalid_policy: return "invalid_policy";
  case ErrorCode::unreachable: return "unreachable";
  case ErrorCode::api: return "api";
  case ErrorCode::timeout: return "timeout";
  case ErrorCode::io: return "io";
  case ErrorCode::check_failed: return "check_failed";
  case ErrorCode::internal: return "internal";
  case ErrorCode::cancelled: return "cancelled";
  }
  return "internal";
}

int exit_code(ErrorCode code) {
  switch (code) {
  case ErrorCode::usage:
  case ErrorCode::config: return 2;
  case ErrorCode::invalid_policy: return 3;
  case ErrorCode::check_failed: return 4;
  case ErrorCode::unreachable:
  case ErrorCode::api:
  case ErrorCode::timeout:
  case ErrorCode::io:
  case ErrorCode::internal: return 1;
  case ErrorCode::cancelled: {
    const int signal = cancel::signal_number();
    return 128 + (signal != 0 ? signal : 2);
  }
  }
  return 1;
}

Error& Error::wrap(const std::string& context) {
  message = context + ": " + message;
  return *this;
}

std::string format_error(const Error& error) {
  std::string out = "netpol: error: " + error.message + "\n";
  for (const auto& line : error.details) {
    out += "  " + line + "\n";
  }
  return out;
}

} // namespace netpol
