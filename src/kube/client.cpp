#include "kube/client.hpp"

#include <map>
#include <mutex>

#include <fmt/format.h>

#include "kube/credentials.hpp"
#include "netpol/build_info.hpp"
#include "util/log.hpp"

namespace netpol::kube {
namespace {

using nlohmann::json;

constexpr size_t k_max_body_in_message = 200;

// client-go's texts for error answers without a Status body (NewGenericServerResponse).
std::pair<const char*, const char*> generic_answer(int status) {
  switch (status) {
  case 400: return {"BadRequest", "the server rejected our request for an unknown reason"};
  case 401: return {"Unauthorized", "the server has asked for the client to provide credentials"};
  case 403: return {"Forbidden", "the server does not allow access to the requested resource"};
  case 404: return {"NotFound", "the server could not find the requested resource"};
  case 405:
    return {"MethodNotAllowed", "the server does not allow this method on the requested resource"};
  case 409: return {"Conflict", "the server reported a conflict"};
  case 410: return {"Gone", "the server reports the requested resource is gone"};
  case 415: return {"UnsupportedMediaType", "the server has rejected the request content type"};
  case 422: return {"Invalid", "the server rejected our request due to an error in our request"};
  case 429:
    return {"TooManyRequests",
            "the server has received too many requests and has asked us to try again later"};
  case 500:
    return {"InternalError", "an error on the server has prevented the request from succeeding"};
  case 503: return {"ServiceUnavailable", "the server is currently unable to handle the request"};
  case 504:
    return {"Timeout", "the server was unable to return a response in the time allotted, but may "
                       "still be processing the request"};
  default: return {"", "the server answered with an unexpected status"};
  }
}

std::string one_line_snippet(std::string_view body) {
  std::string s(body.substr(0, k_max_body_in_message));
  for (auto& c : s) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  while (!s.empty() && s.back() == ' ')
    s.pop_back();
  if (body.size() > k_max_body_in_message) s += "...";
  return log::redact(s);
}

std::string escape(std::string_view text) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

class Query {
public:
  Query& add(const char* key, const std::string& value) {
    if (!value.empty())
      m_text += (m_text.empty() ? "?" : "&") + std::string(key) + "=" + escape(value);
    return *this;
  }
  const std::string& str() const { return m_text; }

private:
  std::string m_text;
};

std::string group_version_path(const std::string& group, const std::string& version) {
  return group.empty() ? "/api/" + version : "/apis/" + group + "/" + version;
}

std::string collection_path(const ResourceInfo& r, const std::string& ns) {
  std::string p = group_version_path(r.group, r.version);
  if (r.namespaced && !ns.empty()) p += "/namespaces/" + escape(ns);
  return p + "/" + r.resource;
}

std::string object_path(const ResourceInfo& r, const std::string& ns, const std::string& name) {
  return collection_path(r, ns) + "/" + escape(name);
}

std::string what_object(const char* verb, const ResourceInfo& r, const std::string& ns,
                        const std::string& name) {
  if (r.namespaced && !ns.empty()) return fmt::format("{} {}/{}/{}", verb, r.kind, ns, name);
  return fmt::format("{} {}/{}", verb, r.kind, name);
}

std::string meta(const json& object, const char* key) {
  if (!object.contains("metadata") || !object["metadata"].is_object()) return {};
  const auto& m = object["metadata"];
  return m.contains(key) && m[key].is_string() ? m[key].get<std::string>() : std::string();
}

// `object[key]` when `object` is an object holding a `key` of T's JSON type, else
// `fallback`: what the server sends is read without trusting its shape (a value() of the
// wrong type would throw).
template <class T> T field(const json& object, const char* key, T fallback) {
  if (!object.is_object()) return fallback;
  const auto it = object.find(key);
  if (it == object.end()) return fallback;
  if constexpr (std::is_same_v<T, bool>) {
    return it->is_boolean() ? it->get<bool>() : fallback;
  } else if constexpr (std::is_same_v<T, std::string>) {
    return it->is_string() ? it->get<std::string>() : fallback;
  } else {
    return it->type() == fallback.type() ? *it : fallback;
  }
}

std::pair<std::string, std::string> split_api_version(const std::string& api_version) {
  const auto slash = api_version.find('/');
  if (slash == std::string::npos) return {"", api_version};
  return {api_version.substr(0, slash), api_version.substr(slash + 1)};
}

const ResourceInfo* well_known(const std::string& api_version, const std::string& kind) {
  static const ResourceInfo* k_all[] = {&resources::namespaces,
                                        &resources::nodes,
                                        &resources::pods,
                                        &resources::config_maps,
                                        &resources::daemon_sets,
                                        &resources::deployments,
                                        &resources::network_policies,
                                        &resources::custom_resource_definitions,
                                        &resources::cilium_network_policies,
                                        &resources::cilium_clusterwide_network_policies,
                                        &resources::cilium_endpoints};
  for (const auto* r : k_all) {
    if (r->kind == kind && r->api_version() == api_version) return r;
  }
  return nullptr;
}

HttpRequest json_request(std::string method, std::string path, const json* body = nullptr,
                         const char* content_type = "application/json") {
  HttpRequest r;
  r.method = std::move(method);
  r.path = std::move(path);
  r.headers.emplace_back("Accept", "application/json");
  if (body != nullptr) {
    r.headers.emplace_back("Content-Type", content_type);
    r.body = body->dump();
  }
  // A DELETE sent twice deletes once: a retry that finds the object gone answers 404, which
  // callers that delete take as done.
  r.idempotent = r.method == "GET" || r.method == "DELETE";
  return r;
}

Result<json> parse_answer(Result<HttpResponse> answer, const std::string& what) {
  if (!answer) return fail(answer.error());
  if (answer->status < 200 || answer->status >= 300) {
    return fail(api_error(answer->status, answer->body, what));
  }
  try {
    return json::parse(answer->body);
  } catch (const json::exception&) {
    Error e(ErrorCode::api, fmt::format("{}: the server answered HTTP {} with a body that is not "
                                        "JSON: {}",
                                        what, answer->status, one_line_snippet(answer->body)));
    e.http_status = answer->status;
    return fail(std::move(e));
  }
}

class Client final : public KubeApi {
public:
  Client(std::string server, std::unique_ptr<HttpTransport> transport)
      : m_server(std::move(server)), m_transport(std::move(transport)) {}

  std::string server() const override { return m_server; }

  Result<json> version() override {
    return parse_answer(m_transport->send(json_request("GET", "/version")), "get /version");
  }

  Result<std::optional<ResourceInfo>> resolve(const std::string& api_version,
                                              const std::string& kind) override {
    const auto [group, version] = split_api_version(api_version);
    if (version.empty() || kind.empty()) return std::optional<ResourceInfo>();
    // Kubernetes' own kinds netpol knows are served by every version it supports: no
    // discovery request (Cilium's are looked up).
    if (const auto* known = well_known(api_version, kind); known && known->group != "cilium.io") {
      return std::optional(*known);
    }
    if (!group.empty()) {
      auto groups = group_list();
      if (!groups) return fail(groups.error());
      auto it = groups->find(group);
      if (it == groups->end() ||
          std::find(it->second.begin(), it->second.end(), version) == it->second.end()) {
        return std::optional<ResourceInfo>();
      }
    }
    // A kind netpol knows needs no resource list once its group version is served: one
    // round trip fewer.
    if (const auto* known = well_known(api_version, kind)) return std::optional(*known);
    auto list = resource_list(group, version);
    if (!list) return fail(list.error());
    if (!*list) return std::optional<ResourceInfo>();
    for (const auto& r : field(**list, "resources", json::array())) {
      const auto name = field(r, "name", std::string());
      if (field(r, "kind", std::string()) == kind && name.find('/') == std::string::npos) {
        return std::optional<ResourceInfo>(
            ResourceInfo{group, version, name, kind, field(r, "namespaced", false)});
      }
    }
    return std::optional<ResourceInfo>();
  }

  Result<std::vector<std::string>> api_groups() override {
    auto groups = group_list();
    if (!groups) return fail(groups.error());
    std::vector<std::string> names;
    for (const auto& [name, _] : *groups)
      names.push_back(name);
    return names;
  }

  Result<json> get(const ResourceInfo& r, const std::string& ns, const std::string& name) override {
    return parse_answer(m_transport->send(json_request("GET", object_path(r, ns, name))),
                        what_object("get", r, ns, name));
  }

  Result<std::vector<json>> list(const ResourceInfo& r, const std::string& ns,
                                 const ListOptions& options) override {
    const std::string what = r.namespaced && !ns.empty()
                                 ? fmt::format("list {} in namespace {}", r.kind, ns)
                                 : fmt::format("list {}", r.kind);
    std::vector<json> items;
    std::string cont;
    bool restarted = false;
    // A server that hands out the same continue token again, or pages without end, would
    // keep the list going for ever.
    constexpr int k_max_pages = 20'000;
    for (int pages = 0;; ++pages) {
      if (pages == k_max_pages) {
        return fail(ErrorCode::api,
                    fmt::format("{}: the server sent more than {} pages", what, k_max_pages));
      }
      Query q;
      if (options.page_size > 0) q.add("limit", std::to_string(options.page_size));
      q.add("continue", cont).add("labelSelector", options.label_selector);
      q.add("fieldSelector", options.field_selector);
      auto page = parse_answer(
          m_transport->send(json_request("GET", collection_path(r, ns) + q.str())), what);
      if (!page) {
        // The continue token expired (the server compacted past the list's snapshot):
        // start over once, as kubectl users would by re-running.
        if (page.error().http_status == 410 && !cont.empty() && !restarted) {
          spdlog::debug("{}: continue token expired, listing again from the start", what);
          restarted = true;
          items.clear();
          cont.clear();
          continue;
        }
        return fail(page.error());
      }
      if (page->contains("items") && (*page)["items"].is_array()) {
        for (auto& item : (*page)["items"]) {
          if (!item.is_object()) continue;
          item["apiVersion"] = r.api_version();
          item["kind"] = r.kind;
          items.push_back(std::move(item));
        }
      }
      auto next = page->contains("metadata") ? meta(*page, "continue") : std::string();
      if (!next.empty() && next == cont) {
        return fail(ErrorCode::api,
                    fmt::format("{}: the server sent the same continue token twice", what));
      }
      cont = std::move(next);
      if (cont.empty()) break;
    }
    return items;
  }

  Result<json> apply(const json& object, const ApplyOptions& options) override {
    auto request = apply_request(object, options);
    if (!request) return fail(request.error());
    return parse_answer(m_transport->send(request->first), request->second);
  }

  std::vector<Result<json>> apply_all(const std::vector<json>& objects,
                                      const ApplyOptions& options) override {
    std::vector<Result<json>> results(objects.size());
    std::vector<HttpRequest> requests;
    std::vector<std::string> whats;
    std::vector<size_t> index;
    for (size_t i = 0; i < objects.size(); ++i) {
      auto request = apply_request(objects[i], options);
      if (!request) {
        results[i] = fail(request.error());
        continue;
      }
      requests.push_back(std::move(request->first));
      whats.push_back(std::move(request->second));
      index.push_back(i);
    }
    auto answers = m_transport->send_all(requests);
    for (size_t k = 0; k < answers.size(); ++k) {
      results[index[k]] = parse_answer(std::move(answers[k]), whats[k]);
    }
    return results;
  }

  Result<void> remove(const ResourceInfo& r, const std::string& ns, const std::string& name,
                      const DeleteOptions& options) override {
    json body = {{"kind", "DeleteOptions"}, {"apiVersion", "v1"}};
    if (!options.propagation_policy.empty()) body["propagationPolicy"] = options.propagation_policy;
    if (options.dry_run) body["dryRun"] = json::array({"All"});
    auto answer =
        parse_answer(m_transport->send(json_request("DELETE", object_path(r, ns, name), &body)),
                     what_object("delete", r, ns, name));
    if (!answer) return fail(answer.error());
    return {};
  }

  Result<json> create(const json& object) override {
    auto target = resource_of(object, "create");
    if (!target) return fail(target.error());
    const auto& [r, ns, name] = *target;
    return parse_answer(m_transport->send(json_request("POST", collection_path(r, ns), &object)),
                        what_object("create", r, ns, name));
  }

  Result<json> replace_status(const json& object) override {
    auto target = resource_of(object, "update status of");
    if (!target) return fail(target.error());
    const auto& [r, ns, name] = *target;
    return parse_answer(
        m_transport->send(json_request("PUT", object_path(r, ns, name) + "/status", &object)),
        what_object("update status of", r, ns, name));
  }

  Result<void> stream_logs(const std::string& ns, const std::string& pod, const LogOptions& options,
                           const std::function<bool(std::string_view)>& on_data) override {
    Query q;
    q.add("container", options.container);
    if (options.since_time) q.add("sinceTime", *options.since_time);
    if (options.since_seconds) q.add("sinceSeconds", std::to_string(*options.since_seconds));
    if (options.timestamps) q.add("timestamps", "true");
    if (options.limit_bytes) q.add("limitBytes", std::to_string(*options.limit_bytes));
    if (options.previous) q.add("previous", "true");
    HttpRequest request;
    request.path = object_path(resources::pods, ns, pod) + "/log" + q.str();
    request.idempotent = true;
    request.on_data = on_data;
    const std::string what =
        fmt::format("read {}log of Pod/{}/{}{}", options.previous ? "previous " : "", ns, pod,
                    options.container.empty() ? std::string() : " container " + options.container);
    auto answer = m_transport->send(request);
    if (!answer) return fail(answer.error());
    if (answer->status < 200 || answer->status >= 300) {
      return fail(api_error(answer->status, answer->body, what));
    }
    return {};
  }

  Result<bool> can_i(const AccessCheck& check) override {
    json attributes = {{"verb", check.verb}, {"group", check.group}, {"resource", check.resource}};
    if (!check.namespace_name.empty()) attributes["namespace"] = check.namespace_name;
    if (!check.subresource.empty()) attributes["subresource"] = check.subresource;
    const json review = {{"apiVersion", "authorization.k8s.io/v1"},
                         {"kind", "SelfSubjectAccessReview"},
                         {"spec", {{"resourceAttributes", attributes}}}};
    auto request =
        json_request("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", &review);
    request.idempotent = true; // creates nothing
    auto answer = parse_answer(m_transport->send(request),
                               fmt::format("check access to {} {}", check.verb, check.resource));
    if (!answer) return fail(answer.error());
    return field(field(*answer, "status", json::object()), "allowed", false);
  }

  uint64_t request_count() const override { return m_transport->request_count(); }

  Traffic traffic() const override {
    const auto s = m_transport->stats();
    return {s.requests, s.round_trips, s.connections};
  }

private:
  // Group name -> served versions, from GET /apis (once).
  Result<std::map<std::string, std::vector<std::string>>> group_list() {
    std::lock_guard lock(m_discovery_mutex);
    if (m_groups) return *m_groups;
    auto answer =
        parse_answer(m_transport->send(json_request("GET", "/apis")), "discover API groups");
    if (!answer) return fail(answer.error());
    std::map<std::string, std::vector<std::string>> groups;
    for (const auto& g : field(*answer, "groups", json::array())) {
      auto& versions = groups[field(g, "name", std::string())];
      for (const auto& v : field(g, "versions", json::array())) {
        versions.push_back(field(v, "version", std::string()));
      }
    }
    m_groups = std::move(groups);
    return *m_groups;
  }

  // The APIResourceList of one group version; nullopt when the server does not serve it.
  Result<std::optional<json>> resource_list(const std::string& group, const std::string& version) {
    const auto key = group + "/" + version;
    {
      std::lock_guard lock(m_discovery_mutex);
      if (auto it = m_resource_lists.find(key); it != m_resource_lists.end()) return it->second;
    }
    auto answer =
        parse_answer(m_transport->send(json_request("GET", group_version_path(group, version))),
                     "discover " + (group.empty() ? version : key));
    std::optional<json> list;
    if (answer) {
      list = std::move(*answer);
    } else if (answer.error().http_status != 404) {
      return fail(answer.error());
    }
    std::lock_guard lock(m_discovery_mutex);
    m_resource_lists[key] = list;
    return list;
  }

  struct Target {
    ResourceInfo resource;
    std::string namespace_name;
    std::string name;
  };

  Result<Target> resource_of(const json& object, const char* verb) {
    if (!object.is_object())
      return fail(ErrorCode::internal, fmt::format("{}: not an object", verb));
    const auto api_version = field(object, "apiVersion", std::string());
    const auto kind = field(object, "kind", std::string());
    Target t;
    t.name = meta(object, "name");
    t.namespace_name = meta(object, "namespace");
    const auto desc = describe(object);
    if (api_version.empty() || kind.empty() || t.name.empty()) {
      return fail(
          ErrorCode::internal,
          fmt::format("{} {}: apiVersion, kind and metadata.name are required", verb, desc));
    }
    if (const auto* known = well_known(api_version, kind)) {
      t.resource = *known;
    } else {
      auto resolved = resolve(api_version, kind);
      if (!resolved) return fail(resolved.error().wrap(fmt::format("{} {}", verb, desc)));
      if (!*resolved) {
        Error e(ErrorCode::api, fmt::format("{} {}: the server does not serve {} {}", verb, desc,
                                            api_version, kind));
        e.http_status = 404;
        e.reason = "NotFound";
        return fail(std::move(e));
      }
      t.resource = **resolved;
    }
    if (t.resource.namespaced && t.namespace_name.empty()) {
      return fail(
          ErrorCode::internal,
          fmt::format("{} {}: metadata.namespace is required for a namespaced kind", verb, desc));
    }
    if (!t.resource.namespaced) t.namespace_name.clear();
    return t;
  }

  Result<std::pair<HttpRequest, std::string>> apply_request(const json& object,
                                                            const ApplyOptions& options) {
    auto target = resource_of(object, "apply");
    if (!target) return fail(target.error());
    Query q;
    q.add("fieldManager", options.field_manager);
    if (options.force) q.add("force", "true");
    if (options.dry_run) q.add("dryRun", "All");
    auto request = json_request(
        "PATCH", object_path(target->resource, target->namespace_name, target->name) + q.str(),
        &object, "application/apply-patch+yaml");
    request.idempotent = true; // applying the same intent twice gives the same object
    return std::make_pair(std::move(request), what_object("apply", target->resource,
                                                          target->namespace_name, target->name));
  }

  std::string m_server;
  std::unique_ptr<HttpTransport> m_transport;
  std::mutex m_discovery_mutex;
  std::optional<std::map<std::string, std::vector<std::string>>> m_groups;
  std::map<std::string, std::optional<json>> m_resource_lists;
};

} // namespace

Error api_error(int http_status, std::string_view body, const std::string& what) {
  Error e(ErrorCode::api, "");
  e.http_status = http_status;
  const auto [generic_reason, generic_message] = generic_answer(http_status);
  std::string message;
  json status;
  try {
    status = json::parse(body);
  } catch (const json::exception&) {
    status = nullptr;
  }
  if (field(status, "kind", std::string()) == "Status") {
    e.reason = status.contains("reason") && status["reason"].is_string()
                   ? status["reason"].get<std::string>()
                   : std::string();
    message = status.contains("message") && status["message"].is_string()
                  ? status["message"].get<std::string>()
                  : std::string();
    // Errors are one line: a multi-line message (SSA conflicts) keeps its first line here and
    // the rest as details unless the causes already list them.
    std::vector<std::string> rest;
    if (auto nl = message.find('\n'); nl != std::string::npos) {
      std::string tail = message.substr(nl + 1);
      message = message.substr(0, nl);
      size_t start = 0;
      while (start <= tail.size()) {
        auto end = tail.find('\n', start);
        auto line = tail.substr(start, end == std::string::npos ? std::string::npos : end - start);
        if (!line.empty()) rest.push_back(line);
        if (end == std::string::npos) break;
        start = end + 1;
      }
    }
    const auto details = field(status, "details", json::object());
    if (details.is_object() && details.contains("causes") && details["causes"].is_array()) {
      for (const auto& cause : details["causes"]) {
        if (!cause.is_object()) continue;
        const auto path = field(cause, "field", std::string());
        auto text = field(cause, "message", std::string());
        if (text.empty()) text = field(cause, "reason", std::string());
        e.details.push_back(path.empty() ? text : path + ": " + text);
      }
    }
    if (e.details.empty()) e.details = std::move(rest);
  } else if (!body.empty()) {
    message = fmt::format("{} (HTTP {}: {})", generic_message, http_status, one_line_snippet(body));
  }
  if (message.empty()) message = fmt::format("{} (HTTP {})", generic_message, http_status);
  if (e.reason.empty()) e.reason = generic_reason;
  if (http_status == 403 && message.find("\"system:anonymous\"") != std::string::npos) {
    // An expired or foreign client certificate, or a token the server does not know, is not
    // rejected: the request goes on as anonymous and is then forbidden. Say what it means.
    message += " (the server did not accept the credentials and took the request as "
               "anonymous: check the kubeconfig user's token or client certificate)";
  }
  e.message = what.empty() ? message : what + ": " + message;
  return e;
}

Result<std::unique_ptr<KubeApi>> connect(const ClientConfig& config,
                                         const ConnectOptions& options) {
  TransportConfig t;
  t.server = config.server;
  t.ca_pem = config.ca_pem;
  if (config.ca_pem.empty() && options.env != nullptr) {
    // libcurl ignores these; Go (kubectl) honours them, and GitLab's docs rely on it.
    t.ca_file = options.env->get("SSL_CERT_FILE").value_or("");
    t.ca_dir = options.env->get("SSL_CERT_DIR").value_or("");
  }
  t.insecure_skip_tls_verify = config.insecure_skip_tls_verify;
  t.tls_server_name = config.tls_server_name;
  t.proxy_url = config.proxy_url;
  t.no_proxy = is_loopback_url(config.server);
  t.compression = !config.disable_compression;
  t.request_timeout = options.request_timeout;
  if (options.retry) t.retry = *options.retry;
  t.user_agent = fmt::format("netpol/{}", build_info::k_version);
  auto credentials = std::make_shared<CredentialSource>(
      config, options.request_timeout.value_or(std::chrono::minutes(2)));
  t.auth = [credentials] { return credentials->current(); };
  t.on_unauthorized = [credentials] { return credentials->invalidate(); };
  const auto& c = config.credentials;
  if (!c.impersonate_user.empty()) t.headers.emplace_back("Impersonate-User", c.impersonate_user);
  for (const auto& g : c.impersonate_groups)
    t.headers.emplace_back("Impersonate-Group", g);
  spdlog::debug("connecting to {} ({})", config.server, config.source);
  return std::unique_ptr<KubeApi>(
      std::make_unique<Client>(config.server, make_curl_transport(std::move(t))));
}

std::unique_ptr<KubeApi> make_client(std::string server, std::unique_ptr<HttpTransport> transport) {
  return std::make_unique<Client>(std::move(server), std::move(transport));
}

} // namespace netpol::kube
