#include "kube/credentials.hpp"

#include <algorithm>
#include <cstdlib>
#include <ctime>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "util/duration.hpp"
#include "util/file.hpp"
#include "util/json.hpp"
#include "util/log.hpp"
#include "util/process.hpp"
#include "util/strings.hpp"
#include "util/time.hpp"

namespace netpol::kube {
namespace {

constexpr auto k_token_file_refresh = std::chrono::minutes(1);
constexpr size_t k_max_stderr_in_message = 2000;
// An ExecCredential is a few KiB (a token, or a certificate and key); a plugin that prints
// more is broken and must not fill netpol's memory.
constexpr size_t k_max_plugin_output = 1024 * 1024;
// A token file holds one token.
constexpr size_t k_max_token_file = 4 * 1024 * 1024;
// A plugin that hangs (waiting for a login prompt nobody sees in CI) must not hang the job.

std::string one_line(std::string s) {
  s = std::string(trim(s));
  if (s.size() > k_max_stderr_in_message) s = s.substr(0, k_max_stderr_in_message) + "...";
  for (auto& c : s) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return s;
}

nlohmann::json exec_info(const ClientConfig& config) {
  const auto& e = *config.credentials.exec;
  nlohmann::json spec = {{"interactive", false}};
  if (e.provide_cluster_info) {
    nlohmann::json cluster = {{"server", config.server}};
    if (!config.tls_server_name.empty()) cluster["tls-server-name"] = config.tls_server_name;
    if (config.insecure_skip_tls_verify) cluster["insecure-skip-tls-verify"] = true;
    if (!config.ca_pem.empty()) {
      cluster["certificate-authority-data"] = encode_base64(config.ca_pem);
    }
    if (!config.proxy_url.empty()) cluster["proxy-url"] = config.proxy_url;
    if (!e.cluster_config.is_null()) cluster["config"] = e.cluster_config;
    spec["cluster"] = std::move(cluster);
  }
  return {{"kind", "ExecCredential"}, {"apiVersion", e.api_version}, {"spec", std::move(spec)}};
}

Error plugin_error(const ExecConfig& e, const std::string& problem) {
  return Error(ErrorCode::config,
               fmt::format("{}: exec plugin '{}': {}", e.where, e.command, problem));
}

} // namespace

std::optional<std::chrono::system_clock::time_point>
parse_expiration_timestamp(std::string_view text) {
  auto fields = parse_rfc3339_fields(text);
  if (!fields) return std::nullopt;
  // system_clock counts nanoseconds in 64 bits (1678 to 2262): "never expires" stays far
  // away, and a time before 1970 (found by the fuzzer: year 1013 overflowed) is long past.
  // Whole seconds: an expiry needs no finer grain.
  fields->year = std::clamp(fields->year, 1970, 2200);
  return std::chrono::system_clock::from_time_t(static_cast<std::time_t>(unix_seconds(*fields)));
}

Result<ExecCredential> parse_exec_credential(std::string_view stdout_text, const ExecConfig& e) {
  // A string field, or "" when absent or of another type (the output is untrusted: value()
  // would throw on a number where a string belongs).
  auto text = [](const nlohmann::json& object, const char* key) {
    auto it = object.find(key);
    return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  // Strict: of two "token" keys, which one would the server see?
  auto parsed = parse_json_strict(stdout_text, "stdout", ErrorCode::config);
  if (!parsed) {
    const auto& message = parsed.error().message;
    if (message.find("duplicate key") != std::string::npos) {
      return fail(plugin_error(e, "printed an ExecCredential with a " +
                                      message.substr(message.find("duplicate key"))));
    }
    return fail(plugin_error(e, "printed something that is not JSON (expected an "
                                "ExecCredential on stdout)"));
  }
  const nlohmann::json cred = std::move(*parsed);
  if (!cred.is_object() || text(cred, "kind") != "ExecCredential") {
    return fail(plugin_error(e, "output is not an ExecCredential"));
  }
  if (text(cred, "apiVersion") != e.api_version) {
    return fail(plugin_error(
        e, fmt::format("configured for {}, but the plugin returned {}", e.api_version,
                       (text(cred, "apiVersion").empty() ? std::string("no apiVersion")
                                                         : text(cred, "apiVersion")))));
  }
  const auto status = cred.contains("status") ? cred["status"] : nlohmann::json::object();
  if (!status.is_object()) return fail(plugin_error(e, "status is not an object"));
  ExecCredential result;
  auto field = [&](const char* key) {
    return status.contains(key) && status[key].is_string() ? status[key].get<std::string>()
                                                           : std::string();
  };
  result.token = field("token");
  result.client_certificate_pem = field("clientCertificateData");
  result.client_key_pem = field("clientKeyData");
  log::register_secret(result.token);
  log::register_secret(result.client_key_pem);
  if (result.client_certificate_pem.empty() != result.client_key_pem.empty()) {
    return fail(plugin_error(e, "status needs both clientCertificateData and clientKeyData"));
  }
  if (result.token.empty() && result.client_certificate_pem.empty()) {
    return fail(plugin_error(e, "status has neither a token nor a client certificate"));
  }
  if (auto ts = field("expirationTimestamp"); !ts.empty()) {
    result.expires = parse_expiration_timestamp(ts);
    if (!result.expires) {
      return fail(plugin_error(e, "status.expirationTimestamp '" + ts + "' is not RFC 3339"));
    }
  }
  return result;
}

Result<ExecCredential> run_exec_plugin(const ClientConfig& config, Duration timeout) {
  const auto& e = *config.credentials.exec;
  if (e.interactive_mode == "Always") {
    return fail(plugin_error(e, "interactiveMode is Always but netpol never runs "
                                "interactively; use Never or IfAvailable"));
  }
  const char* path = std::getenv("PATH");
  const auto exe =
      find_executable(e.command, path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin");
  if (!exe) {
    return fail(
        plugin_error(e, fmt::format("command not found{}{}", e.install_hint.empty() ? "" : ": ",
                                    one_line(e.install_hint))));
  }
  try {
    ProcessOptions options;
    for (const auto& [name, value] : e.env)
      options.env[name] = value;
    options.env["KUBERNETES_EXEC_INFO"] = exec_info(config).dump();
    options.timeout = timeout;
    options.max_output_bytes = k_max_plugin_output;
    std::vector<std::string> argv = {*exe};
    argv.insert(argv.end(), e.args.begin(), e.args.end());
    auto run = run_process(argv, options);
    if (!run && run.error().code == ErrorCode::cancelled) return fail(run.error());
    if (!run) return fail(plugin_error(e, "cannot start: " + run.error().message));
    if (run->timed_out) {
      return fail(plugin_error(e, fmt::format("did not finish within {} (--request-timeout)",
                                              format_duration(timeout))));
    }
    if (run->output_limit_hit) {
      return fail(plugin_error(
          e, fmt::format("printed more than {} and was stopped: an ExecCredential is a few KiB; "
                         "check the plugin and its arguments",
                         format_size(k_max_plugin_output))));
    }
    const int code = run->exit_code;
    const std::string& stdout_text = run->out;
    const std::string& stderr_text = run->err;
    if (code != 0) {
      return fail(
          plugin_error(e, fmt::format("exited with status {}{}{}", code,
                                      stderr_text.empty() ? "" : ": ", one_line(stderr_text))));
    }
    return parse_exec_credential(stdout_text, e);
  } catch (const std::exception& ex) {
    return fail(plugin_error(e, std::string("cannot run: ") + ex.what()));
  }
}

Result<WireAuth> CredentialSource::current() {
  std::lock_guard lock(m_mutex);
  const auto& c = m_config.credentials;
  WireAuth auth;
  auth.bearer_token = c.token;
  auth.username = c.username;
  auth.password = c.password;
  auth.client_certificate_pem = c.client_certificate_pem;
  auth.client_key_pem = c.client_key_pem;
  if (!c.token_file.empty()) {
    const auto now = std::chrono::steady_clock::now();
    if (m_file_token.empty() || now - m_file_read_at > k_token_file_refresh) {
      // Bounded and never blocking: the file may have been replaced by anything since load.
      auto text = read_input_file(c.token_file, ErrorCode::config, k_max_token_file);
      auto token = text ? std::string(trim(*text)) : std::string();
      if (!token.empty()) {
        m_file_token = token;
        log::register_secret(m_file_token);
      } else if (m_file_token.empty()) {
        m_file_token = c.token; // read at load time
      }
      m_file_read_at = now;
    }
    auth.bearer_token = m_file_token;
  }
  if (c.exec) {
    const bool expired =
        m_exec && m_exec->expires && std::chrono::system_clock::now() >= *m_exec->expires;
    if (!m_exec || expired) {
      ++m_exec_runs;
      spdlog::debug("running exec credential plugin {}", c.exec->command);
      auto cred = run_exec_plugin(m_config, m_exec_timeout);
      if (!cred) return fail(cred.error());
      m_exec = std::move(*cred);
    }
    if (!m_exec->token.empty()) auth.bearer_token = m_exec->token;
    if (!m_exec->client_certificate_pem.empty()) {
      auth.client_certificate_pem = m_exec->client_certificate_pem;
      auth.client_key_pem = m_exec->client_key_pem;
    }
  }
  return auth;
}

bool CredentialSource::invalidate() {
  std::lock_guard lock(m_mutex);
  bool may_help = false;
  if (m_config.credentials.exec) {
    m_exec.reset();
    may_help = true;
  }
  if (!m_config.credentials.token_file.empty()) {
    const auto old = m_file_token;
    m_file_token.clear();
    auto text =
        read_input_file(m_config.credentials.token_file, ErrorCode::config, k_max_token_file);
    const auto fresh = text ? std::string(trim(*text)) : std::string();
    may_help = may_help || (!fresh.empty() && fresh != old);
  }
  return may_help;
}

int CredentialSource::exec_runs() const {
  std::lock_guard lock(m_mutex);
  return m_exec_runs;
}

} // namespace netpol::kube
