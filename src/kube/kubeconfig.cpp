#include "kube/kubeconfig.hpp"

#include <arpa/inet.h>

#include <array>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <curl/curl.h>
#include <fmt/format.h>
#include <openssl/evp.h>

#include "util/file.hpp"
#include "util/log.hpp"
#include "util/strings.hpp"
#include "util/yaml.hpp"

namespace netpol::kube {
namespace {

namespace fs = std::filesystem;

// Certificates, keys and tokens are small; a reference to /dev/zero or a huge file must not
// hang or exhaust memory.
constexpr size_t k_max_referenced_file = 4 * 1024 * 1024;

Result<std::string> read_text_file(const std::string& path) {
  return read_input_file(path, ErrorCode::config, k_max_referenced_file);
}

std::string lower_ascii(std::string s) {
  for (auto& c : s)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The host as written: the authority after "scheme://" up to the first '/', '?' or '#', less
// any userinfo and port.
std::string written_host(std::string_view url) {
  const size_t start = url.find("://");
  if (start == std::string_view::npos) return {};
  std::string_view authority = url.substr(start + 3);
  authority = authority.substr(0, authority.find_first_of("/?#"));
  if (auto at = authority.rfind('@'); at != std::string_view::npos) {
    authority.remove_prefix(at + 1);
  }
  if (!authority.empty() && authority.front() == '[') {
    return std::string(authority.substr(0, authority.find(']') + 1));
  }
  return std::string(authority.substr(0, authority.find(':')));
}

// The host libcurl connects to for `url` (its own parser, IPv4 forms normalised), or "".
std::string curl_host(const std::string& url) {
  std::string host;
  CURLU* parsed = curl_url();
  char* part = nullptr;
  if (parsed != nullptr && curl_url_set(parsed, CURLUPART_URL, url.c_str(), 0) == CURLUE_OK &&
      curl_url_get(parsed, CURLUPART_HOST, &part, 0) == CURLUE_OK) {
    host = part;
  }
  curl_free(part);
  curl_url_cleanup(parsed);
  return host;
}

} // namespace

bool is_loopback_url(const std::string& url) {
  // libcurl's parser decides where the request goes, but helm (Go) reads the same kubeconfig:
  // only a host both read the same way, and written in a form every URL parser agrees on,
  // counts. libcurl takes 0x7f.1 or 2130706433 for 127.0.0.1 where Go looks the name up in
  // DNS, so those, like 127.evil.example, are not loopback here.
  const std::string host = lower_ascii(curl_host(url));
  if (host.empty() || host != lower_ascii(written_host(url))) return false;
  if (host == "localhost" || host == "[::1]") return true;
  in_addr address{};
  // inet_pton takes dotted decimal only: four parts, no octal, hex or leading zeros.
  return ::inet_pton(AF_INET, host.c_str(), &address) == 1 && (ntohl(address.s_addr) >> 24) == 127;
}

namespace {

// One named entry (cluster, user or context) with where it was defined.
struct Stanza {
  const nlohmann::json* value = nullptr; // the inner object ("cluster", "user", "context")
  const YamlDocument* doc = nullptr;
  std::string pointer; // JSON pointer of `value` in `doc`
  std::string label;   // users["agent:1"]
  std::string dir;     // folder of the defining file

  std::string where(const std::string& key = "") const {
    return doc->where(key.empty() ? pointer : pointer + "/" + key);
  }
  Error error(const std::string& key, const std::string& problem) const {
    return Error(ErrorCode::config, fmt::format("{}: {}{}{}: {}", where(key), label,
                                                key.empty() ? "" : ".", key, problem));
  }
  bool has(const std::string& key) const {
    return value->is_object() && value->contains(key) && !(*value)[key].is_null();
  }
  Result<std::string> string(const std::string& key) const {
    if (!has(key)) return std::string();
    const auto& v = (*value)[key];
    if (v.is_string()) return v.get<std::string>();
    if (v.is_number()) return v.dump(); // an unquoted numeric token is still a string
    return fail(error(key, "expected a string"));
  }
  Result<bool> boolean(const std::string& key) const {
    if (!has(key)) return false;
    const auto& v = (*value)[key];
    if (v.is_boolean()) return v.get<bool>();
    return fail(error(key, "expected true or false"));
  }
  std::string resolve_path(const std::string& path) const {
    if (path.empty() || fs::path(path).is_absolute()) return path;
    return (fs::path(dir) / path).lexically_normal().string();
  }
  // `<key>-data` (base64) wins over `<key>` (a file path).
  Result<std::string> pem(const std::string& key) const {
    auto data = string(key + "-data");
    if (!data) return fail(data.error());
    if (!data->empty()) {
      auto decoded = decode_base64(*data);
      if (!decoded) return fail(error(key + "-data", "not valid base64"));
      return *decoded;
    }
    auto path = string(key);
    if (!path) return fail(path.error());
    if (path->empty()) return std::string();
    auto text = read_text_file(resolve_path(*path));
    if (!text) return fail(error(key, text.error().message));
    return *text;
  }
};

struct ParsedFile {
  std::string path;
  std::string dir;
  YamlDocument doc;
};

struct Merged {
  std::string current_context;
  std::map<std::string, Stanza> clusters;
  std::map<std::string, Stanza> users;
  std::map<std::string, Stanza> contexts;
};

// Adds the named entries of one `clusters:`/`users:`/`contexts:` list; earlier files win.
Result<void> merge_list(const ParsedFile& file, const char* list_key, const char* inner_key,
                        std::map<std::string, Stanza>& into) {
  const auto& root = file.doc.value;
  if (!root.contains(list_key) || root[list_key].is_null()) return {};
  const auto& list = root[list_key];
  const std::string list_pointer = std::string("/") + list_key;
  if (!list.is_array()) {
    return fail(ErrorCode::config,
                fmt::format("{}: {}: expected a list", file.doc.where(list_pointer), list_key));
  }
  for (size_t i = 0; i < list.size(); ++i) {
    const auto& item = list[i];
    const std::string item_pointer = list_pointer + "/" + std::to_string(i);
    if (!item.is_object() || !item.contains("name") || !item["name"].is_string() ||
        item["name"].get<std::string>().empty()) {
      return fail(ErrorCode::config, fmt::format("{}: {}[{}]: name is missing",
                                                 file.doc.where(item_pointer), list_key, i));
    }
    const auto name = item["name"].get<std::string>();
    if (into.count(name) != 0) continue; // the first file to define a name wins, whole
    static const nlohmann::json k_empty = nlohmann::json::object();
    const bool has_inner = item.contains(inner_key) && !item[inner_key].is_null();
    if (has_inner && !item[inner_key].is_object()) {
      return fail(ErrorCode::config, fmt::format("{}: {}[{}].{}: expected a mapping",
                                                 file.doc.where(item_pointer + "/" + inner_key),
                                                 list_key, name, inner_key));
    }
    Stanza s;
    s.value = has_inner ? &item[inner_key] : &k_empty;
    s.doc = &file.doc;
    s.pointer = item_pointer + "/" + inner_key;
    s.label = fmt::format("{}[{}]", list_key, name);
    s.dir = file.dir;
    into.emplace(name, std::move(s));
  }
  return {};
}

Result<Merged> merge(const std::vector<ParsedFile>& files) {
  Merged m;
  for (const auto& f : files) {
    const auto& root = f.doc.value;
    if (root.is_null()) continue; // an empty file adds nothing
    if (!root.is_object()) {
      return fail(ErrorCode::config,
                  fmt::format("{}: not a kubeconfig (expected a mapping)", f.doc.where()));
    }
    if (m.current_context.empty() && root.contains("current-context") &&
        root["current-context"].is_string()) {
      m.current_context = root["current-context"].get<std::string>();
    }
    if (auto r = merge_list(f, "clusters", "cluster", m.clusters); !r) return fail(r.error());
    if (auto r = merge_list(f, "users", "user", m.users); !r) return fail(r.error());
    if (auto r = merge_list(f, "contexts", "context", m.contexts); !r) return fail(r.error());
  }
  return m;
}

std::string file_names(const std::vector<ParsedFile>& files) {
  std::string out;
  for (const auto& f : files) {
    out += (out.empty() ? "" : ", ") + f.path;
  }
  return out;
}

std::string names_of(const std::map<std::string, Stanza>& entries) {
  std::string out;
  for (const auto& [name, _] : entries) {
    out += (out.empty() ? "" : ", ") + name;
  }
  return out;
}

Result<std::string> pick_context(const Merged& m, const std::vector<ParsedFile>& files,
                                 const std::string& requested) {
  if (!requested.empty()) {
    if (m.contexts.count(requested) == 0) {
      return fail(ErrorCode::config,
                  fmt::format("{}: context '{}' not found; available: {}", file_names(files),
                              requested, m.contexts.empty() ? "none" : names_of(m.contexts)));
    }
    return requested;
  }
  if (!m.current_context.empty()) {
    if (m.contexts.count(m.current_context) == 0) {
      return fail(ErrorCode::config,
                  fmt::format("{}: current-context '{}' not found; available: {}",
                              file_names(files), m.current_context,
                              m.contexts.empty() ? "none" : names_of(m.contexts)));
    }
    return m.current_context;
  }
  if (m.contexts.size() == 1) return m.contexts.begin()->first;
  if (m.contexts.empty()) {
    return fail(ErrorCode::config, fmt::format("{}: no contexts defined", file_names(files)));
  }
  return fail(ErrorCode::config,
              fmt::format("{}: no current-context and {} contexts; choose one with --context or "
                          "KUBE_CONTEXT: {}",
                          file_names(files), m.contexts.size(), names_of(m.contexts)));
}

Result<ExecConfig> read_exec(const Stanza& user, const Stanza& cluster) {
  ExecConfig e;
  const auto& x = (*user.value)["exec"];
  Stanza s = user;
  s.value = &x;
  s.pointer = user.pointer + "/exec";
  s.label = user.label + ".exec";
  e.where = s.where();
  if (!x.is_object()) return fail(s.error("", "expected a mapping"));
  auto command = s.string("command");
  if (!command) return fail(command.error());
  if (command->empty()) return fail(s.error("command", "is required"));
  // kubectl resolves the command against the kubeconfig's folder only when it names a path.
  e.command = command->find('/') != std::string::npos ? s.resolve_path(*command) : *command;
  auto api_version = s.string("apiVersion");
  if (!api_version) return fail(api_version.error());
  e.api_version = *api_version;
  if (e.api_version != "client.authentication.k8s.io/v1" &&
      e.api_version != "client.authentication.k8s.io/v1beta1") {
    return fail(s.error("apiVersion", fmt::format("'{}' is not supported; use "
                                                  "client.authentication.k8s.io/v1 or v1beta1",
                                                  e.api_version)));
  }
  if (x.contains("args") && !x["args"].is_null()) {
    if (!x["args"].is_array()) return fail(s.error("args", "expected a list of strings"));
    for (const auto& a : x["args"]) {
      if (a.is_string())
        e.args.push_back(a.get<std::string>());
      else if (a.is_number())
        e.args.push_back(a.dump());
      else
        return fail(s.error("args", "expected a list of strings"));
    }
  }
  if (x.contains("env") && !x["env"].is_null()) {
    if (!x["env"].is_array()) return fail(s.error("env", "expected a list of {name, value}"));
    for (const auto& v : x["env"]) {
      if (!v.is_object() || !v.contains("name") || !v["name"].is_string()) {
        return fail(s.error("env", "expected a list of {name, value}"));
      }
      std::string value;
      if (v.contains("value") && v["value"].is_string()) value = v["value"].get<std::string>();
      e.env.emplace_back(v["name"].get<std::string>(), value);
    }
  }
  auto hint = s.string("installHint");
  if (!hint) return fail(hint.error());
  e.install_hint = *hint;
  auto mode = s.string("interactiveMode");
  if (!mode) return fail(mode.error());
  e.interactive_mode = *mode;
  if (!e.interactive_mode.empty() && e.interactive_mode != "Never" &&
      e.interactive_mode != "IfAvailable" && e.interactive_mode != "Always") {
    return fail(s.error("interactiveMode",
                        fmt::format("'{}' is not one of Never, IfAvailable, Always", *mode)));
  }
  if (e.api_version == "client.authentication.k8s.io/v1" && e.interactive_mode.empty()) {
    return fail(s.error("interactiveMode", "is required for client.authentication.k8s.io/v1"));
  }
  auto provide = s.boolean("provideClusterInfo");
  if (!provide) return fail(provide.error());
  e.provide_cluster_info = *provide;
  if (cluster.value->contains("extensions") && (*cluster.value)["extensions"].is_array()) {
    for (const auto& ext : (*cluster.value)["extensions"]) {
      if (ext.is_object() && ext.value("name", "") == "client.authentication.k8s.io/exec") {
        e.cluster_config = ext.value("extension", nlohmann::json());
      }
    }
  }
  return e;
}

Result<Credentials> read_user(const Stanza& user, const Stanza& cluster) {
  Credentials c;
  if (user.has("auth-provider")) {
    std::string name;
    const auto& ap = (*user.value)["auth-provider"];
    if (ap.is_object() && ap.contains("name") && ap["name"].is_string()) {
      name = ap["name"].get<std::string>();
    }
    return fail(
        user.error("auth-provider",
                   fmt::format("'{}' is not supported; use an exec credential plugin", name)));
  }
  auto token = user.string("token");
  if (!token) return fail(token.error());
  c.token = trim(*token);
  auto token_file = user.string("tokenFile");
  if (!token_file) return fail(token_file.error());
  if (c.token.empty() && !token_file->empty()) {
    c.token_file = user.resolve_path(*token_file);
    // Read now so a missing file is a config error naming the field, not a failed request.
    auto text = read_text_file(c.token_file);
    if (!text) return fail(user.error("tokenFile", text.error().message));
    c.token = trim(*text);
    if (c.token.empty()) return fail(user.error("tokenFile", c.token_file + " is empty"));
  }
  auto username = user.string("username");
  if (!username) return fail(username.error());
  auto password = user.string("password");
  if (!password) return fail(password.error());
  c.username = *username;
  c.password = *password;
  auto cert = user.pem("client-certificate");
  if (!cert) return fail(cert.error());
  auto key = user.pem("client-key");
  if (!key) return fail(key.error());
  c.client_certificate_pem = *cert;
  c.client_key_pem = *key;
  if (c.client_certificate_pem.empty() != c.client_key_pem.empty()) {
    return fail(user.error(c.client_key_pem.empty() ? "client-key" : "client-certificate",
                           "is required when the other half of the client certificate is set"));
  }
  if (user.has("exec")) {
    auto exec = read_exec(user, cluster);
    if (!exec) return fail(exec.error());
    c.exec = std::move(*exec);
  }
  const bool basic = !c.username.empty() || !c.password.empty();
  if (basic && (!c.token.empty() || c.exec)) {
    return fail(user.error("username", "basic auth cannot be combined with a token or an exec "
                                       "plugin; keep one authentication method"));
  }
  auto as = user.string("as");
  if (!as) return fail(as.error());
  c.impersonate_user = *as;
  if (user.has("as-groups")) {
    const auto& groups = (*user.value)["as-groups"];
    if (!groups.is_array()) return fail(user.error("as-groups", "expected a list of strings"));
    for (const auto& g : groups) {
      if (!g.is_string()) return fail(user.error("as-groups", "expected a list of strings"));
      c.impersonate_groups.push_back(g.get<std::string>());
    }
  }
  for (const auto* secret : {&c.token, &c.password, &c.client_key_pem}) {
    log::register_secret(*secret);
  }
  return c;
}

Result<std::string> normalise_server(const std::string& server, const Stanza& cluster) {
  if (server.empty()) return fail(cluster.error("server", "is required"));
  std::string s = server;
  if (s.rfind("https://", 0) != 0 && s.rfind("http://", 0) != 0) {
    if (s.find("://") != std::string::npos) {
      return fail(cluster.error("server", fmt::format("'{}' must be an https:// URL", server)));
    }
    s = "https://" + s; // kubectl accepts a bare host:port
  }
  while (!s.empty() && s.back() == '/')
    s.pop_back();
  return s;
}

Result<ClientConfig> resolve_context(const Merged& m, const std::vector<ParsedFile>& files,
                                     const std::string& context_name) {
  const Stanza& ctx = m.contexts.at(context_name);
  ClientConfig cfg;
  cfg.context_name = context_name;
  cfg.source = fmt::format("context '{}' at {}", context_name, ctx.where());
  auto cluster_name = ctx.string("cluster");
  if (!cluster_name) return fail(cluster_name.error());
  if (cluster_name->empty()) return fail(ctx.error("cluster", "is required"));
  auto cluster_it = m.clusters.find(*cluster_name);
  if (cluster_it == m.clusters.end()) {
    return fail(ctx.error(
        "cluster", fmt::format("cluster '{}' not found in {}", *cluster_name, file_names(files))));
  }
  const Stanza& cluster = cluster_it->second;
  auto ns = ctx.string("namespace");
  if (!ns) return fail(ns.error());
  cfg.namespace_name = *ns;

  auto server = cluster.string("server");
  if (!server) return fail(server.error());
  auto normalised = normalise_server(*server, cluster);
  if (!normalised) return fail(normalised.error());
  cfg.server = *normalised;
  auto ca = cluster.pem("certificate-authority");
  if (!ca) return fail(ca.error());
  cfg.ca_pem = *ca;
  auto insecure = cluster.boolean("insecure-skip-tls-verify");
  if (!insecure) return fail(insecure.error());
  cfg.insecure_skip_tls_verify = *insecure;
  auto sni = cluster.string("tls-server-name");
  if (!sni) return fail(sni.error());
  cfg.tls_server_name = *sni;
  auto proxy = cluster.string("proxy-url");
  if (!proxy) return fail(proxy.error());
  cfg.proxy_url = *proxy;
  auto no_compression = cluster.boolean("disable-compression");
  if (!no_compression) return fail(no_compression.error());
  cfg.disable_compression = *no_compression;

  auto user_name = ctx.string("user");
  if (!user_name) return fail(user_name.error());
  if (!user_name->empty()) {
    auto user_it = m.users.find(*user_name);
    if (user_it == m.users.end()) {
      return fail(ctx.error(
          "user", fmt::format("user '{}' not found in {}", *user_name, file_names(files))));
    }
    auto creds = read_user(user_it->second, cluster);
    if (!creds) return fail(creds.error());
    cfg.credentials = std::move(*creds);
  }
  // kubectl's rule (client-go transport): trusting a CA and skipping verification at once is
  // a contradiction, and which one was meant cannot be guessed.
  if (cfg.insecure_skip_tls_verify && !cfg.ca_pem.empty()) {
    return fail(cluster.error("insecure-skip-tls-verify",
                              "specifying a root certificates file with the insecure flag is not "
                              "allowed: remove certificate-authority(-data) or "
                              "insecure-skip-tls-verify"));
  }
  // A bearer token, password or client certificate over plain http would cross the network
  // in clear text; only a loopback server (kubectl proxy) is exempt.
  const auto& c = cfg.credentials;
  const bool sends_credentials = !c.token.empty() || !c.token_file.empty() || c.exec ||
                                 !c.password.empty() || !c.client_certificate_pem.empty();
  const bool plain_http = cfg.server.rfind("http://", 0) == 0;
  if (plain_http && sends_credentials && !is_loopback_url(cfg.server)) {
    return fail(cluster.error(
        "server", fmt::format("{} is plain http: netpol does not send credentials in clear text; "
                              "use https:// (plain http only to a loopback address written "
                              "127.x.y.z, [::1] or localhost, e.g. kubectl proxy)",
                              cfg.server)));
  }
  // Through a proxy, the loopback exemption no longer holds: the proxy reads every header.
  if (plain_http && sends_credentials && !cfg.proxy_url.empty()) {
    return fail(cluster.error(
        "proxy-url", fmt::format("{} is plain http: netpol does not send credentials in clear "
                                 "text through a proxy; use https:// or remove proxy-url",
                                 cfg.server)));
  }
  return cfg;
}

Result<ClientConfig> resolve_parsed(const std::vector<ParsedFile>& files,
                                    const std::string& context) {
  auto merged = merge(files);
  if (!merged) return fail(merged.error());
  auto name = pick_context(*merged, files, context);
  if (!name) return fail(name.error());
  return resolve_context(*merged, files, *name);
}

Result<ParsedFile> parse_file(const std::string& text, const std::string& path) {
  auto docs = parse_yaml_documents(text, path, ErrorCode::config);
  if (!docs) return fail(docs.error());
  ParsedFile f;
  f.path = path;
  f.dir = fs::path(path).parent_path().string();
  if (f.dir.empty()) f.dir = ".";
  for (auto& d : *docs) {
    if (!d.value.is_null()) {
      f.doc = std::move(d);
      return f;
    }
  }
  f.doc.source = path;
  f.doc.line = 1;
  return f;
}

} // namespace

std::optional<std::string> decode_base64(std::string_view text) {
  std::string clean;
  clean.reserve(text.size());
  for (char c : text) {
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '+' || c == '/' || c == '=';
    if (!ok) return std::nullopt;
    clean += c;
  }
  if (clean.size() % 4 != 0) return std::nullopt;
  std::string out(clean.size() / 4 * 3, '\0');
  if (clean.empty()) return out;
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(clean.data()),
                                static_cast<int>(clean.size()));
  if (n < 0) return std::nullopt;
  // EVP_DecodeBlock counts padding bytes as output; drop them.
  size_t pad = 0;
  if (clean.size() >= 1 && clean[clean.size() - 1] == '=') ++pad;
  if (clean.size() >= 2 && clean[clean.size() - 2] == '=') ++pad;
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

std::string encode_base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

Result<ClientConfig> resolve_kubeconfigs(const std::vector<KubeconfigText>& files,
                                         const std::string& context) {
  std::vector<ParsedFile> parsed;
  parsed.reserve(files.size());
  for (const auto& f : files) {
    auto p = parse_file(f.text, f.path);
    if (!p) return fail(p.error());
    parsed.push_back(std::move(*p));
  }
  return resolve_parsed(parsed, context);
}

Result<ClientConfig> load_in_cluster_config(const Environment& env,
                                            const std::string& service_account_dir) {
  const auto host = env.get("KUBERNETES_SERVICE_HOST").value_or("");
  const auto port = env.get("KUBERNETES_SERVICE_PORT").value_or("");
  if (host.empty() || port.empty()) {
    return fail(ErrorCode::config,
                "in-cluster config: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must "
                "be set");
  }
  ClientConfig cfg;
  const bool ipv6 = host.find(':') != std::string::npos;
  cfg.server = fmt::format("https://{}:{}", ipv6 ? "[" + host + "]" : host, port);
  cfg.source = "in-cluster config (" + service_account_dir + ")";
  const auto dir = fs::path(service_account_dir);
  cfg.credentials.token_file = (dir / "token").string();
  auto token = read_text_file(cfg.credentials.token_file);
  if (!token) return fail(token.error().wrap("in-cluster config"));
  cfg.credentials.token = trim(*token);
  log::register_secret(cfg.credentials.token);
  auto ca = read_text_file((dir / "ca.crt").string());
  if (!ca) return fail(ca.error().wrap("in-cluster config"));
  cfg.ca_pem = *ca;
  if (auto ns = env.get("POD_NAMESPACE"); ns && !ns->empty()) {
    cfg.namespace_name = *ns;
  } else if (auto text = read_text_file((dir / "namespace").string())) {
    cfg.namespace_name = trim(*text);
  }
  return cfg;
}

Result<ClientConfig> load_client_config(const LoadOptions& options) {
  static const MapEnvironment k_no_env;
  const Environment& env = options.env != nullptr ? *options.env : k_no_env;
  std::vector<std::string> paths;
  std::set<std::string> seen;
  for (const auto& p : options.paths) {
    if (!p.empty() && seen.insert(p).second) paths.push_back(p);
  }
  bool must_exist = options.explicit_paths;
  if (paths.empty()) {
    const auto home = env.get("HOME").value_or("");
    const auto default_path = home.empty() ? std::string() : home + "/.kube/config";
    std::error_code ec;
    if (!default_path.empty() && fs::exists(default_path, ec)) {
      paths.push_back(default_path);
      must_exist = true;
    } else if (env.get("KUBERNETES_SERVICE_HOST").value_or("") != "") {
      return load_in_cluster_config(env, options.service_account_dir);
    } else {
      return fail(ErrorCode::config,
                  "no kubeconfig: set KUBECONFIG or --kubeconfig (~/.kube/config does not exist "
                  "and this is not a Kubernetes pod)");
    }
  }
  std::vector<ParsedFile> parsed;
  std::vector<std::string> missing;
  for (const auto& path : paths) {
    std::error_code ec;
    if (!must_exist && !fs::exists(path, ec)) {
      missing.push_back(path);
      continue;
    }
    auto text = read_text_file(path);
    if (!text) {
      // Name what the file was for: a newcomer's first error is often this one.
      return fail(text.error().code, "kubeconfig " + text.error().message +
                                         " (point --kubeconfig or KUBECONFIG at the cluster's "
                                         "kubeconfig; a GitLab agent's job sets KUBECONFIG)");
    }
    auto p = parse_file(*text, path);
    if (!p) return fail(p.error());
    parsed.push_back(std::move(*p));
  }
  if (parsed.empty()) {
    std::string list;
    for (const auto& m : missing)
      list += (list.empty() ? "" : ", ") + m;
    return fail(ErrorCode::config, "none of the kubeconfig files exist: " + list +
                                       " (point --kubeconfig or KUBECONFIG at the cluster's "
                                       "kubeconfig; a GitLab agent's job sets KUBECONFIG)");
  }
  return resolve_parsed(parsed, options.context);
}

} // namespace netpol::kube
