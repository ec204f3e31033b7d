#include "policy/loader.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <filesystem>
#include <memory>
#include <optional>
#include <regex>
#include <thread>

#include <curl/curl.h>
#include <fmt/format.h>
#include <openssl/evp.h>

#include "util/file.hpp"
#include "util/log.hpp"
#include "util/parallel.hpp"

namespace netpol::policy {
namespace fs = std::filesystem;

namespace {

constexpr size_t k_max_download_bytes = 8 * 1024 * 1024;
constexpr long k_download_timeout_seconds = 60;
constexpr int k_max_redirects = 5;

const char* const k_accepted =
    "accepted: networking.k8s.io/v1 NetworkPolicy, cilium.io/v2 CiliumNetworkPolicy, "
    "cilium.io/v2 CiliumClusterwideNetworkPolicy (or a List of them)";

bool is_policy_file(const fs::path& path) {
  const auto ext = path.extension().string();
  return ext == ".yaml" || ext == ".yml" || ext == ".json";
}

bool is_hidden(const fs::path& path) {
  const auto name = path.filename().string();
  return name.size() > 1 && name[0] == '.' && name != "..";
}

std::string file_type_name(fs::file_type type) {
  switch (type) {
  case fs::file_type::fifo: return "a FIFO";
  case fs::file_type::character: return "a character device";
  case fs::file_type::block: return "a block device";
  case fs::file_type::socket: return "a socket";
  case fs::file_type::not_found: return "a dangling symbolic link";
  default: return "not a regular file";
  }
}

// Is `target` (already canonical) inside `dir`, symlinks resolved?
bool inside(const fs::path& dir, const fs::path& target) {
  std::error_code ec;
  const auto root = fs::weakly_canonical(fs::absolute(dir, ec), ec);
  if (ec) return false;
  const auto rel = target.lexically_relative(root);
  return !rel.empty() && *rel.begin() != ".." && rel != ".";
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

} // namespace

std::string url_scheme(std::string_view url) {
  // RFC 3986: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":"; case-insensitive.
  const size_t colon = url.find(':');
  if (colon == std::string_view::npos || colon == 0 ||
      std::isalpha(static_cast<unsigned char>(url[0])) == 0) {
    return {};
  }
  std::string scheme;
  for (char c : url.substr(0, colon)) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) == 0 && c != '+' && c != '-' && c != '.') return {};
    scheme += static_cast<char>(std::tolower(u));
  }
  return scheme;
}

Result<std::string> file_url_path(std::string_view url) {
  auto refuse = [](const std::string& why) { return fail(ErrorCode::invalid_policy, why); };
  if (url_scheme(url) != "file") return refuse("not a file:// URL");
  std::string_view rest = url.substr(url.find(':') + 1);
  if (rest.substr(0, 2) != "//") return refuse("write a file URL as file:///absolute/path");
  rest.remove_prefix(2);
  const size_t slash = rest.find('/');
  std::string host(rest.substr(0, slash));
  std::transform(host.begin(), host.end(), host.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (!host.empty() && host != "localhost") {
    return refuse("names the host '" + host + "': a file:// import is a local file (file:///path)");
  }
  if (slash == std::string_view::npos) return refuse("has no path");
  const std::string_view encoded = rest.substr(slash);
  if (encoded.find_first_of("?#") != std::string_view::npos) {
    return refuse("has a query or fragment (? or #), which a local file cannot have");
  }
  std::string path;
  for (size_t i = 0; i < encoded.size(); ++i) {
    if (encoded[i] != '%') {
      path += encoded[i];
      continue;
    }
    const int hi = i + 2 < encoded.size() ? hex_digit(encoded[i + 1]) : -1;
    const int lo = hi >= 0 ? hex_digit(encoded[i + 2]) : -1;
    if (lo < 0) return refuse("has a '%' that is not followed by two hex digits");
    const char c = static_cast<char>(hi * 16 + lo);
    // An encoded separator or NUL means something else to every reader of the path.
    if (c == '/' || c == '\\') return refuse("has an encoded path separator (%2F or %5C)");
    if (c == '\0') return refuse("has an encoded NUL byte (%00)");
    path += c;
    i += 2;
  }
  return path;
}

namespace {

std::string json_string(const nlohmann::json& v, const char* key) {
  if (!v.is_object()) return {};
  auto it = v.find(key);
  return it != v.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// Expands templates in every string (keys and values), recording errors with the node's line.
nlohmann::json expand_all(const nlohmann::json& v, const std::string& pointer,
                          const YamlDocument& doc, const TemplateVariables* vars,
                          std::vector<Error>& errors) {
  auto expand = [&](const std::string& s, const std::string& at) -> std::string {
    if (s.find('$') == std::string::npos) return s;
    auto r = expand_template(s, vars, doc.where(at));
    if (!r) {
      errors.push_back(r.error());
      return s;
    }
    return *r;
  };
  if (v.is_string()) return expand(v.get<std::string>(), pointer);
  if (v.is_array()) {
    auto out = nlohmann::json::array();
    for (size_t i = 0; i < v.size(); ++i)
      out.push_back(expand_all(v[i], pointer + "/" + std::to_string(i), doc, vars, errors));
    return out;
  }
  if (v.is_object()) {
    auto out = nlohmann::json::object();
    for (const auto& [key, value] : v.items()) {
      std::string token = key;
      // JSON pointer escaping, as util/yaml records lines.
      std::string escaped;
      for (char c : token)
        escaped += c == '~' ? "~0" : c == '/' ? "~1" : std::string(1, c);
      const std::string at = pointer + "/" + escaped;
      out[expand(key, at)] = expand_all(value, at, doc, vars, errors);
    }
    return out;
  }
  return v;
}

// Parses the files on a few threads (YAML parsing is most of loading a large policy
// directory); results are in the order of `files`, so what follows stays deterministic.
std::vector<Result<std::vector<YamlDocument>>> parse_all(const std::vector<fs::path>& files) {
  std::vector<Result<std::vector<YamlDocument>>> parsed(files.size());
  const size_t threads =
      std::min<size_t>({files.size() / 16, std::thread::hardware_concurrency(), 4});
  parallel_for(files.size(), threads,
               [&](size_t i) { parsed[i] = load_yaml_file(files[i].string()); });
  return parsed;
}

struct Loader {
  const LoadOptions& options;
  LoadResult result;

  Result<std::string> fetch(const std::string& url) const {
    if (options.fetch) return options.fetch(url);
    if (options.env != nullptr) return fetch_url(url, fetch_settings(*options.env));
    return fetch_url(url, fetch_settings(ProcessEnvironment()));
  }

  void add_object(const nlohmann::json& raw, const std::shared_ptr<const YamlDocument>& doc,
                  const std::string& base, const std::string& origin) {
    if (!raw.is_object()) {
      result.errors.emplace_back(ErrorCode::invalid_policy,
                                 doc->where(base) + ": expected an object; " + k_accepted);
      return;
    }
    const std::string api_version = json_string(raw, "apiVersion");
    const std::string kind = json_string(raw, "kind");
    if (kind == "List" && base.empty()) {
      auto items = raw.find("items");
      if (items == raw.end() || !items->is_array()) {
        if (items != raw.end() && !items->is_null()) {
          result.errors.emplace_back(ErrorCode::invalid_policy,
                                     doc->where("/items") + ": List items must be a sequence");
        }
        return;
      }
      for (size_t i = 0; i < items->size(); ++i)
        add_object((*items)[i], doc, "/items/" + std::to_string(i), origin);
      return;
    }
    PolicyKind policy_kind;
    if (api_version == "networking.k8s.io/v1" && kind == "NetworkPolicy") {
      policy_kind = PolicyKind::network_policy;
    } else if (api_version == "cilium.io/v2" && kind == "CiliumNetworkPolicy") {
      policy_kind = PolicyKind::cilium_network_policy;
    } else if (api_version == "cilium.io/v2" && kind == "CiliumClusterwideNetworkPolicy") {
      policy_kind = PolicyKind::cilium_clusterwide_network_policy;
    } else {
      if (options.collect_other_kinds && !kind.empty()) {
        result.others.push_back({raw, doc->where(base)});
        return;
      }
      const std::string what =
          kind.empty() && api_version.empty()
              ? std::string("object without apiVersion and kind")
              : fmt::format("unsupported object {} {}",
                            api_version.empty() ? "<no apiVersion>" : api_version,
                            kind.empty() ? "<no kind>" : kind);
      result.errors.emplace_back(ErrorCode::invalid_policy,
                                 fmt::format("{}: {}; {}", doc->where(base), what, k_accepted));
      return;
    }
    PolicyObject object;
    object.kind = policy_kind;
    object.document = doc;
    object.base_pointer = base;
    object.origin = origin;
    const size_t errors_before = result.errors.size();
    object.value = expand_all(raw, base, *doc, options.vars, result.errors);
    if (result.errors.size() != errors_before) return;
    result.policies.push_back(std::move(object));
  }

  void add_text(std::string_view text, const std::string& source, const std::string& origin) {
    auto docs = parse_yaml_documents(text, source);
    if (!docs) {
      result.errors.push_back(docs.error());
      return;
    }
    for (auto& d : *docs) {
      if (d.value.is_null()) continue; // empty document ("---" at the end)
      auto doc = std::make_shared<const YamlDocument>(std::move(d));
      add_object(doc->value, doc, "", origin);
    }
  }

  void add_file(const fs::path& path) { add_parsed(path.string(), load_yaml_file(path.string())); }

  void add_parsed(const std::string& name, Result<std::vector<YamlDocument>> docs) {
    result.files.push_back(name);
    if (!docs) {
      result.errors.push_back(docs.error());
      return;
    }
    for (auto& d : *docs) {
      if (d.value.is_null()) continue;
      auto doc = std::make_shared<const YamlDocument>(std::move(d));
      add_object(doc->value, doc, "", name);
    }
  }

  void add_imports(const fs::path& index_path) {
    const std::string name = index_path.string();
    result.files.push_back(name);
    auto docs = load_yaml_file(name);
    if (!docs) {
      result.errors.push_back(docs.error());
      return;
    }
    for (const auto& doc : *docs) {
      if (doc.value.is_null()) continue;
      const auto* list =
          doc.value.is_object() && doc.value.contains("imports") ? &doc.value["imports"] : nullptr;
      if (!list || !list->is_array()) {
        result.errors.emplace_back(ErrorCode::invalid_policy,
                                   doc.where() + ": expected `imports:` with a list of url+sha256");
        continue;
      }
      for (size_t i = 0; i < list->size(); ++i) {
        const std::string at = "/imports/" + std::to_string(i);
        const std::string url = json_string((*list)[i], "url");
        std::string digest = json_string((*list)[i], "sha256");
        std::transform(digest.begin(), digest.end(), digest.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        static const std::regex hex64("[0-9a-f]{64}");
        if (url.empty() || !std::regex_match(digest, hex64)) {
          result.errors.emplace_back(
              ErrorCode::invalid_policy,
              doc.where(at) + ": an import needs `url` and `sha256` (64 hex digits, quoted)");
          continue;
        }
        const std::string scheme = url_scheme(url);
        // What messages and origins show: the URL without the password of its user info.
        const std::string shown = log::redact_url(url);
        Result<std::string> body;
        if (scheme == "file") {
          body = read_local_import(index_path.parent_path(), url, doc.where(at));
          if (!body) {
            result.errors.push_back(body.error());
            continue;
          }
        } else if (scheme == "https" || scheme == "http") {
          body = fetch(url);
          if (!body) {
            Error e = body.error();
            e.message = doc.where(at) + ": import " + shown + ": " + e.message;
            result.errors.push_back(std::move(e));
            continue;
          }
        } else {
          result.errors.emplace_back(
              ErrorCode::invalid_policy,
              fmt::format("{}: import {}: not an https://, http:// or file:// URL", doc.where(at),
                          url));
          continue;
        }
        const std::string actual = sha256_hex(*body);
        if (actual != digest) {
          result.errors.emplace_back(
              ErrorCode::invalid_policy,
              fmt::format("{}: import {}: sha256 mismatch: expected {}, got {}",
                          doc.where(at + "/sha256"), shown, digest, actual));
          continue;
        }
        result.files.push_back(shown);
        add_text(*body, shown, shown);
      }
    }
  }

  // A file:// import, read by netpol itself (never by libcurl, whose reading of the URL could
  // differ from what is checked here): the URL parsed once, its path percent-decoded and
  // made canonical (symbolic links resolved), checked to be inside the policy directory, and
  // then that canonical path read. A policy may name any URL; a CI job does not read /etc on
  // its say.
  static Result<std::string> read_local_import(const fs::path& policy_dir, const std::string& url,
                                               const std::string& where) {
    auto path = file_url_path(url);
    if (!path) {
      return fail(ErrorCode::invalid_policy,
                  fmt::format("{}: import {}: {}", where, url, path.error().message));
    }
    // ".." is applied to the path as written first: weakly_canonical resolves symbolic links
    // only up to the first missing component and normalises the rest lexically, so
    // "missing/../link" would otherwise keep a link it never looked at.
    std::error_code ec;
    const fs::path canonical = fs::weakly_canonical(fs::path(*path).lexically_normal(), ec);
    if (ec || !fs::path(*path).is_absolute() || !inside(policy_dir, canonical)) {
      return fail(ErrorCode::invalid_policy,
                  fmt::format("{}: import {}: file:// imports must be inside the policy "
                              "directory {} (copy the file there, or import it by https:// URL)",
                              where, url, policy_dir.string()));
    }
    auto text = read_input_file(canonical.string(), ErrorCode::io, k_max_download_bytes);
    if (!text) {
      return fail(ErrorCode::io,
                  fmt::format("{}: import {}: {}", where, url, text.error().message));
    }
    return text;
  }

  void add_path(const std::string& path) {
    std::error_code ec;
    const fs::path p(path);
    if (fs::is_directory(p, ec)) {
      std::vector<fs::path> files;
      // Symlinked directories are not followed (no loop can be walked); every entry's type is
      // read without throwing, so a symlink loop, a FIFO or a device named *.yaml is an error
      // naming it, never an exception or a read that blocks.
      for (auto it = fs::recursive_directory_iterator(p, ec);
           !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        std::error_code type_ec;
        if (is_hidden(it->path())) {
          if (it->is_directory(type_ec)) it.disable_recursion_pending();
          continue;
        }
        if (!is_policy_file(it->path())) continue;
        const auto status = it->status(type_ec);
        if (type_ec) {
          result.errors.emplace_back(
              ErrorCode::io,
              it->path().string() +
                  (type_ec == std::errc::too_many_symbolic_link_levels
                       ? std::string(": symbolic link loop (the link points back at itself)")
                       : ": cannot read file: " + type_ec.message()));
          continue;
        }
        if (status.type() == fs::file_type::directory) continue;
        if (status.type() != fs::file_type::regular) {
          result.errors.emplace_back(ErrorCode::io, it->path().string() + ": not a regular file (" +
                                                        file_type_name(status.type()) +
                                                        "): remove it from " + path);
          continue;
        }
        files.push_back(it->path());
      }
      if (ec) {
        result.errors.emplace_back(ErrorCode::io,
                                   path + ": cannot read directory: " + ec.message());
        return;
      }
      std::sort(files.begin(), files.end());
      const fs::path index = p / k_imports_file;
      files.erase(std::remove(files.begin(), files.end(), index), files.end());
      auto parsed = parse_all(files);
      for (size_t i = 0; i < files.size(); ++i)
        add_parsed(files[i].string(), std::move(parsed[i]));
      if (fs::is_regular_file(index, ec)) add_imports(index);
      return;
    }
    // A symlink loop "does not exist" to exists(); the reader names the loop instead.
    if (!fs::exists(p, ec) && ec != std::errc::too_many_symbolic_link_levels) {
      result.errors.emplace_back(ErrorCode::io, path + ": no such file or directory");
      return;
    }
    add_file(p);
  }
};

size_t collect_body(char* data, size_t size, size_t count, void* user) {
  auto* body = static_cast<std::string*>(user);
  const size_t n = size * count;
  if (body->size() + n > k_max_download_bytes) return 0; // aborts the transfer
  body->append(data, n);
  return n;
}

// A URL as libcurl parses it, so the host checked is the host libcurl connects to
// ("https://gitlab.example.com@evil.example/" is evil.example).
struct UrlParts {
  std::string scheme;
  std::string host; // lower-case; an IPv6 address in brackets
  std::string port; // always set: the scheme's default when the URL has none
  std::string address() const { return host + ":" + port; }
};

std::optional<UrlParts> parse_url(const std::string& url) {
  std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> handle(curl_url(), curl_url_cleanup);
  if (!handle || curl_url_set(handle.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) {
    return std::nullopt;
  }
  auto part = [&](CURLUPart which, unsigned int flags) -> std::optional<std::string> {
    char* value = nullptr;
    if (curl_url_get(handle.get(), which, &value, flags) != CURLUE_OK || value == nullptr)
      return std::nullopt;
    std::string out(value);
    curl_free(value);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
  };
  auto scheme = part(CURLUPART_SCHEME, 0);
  auto host = part(CURLUPART_HOST, 0);
  auto port = part(CURLUPART_PORT, CURLU_DEFAULT_PORT);
  if (!scheme || !host || !port || host->empty()) return std::nullopt;
  return UrlParts{*scheme, *host, *port};
}

enum class TokenDecision { sent, no_token, unparsable, not_https, other_host };

TokenDecision token_decision(const std::string& url, const FetchSettings& settings) {
  if (settings.job_token.empty()) return TokenDecision::no_token;
  const auto parts = parse_url(url);
  if (!parts) return TokenDecision::unparsable;
  if (parts->scheme != "https") return TokenDecision::not_https;
  const std::string address = parts->address();
  for (const auto& instance : settings.instance) {
    if (instance == address) return TokenDecision::sent;
  }
  return TokenDecision::other_host;
}

bool is_instance(const std::string& url, const FetchSettings& settings) {
  const auto parts = parse_url(url);
  return parts && std::find(settings.instance.begin(), settings.instance.end(), parts->address()) !=
                      settings.instance.end();
}

struct Hop {
  std::string body;
  std::string redirect; // the absolute URL of a redirect's Location; empty: the answer
};

// One request, redirects not followed. The job token, when this hop may carry it, is a
// header of this request only.
Result<Hop> fetch_once(const std::string& url, const FetchSettings& settings, bool redirected) {
  const TokenDecision token = token_decision(url, settings);
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) return fail(ErrorCode::internal, "cannot initialise libcurl");
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> headers(nullptr, curl_slist_free_all);
  std::string header_line;
  if (token == TokenDecision::sent) {
    header_line = "JOB-TOKEN: " + settings.job_token;
    headers.reset(curl_slist_append(nullptr, header_line.c_str()));
    if (!headers) return fail(ErrorCode::internal, "cannot allocate a request header");
    spdlog::debug("import {}: sending the job token (CI_JOB_TOKEN) to the GitLab instance",
                  log::redact_url(url));
  } else if (token == TokenDecision::not_https && is_instance(url, settings)) {
    spdlog::debug("import {}: not sending the job token over plain http", log::redact_url(url));
  }
  Hop hop;
  char error_buffer[CURL_ERROR_SIZE] = {0};
  CURL* h = curl.get();
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, redirected ? "https" : "http,https");
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  // Custom headers never go to a proxy's CONNECT request, only inside the tunnel.
  curl_easy_setopt(h, CURLOPT_HEADEROPT, CURLHEADER_SEPARATE);
  if (headers) curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
  if (!settings.instance_ca_file.empty() && is_instance(url, settings)) {
    curl_easy_setopt(h, CURLOPT_CAINFO, settings.instance_ca_file.c_str());
  } else if (!settings.ca_file.empty() || !settings.ca_dir.empty()) {
    curl_easy_setopt(h, CURLOPT_CAINFO,
                     settings.ca_file.empty() ? nullptr : settings.ca_file.c_str());
    curl_easy_setopt(h, CURLOPT_CAPATH,
                     settings.ca_dir.empty() ? nullptr : settings.ca_dir.c_str());
  }
  curl_easy_setopt(h, CURLOPT_TIMEOUT, k_download_timeout_seconds);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &hop.body);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error_buffer);
  const CURLcode rc = curl_easy_perform(h);
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  if (rc != CURLE_OK) {
    return fail(ErrorCode::io,
                fmt::format("download failed: {}",
                            error_buffer[0] ? error_buffer : curl_easy_strerror(rc)));
  }
  if (status == 301 || status == 302 || status == 303 || status == 307 || status == 308) {
    char* location = nullptr;
    curl_easy_getinfo(h, CURLINFO_REDIRECT_URL, &location);
    if (location != nullptr) {
      hop.redirect = location;
      hop.body.clear();
      return hop;
    }
  }
  if (status >= 400) {
    std::string hint;
    if (status == 401 || status == 403 || status == 404) {
      if (token == TokenDecision::sent) {
        hint = " (sent with the job token: the project holding the file must let this "
               "project's job token in, and the URL must be an API endpoint a job token may "
               "read)";
      } else if (token == TokenDecision::not_https && is_instance(url, settings)) {
        hint = " (the job token is sent only over https://)";
      }
    }
    return fail(ErrorCode::io, fmt::format("download failed: HTTP {}{}", status, hint));
  }
  return hop;
}

} // namespace

LoadResult load_policies(const std::vector<std::string>& paths, const LoadOptions& options) {
  Loader loader{options, {}};
  for (const auto& path : paths)
    loader.add_path(path);
  return std::move(loader.result);
}

LoadResult load_policy_text(std::string_view text, const std::string& source,
                            const LoadOptions& options) {
  Loader loader{options, {}};
  loader.result.files.push_back(source);
  loader.add_text(text, source, source);
  return std::move(loader.result);
}

FetchSettings fetch_settings(const Environment& env) {
  auto get = [&](const char* name) { return env.get(name).value_or(""); };
  FetchSettings settings;
  settings.job_token = get("CI_JOB_TOKEN");
  settings.ca_file = get("SSL_CERT_FILE");
  settings.ca_dir = get("SSL_CERT_DIR");
  settings.instance_ca_file = get("CI_SERVER_TLS_CA_FILE");
  auto add = [&](const std::string& url) {
    if (url.empty()) return;
    auto parts = parse_url(url);
    if (!parts) return;
    const std::string address = parts->address();
    if (std::find(settings.instance.begin(), settings.instance.end(), address) ==
        settings.instance.end()) {
      settings.instance.push_back(address);
    }
  };
  add(get("CI_SERVER_URL"));
  if (const std::string host = get("CI_SERVER_HOST"); !host.empty()) {
    // A host with anything but a name or address in it ("evil.example/x@") names no host.
    if (host.find_first_of("/@?#\\ ") == std::string::npos) {
      const std::string port = get("CI_SERVER_PORT");
      add("https://" + host + (port.empty() ? "" : ":" + port) + "/");
    }
  }
  add(get("CI_API_V4_URL"));
  return settings;
}

bool sends_job_token(const std::string& url, const FetchSettings& settings) {
  return token_decision(url, settings) == TokenDecision::sent;
}

Result<std::string> fetch_url(const std::string& url, const FetchSettings& settings) {
  std::string current = url;
  for (int redirects = 0;; ++redirects) {
    auto hop = fetch_once(current, settings, redirects > 0);
    if (!hop) return fail(hop.error());
    if (hop->redirect.empty()) return std::move(hop->body);
    if (redirects == k_max_redirects) {
      return fail(ErrorCode::io,
                  fmt::format("download failed: more than {} redirects", k_max_redirects));
    }
    if (url_scheme(hop->redirect) != "https") {
      return fail(ErrorCode::io,
                  fmt::format("download failed: redirected to {}: only redirects to https:// "
                              "are followed",
                              log::redact_url(hop->redirect)));
    }
    current = std::move(hop->redirect);
  }
}

std::string sha256_hex(std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest.data(), &length, EVP_sha256(), nullptr);
  std::string out;
  for (unsigned int i = 0; i < length; ++i)
    out += fmt::format("{:02x}", digest[i]);
  return out;
}

} // namespace netpol::policy
