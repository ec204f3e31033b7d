// Diagnostics (spdlog) for --log-level, and the one redaction pass every channel goes through.
// Results go to stdout and progress to the Reporter; spdlog is for debugging only. Every
// message, every stdout and stderr byte of a command (cli::run wraps both streams in a
// RedactingStreambuf) and every report file (report::AtomicFile) passes through redact(), so
// a token, key, password or certificate never reaches an output at any level, whoever prints
// it.
#pragma once

#include <memory>
#include <mutex>
#include <ostream>
#include <streambuf>
#include <string>
#include <string_view>

#include <spdlog/spdlog.h>

#include "util/env.hpp"
#include "util/error.hpp"

namespace netpol::log {

// What a secret is replaced by, in every output.
inline constexpr std::string_view k_redacted = "[REDACTED]";

// Parses error|warn|info|debug|trace (also "warning", "off").
Result<spdlog::level::level_enum> parse_level(std::string_view text);

// Sends the default logger to `sink` (stderr in the binary, a string stream in tests)
// at `level`. Safe to call again; the last call wins.
void configure(std::ostream& sink, spdlog::level::level_enum level);

// Remembers a secret value (token, password, key material) so redact() replaces it with
// "[REDACTED]" wherever it appears. Values shorter than 4 characters are ignored. Key
// material is also remembered base64-encoded (how kubeconfigs and values files carry it).
void register_secret(std::string_view secret);

// Does the variable's name say it holds a secret (CI_JOB_TOKEN, CI_REGISTRY_PASSWORD,
// AWS_SECRET_ACCESS_KEY, ...)? GitLab masks such variables in the job log, but not in
// artifacts, so their values are registered as secrets.
bool is_secret_variable_name(std::string_view name);
// Registers the value of every variable of `env` whose name is_secret_variable_name (values
// that are booleans, numbers or shorter than 8 characters are skipped: redacting "true"
// everywhere would garble every report).
void register_secret_variables(const Environment& env);

// Applies redaction to one string: registered secrets, "Bearer <x>" / "Basic <x>"
// credentials, Cookie and Set-Cookie header values, PEM blocks (also unterminated ones),
// base64-encoded PEM blocks (values files, kubeconfig *-data fields), and the password of
// a URL's user info ("https://user:[REDACTED]@host/").
std::string redact(std::string_view text);

// The password of a URL's user info replaced ("https://user:[REDACTED]@host/"); other text
// unchanged. (Part of redact(); also for URLs that are printed where the password is not a
// registered secret.)
std::string redact_url(std::string_view url);

// Text for a terminal or a text report: control characters (C0, DEL, C1 such as the CSI and
// OSC introducers), the line and paragraph separators, bidirectional overrides,
// U+FFFE/U+FFFF and invalid UTF-8 are shown
// escaped ("\x1b", "\u009b", "\xff") so a hostile name
// cannot move the cursor, retitle the window or hide text. '\t' and '\n' stay when
// `keep_newlines`, else they are escaped too (one field, one line).
std::string printable(std::string_view text, bool keep_newlines = false);

// A stream buffer that redacts what is written through it before it reaches `out`. Text is
// held until a flush (std::flush, std::endl) or until 1 MiB has gathered, then redacted and
// passed on whole, so a secret is never split between two redaction passes; an unterminated
// PEM block is held until its end line. Thread-safe. Destruction passes on what is left.
class RedactingStreambuf final : public std::streambuf {
public:
  explicit RedactingStreambuf(std::ostream& out) : m_out(out) {}
  RedactingStreambuf(const RedactingStreambuf&) = delete;
  RedactingStreambuf& operator=(const RedactingStreambuf&) = delete;
  ~RedactingStreambuf() override;

protected:
  int_type overflow(int_type ch) override;
  std::streamsize xsputn(const char* s, std::streamsize n) override;
  int sync() override;

private:
  void pass_on(bool force);

  std::ostream& m_out;
  std::mutex m_mutex;
  std::string m_pending;
};

} // namespace netpol::log
