#include "util/log.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <mutex>
#include <regex>
#include <set>

#include <fmt/format.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/ostream_sink.h>

namespace netpol::log {
namespace {

// What a stream buffer holds at most before it passes text on (cut at a line end).
constexpr size_t k_stream_hold = 1u << 20;

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

char lower(char c) {
  return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
}

// Case-insensitive find of a lower-case `needle`.
size_t find_icase(std::string_view text, std::string_view needle, size_t from) {
  if (needle.empty() || text.size() < needle.size()) return std::string_view::npos;
  for (size_t i = from; i + needle.size() <= text.size(); ++i) {
    size_t k = 0;
    while (k < needle.size() && lower(text[i + k]) == needle[k])
      ++k;
    if (k == needle.size()) return i;
  }
  return std::string_view::npos;
}

bool is_base64_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '+' || c == '/' || c == '=';
}

std::string base64(std::string_view bytes) {
  static constexpr std::string_view k_alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (size_t i = 0; i < bytes.size(); i += 3) {
    uint32_t n = static_cast<unsigned char>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) n |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    if (i + 2 < bytes.size()) n |= static_cast<unsigned char>(bytes[i + 2]);
    out += k_alphabet[(n >> 18) & 63];
    out += k_alphabet[(n >> 12) & 63];
    out += i + 1 < bytes.size() ? k_alphabet[(n >> 6) & 63] : '=';
    out += i + 2 < bytes.size() ? k_alphabet[n & 63] : '=';
  }
  return out;
}

void replace_secrets(std::string& out) {
  std::lock_guard lock(g_secrets_mutex);
  for (const auto& secret : secrets()) {
    for (auto pos = out.find(secret); pos != std::string::npos;
         pos = out.find(secret, pos + k_redacted.size())) {
      out.replace(pos, secret.size(), k_redacted);
    }
  }
}

// "-----BEGIN X-----...-----END X-----" -> "[REDACTED X]"; a block cut off before its END
// line (a truncated message) is redacted to the end of its base64 body.
void replace_pem(std::string& out) {
  if (out.find("-----BEGIN") == std::string::npos) return;
  static const std::regex pem("-----BEGIN ([A-Z0-9 ]+)-----[^-]*(-----END [A-Z0-9 ]+-----)?");
  out = std::regex_replace(out, pem, "[REDACTED $1]");
}

// Base64 of "-----BEGIN" starts with "LS0tLS1CRUdJT" (values files carry keys so, and so do
// the kubeconfig's *-data fields). The run, and base64 lines that continue it (wrapped
// output), become "[REDACTED]".
void replace_base64_pem(std::string& out) {
  static constexpr std::string_view k_marker = "LS0tLS1CRUdJT";
  for (size_t pos = out.find(k_marker); pos != std::string::npos;
       pos = out.find(k_marker, pos + k_redacted.size())) {
    size_t end = pos;
    while (true) {
      while (end < out.size() && is_base64_char(out[end]))
        ++end;
      // A wrapped encoding: the next line is base64 alone (after its indentation).
      size_t next = end;
      if (next < out.size() && out[next] == '\r') ++next;
      if (next >= out.size() || out[next] != '\n') break;
      ++next;
      while (next < out.size() && (out[next] == ' ' || out[next] == '\t'))
        ++next;
      size_t line_end = next;
      while (line_end < out.size() && is_base64_char(out[line_end]))
        ++line_end;
      const bool base64_line =
          line_end - next >= 16 && (line_end == out.size() || out[line_end] == '\n' ||
                                    out[line_end] == '\r' || out[line_end] == '"');
      if (!base64_line) break;
      end = line_end;
    }
    out.replace(pos, end - pos, k_redacted);
  }
}

// "Bearer <x>", "Basic <x>" (Authorization headers, curl traces).
void replace_auth_schemes(std::string& out) {
  if (find_icase(out, "bearer", 0) == std::string::npos &&
      find_icase(out, "basic", 0) == std::string::npos) {
    return;
  }
  static const std::regex auth_header("((Bearer|Basic)\\s+)[A-Za-z0-9._~+/=-]+", std::regex::icase);
  out = std::regex_replace(out, auth_header, "$1[REDACTED]");
}

// "Cookie: ..." and "Set-Cookie: ..." header values (auth proxies set session cookies), to
// the end of the line.
void replace_cookies(std::string& out) {
  for (size_t pos = find_icase(out, "cookie:", 0); pos != std::string::npos;
       pos = find_icase(out, "cookie:", pos + 1)) {
    size_t start = pos + 7;
    while (start < out.size() && out[start] == ' ')
      ++start;
    size_t end = start;
    while (end < out.size() && out[end] != '\n' && out[end] != '\r')
      ++end;
    if (end > start && std::string_view(out).substr(start, end - start) != k_redacted)
      out.replace(start, end - start, k_redacted);
  }
}

// "scheme://user:password@host" -> "scheme://user:[REDACTED]@host".
void replace_url_passwords(std::string& out) {
  for (size_t pos = out.find("://"); pos != std::string::npos; pos = out.find("://", pos + 3)) {
    const size_t start = pos + 3;
    size_t colon = std::string::npos;
    size_t at = std::string::npos;
    for (size_t i = start; i < out.size(); ++i) {
      const char c = out[i];
      if (c == '@') at = i; // the last '@' before the path ends the user info
      if (c == '/' || c == '?' || c == '#' || c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
          c == '"' || c == '\'' || c == '<' || c == '>' || c == '`') {
        break;
      }
    }
    if (at == std::string::npos) continue;
    colon = out.find(':', start);
    if (colon == std::string::npos || colon > at) continue;
    if (std::string_view(out).substr(colon + 1, at - colon - 1) == k_redacted) continue;
    out.replace(colon + 1, at - colon - 1, k_redacted);
  }
}

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
  // Key material also travels base64-encoded (client-key-data, values files); a short
  // token's encoding is left out: it is the token's own business where it is encoded.
  if (secret.size() >= 32) secrets().emplace(base64(secret));
}

bool is_secret_variable_name(std::string_view name) {
  std::string upper;
  for (char c : name)
    upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  auto ends_with = [&](std::string_view suffix) {
    return upper.size() >= suffix.size() &&
           upper.compare(upper.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  // Switches and locations, not secrets (GitLab's SECRET_DETECTION_DISABLED, SSL_CERT_FILE).
  for (std::string_view suffix : {"_DISABLED", "_ENABLED", "_FILE", "_PATH", "_DIR", "_URL"}) {
    if (ends_with(suffix)) return false;
  }
  for (std::string_view word : {"TOKEN", "PASSWORD", "PASSWD", "SECRET", "JWT", "PRIVATE_KEY",
                                "API_KEY", "ACCESS_KEY", "CREDENTIAL", "AUTH"}) {
    if (upper.find(word) != std::string::npos) return true;
  }
  return false;
}

void register_secret_variables(const Environment& env) {
  for (const auto& name : env.names()) {
    if (!is_secret_variable_name(name)) continue;
    auto value = env.get(name);
    if (!value || value->size() < 8) continue;
    if (*value == "false" || *value == "true") continue;
    if (std::all_of(value->begin(), value->end(),
                    [](unsigned char c) { return std::isdigit(c) != 0; })) {
      continue;
    }
    register_secret(*value);
  }
}

std::string redact(std::string_view text) {
  std::string out(text);
  replace_secrets(out);
  replace_pem(out);
  replace_base64_pem(out);
  replace_auth_schemes(out);
  if (find_icase(out, "cookie:", 0) != std::string::npos) replace_cookies(out);
  if (out.find("://") != std::string::npos) replace_url_passwords(out);
  return out;
}

std::string redact_url(std::string_view url) {
  std::string out(url);
  replace_url_passwords(out);
  return out;
}

std::string printable(std::string_view text, bool keep_newlines) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      if (c == 0x7f || (c < 0x20 && !(keep_newlines && (c == '\n' || c == '\t')))) {
        switch (c) {
        case '\n': out += "\\n"; break;
        case '\t': out += "\\t"; break;
        case '\r': out += "\\r"; break;
        default: out += fmt::format("\\x{:02x}", c);
        }
      } else {
        out += static_cast<char>(c);
      }
      ++i;
      continue;
    }
    // A UTF-8 sequence: its length from the lead byte, then continuation bytes.
    size_t length = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;
    if (c >= 0xf5) length = 0;
    uint32_t cp = length == 2 ? c & 0x1f : length == 3 ? c & 0x0f : c & 0x07;
    bool valid = length != 0 && i + length <= text.size();
    for (size_t k = 1; valid && k < length; ++k) {
      const auto cc = static_cast<unsigned char>(text[i + k]);
      valid = (cc & 0xc0) == 0x80;
      cp = (cp << 6) | (cc & 0x3f);
    }
    // Overlong forms, surrogates and code points past U+10FFFF are not UTF-8.
    if (valid && ((length == 3 && cp < 0x800) || (length == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
                  (cp >= 0xd800 && cp <= 0xdfff))) {
      valid = false;
    }
    if (!valid) {
      out += fmt::format("\\x{:02x}", c);
      ++i;
      continue;
    }
    // C1 controls (U+0080..U+009F: CSI, OSC, ...) and the bidirectional overrides that
    // reorder what a terminal shows (U+202A..U+202E, U+2066..U+2069); the line and
    // paragraph separators U+2028/U+2029, which YAML 1.1 readers and editors take as line
    // breaks (a comment would end there). U+FFFE and U+FFFF are not characters (XML refuses
    // them).
    if ((cp >= 0x80 && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029 ||
        (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0xfffe ||
        cp == 0xffff) {
      out += fmt::format("\\u{:04x}", cp);
    } else {
      out.append(text.substr(i, length));
    }
    i += length;
  }
  return out;
}

RedactingStreambuf::~RedactingStreambuf() {
  std::lock_guard lock(m_mutex);
  pass_on(true);
  m_out.flush();
}

RedactingStreambuf::int_type RedactingStreambuf::overflow(int_type ch) {
  if (traits_type::eq_int_type(ch, traits_type::eof())) return traits_type::not_eof(ch);
  std::lock_guard lock(m_mutex);
  m_pending += traits_type::to_char_type(ch);
  if (m_pending.size() >= k_stream_hold) pass_on(false);
  return ch;
}

std::streamsize RedactingStreambuf::xsputn(const char* s, std::streamsize n) {
  std::lock_guard lock(m_mutex);
  m_pending.append(s, static_cast<size_t>(n));
  if (m_pending.size() >= k_stream_hold) pass_on(false);
  return n;
}

int RedactingStreambuf::sync() {
  std::lock_guard lock(m_mutex);
  pass_on(false);
  m_out.flush();
  return m_out ? 0 : -1;
}

void RedactingStreambuf::pass_on(bool force) {
  if (m_pending.empty()) return;
  size_t cut = m_pending.size();
  if (!force) {
    // Hold a PEM block that has not ended yet, so it is redacted whole; a flood without
    // an end is passed on at the hold limit (and then redacted as an unterminated block).
    const size_t begin = m_pending.rfind("-----BEGIN");
    if (begin != std::string::npos && m_pending.find("-----END", begin) == std::string::npos &&
        m_pending.size() < k_stream_hold) {
      cut = begin;
    }
    // At the hold limit, pass on whole lines only.
    if (m_pending.size() >= k_stream_hold) {
      const size_t nl = m_pending.rfind('\n');
      if (nl != std::string::npos) cut = std::min(cut, nl + 1);
    }
  }
  if (cut == 0) return;
  m_out << redact(std::string_view(m_pending).substr(0, cut));
  m_pending.erase(0, cut);
}

} // namespace netpol::log
