#include "util/log.hpp"

#include <algorithm>
#include <mutex>
#include <regex>
#include <set>

#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/ostream_sink.h>

namespace netpol::log {
namespace {

std::mutex g_secrets_mutex;
std::set<std::string, std::greater<>>& secrets() {
  // Longest first, so a secret that contains another is replaced whole.
  static std::set<std::string, std::greater<>> values;
  return values;
}

class RedactingSink final : public spdlog::sinks::base_sink<std::mutex> {
public:
  explicit RedactingSink(std::ostream& out) : m_out(out) {}

protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t formatted;
    formatter_->format(msg, formatted);
    m_out << redact(std::string_view(formatted.data(), formatted.size()));
  }
  void flush_() override { m_out.flush(); }

private:
  std::ostream& m_out;
};

} // namespace

Result<spdlog::level::level_enum> parse_level(std::string_view text) {
  if (text == "error") return spdlog::level::err;
  if (text == "warn" || text == "warning") return spdlog::level::warn;
  if (text == "info") return spdlog::level::info;
  if (text == "debug") return spdlog::level::debug;
  if (text == "trace") return spdlog::level::trace;
  if (text == "off") return spdlog::level::off;
  return fail(ErrorCode::usage, "invalid log level '" + std::string(text) +
                                    "': use one of error, warn, info, debug, trace");
}

void configure(std::ostream& sink, spdlog::level::level_enum level) {
  auto logger = std::make_shared<spdlog::logger>("netpol", std::make_shared<RedactingSink>(sink));
  logger->set_pattern("netpol: %l: %v");
  logger->set_level(level);
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(std::move(logger));
}

void register_secret(std::string_view secret) {
  if (secret.size() < 4) {
    return;
  }
  std::lock_guard lock(g_secrets_mutex);
  secrets().emplace(secret);
}

std::string redact(std::string_view text) {
  std::string out(text);
  {
    std::lock_guard lock(g_secrets_mutex);
    for (const auto& secret : secrets()) {
      for (auto pos = out.find(secret); pos != std::string::npos;
           pos = out.find(secret, pos + 10)) {
        out.replace(pos, secret.size(), "[REDACTED]");
      }
    }
  }
  static const std::regex pem("-----BEGIN ([A-Z ]+)-----[^-]*-----END [A-Z ]+-----");
  static const std::regex auth_header("((Bearer|Basic)\\s+)[A-Za-z0-9._~+/=-]+", std::regex::icase);
  if (out.find("-----BEGIN") != std::string::npos) {
    out = std::regex_replace(out, pem, "[REDACTED $1]");
  }
  if (out.find("earer") != std::string::npos || out.find("asic") != std::string::npos) {
    out = std::regex_replace(out, auth_header, "$1[REDACTED]");
  }
  return out;
}

} // namespace netpol::log
