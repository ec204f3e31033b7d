#include "policy/loader.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <filesystem>
#include <memory>
#include <optional>
#include <regex>
#include <thread>

#include <fmt/format.h>

#include "util/file.hpp"
#include "util/hash.hpp"
#include "util/log.hpp"
#include "util/parallel.hpp"

namespace netpol::policy {
namespace fs = std::filesystem;

namespace {

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
      const std::string at = pointer + "/" + pointer_token(key); // as util/yaml records lines
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
    auto text = read_input_file(canonical.string(), ErrorCode::io, http::k_max_download_bytes);
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

} // namespace netpol::policy
