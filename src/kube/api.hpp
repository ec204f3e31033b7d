// The Kubernetes API as feature code sees it: a narrow, thread-safe interface over
// discovery, CRUD, server-side apply, pod logs and access reviews. The real implementation
// (kube/client) talks HTTPS through libcurl; tests use it against a real kube-apiserver, and
// unit tests of feature code may implement this interface with a small fake.
//
// Objects are nlohmann::json as the server sends them. Every failure is an Error:
//   - ErrorCode::unreachable: connection refused, DNS, TLS verification (message names the
//     server URL and the cause);
//   - ErrorCode::api: the server answered with a non-2xx status; http_status is set, reason
//     is the Status reason ("NotFound", "Forbidden", "Conflict", "Invalid", ...), message is
//     "<verb> <kind>/<ns>/<name>: <Status.message>", details holds Status causes;
//   - ErrorCode::timeout: the request ran past --request-timeout;
//   - ErrorCode::cancelled: the command was cancelled (util/cancel) before or during it.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/error.hpp"

namespace netpol::kube {

// A resource type as discovery describes it.
struct ResourceInfo {
  std::string group;    // "" for the core group
  std::string version;  // "v1"
  std::string resource; // plural: "networkpolicies"
  std::string kind;     // "NetworkPolicy"
  bool namespaced = true;

  std::string api_version() const { return group.empty() ? version : group + "/" + version; }
};

// Well-known resources, so features need no discovery request for them.
namespace resources {
extern const ResourceInfo namespaces;
extern const ResourceInfo nodes;
extern const ResourceInfo pods;
extern const ResourceInfo config_maps;
extern const ResourceInfo daemon_sets;
extern const ResourceInfo deployments;
extern const ResourceInfo network_policies;
extern const ResourceInfo custom_resource_definitions;
extern const ResourceInfo cilium_network_policies;
extern const ResourceInfo cilium_clusterwide_network_policies;
extern const ResourceInfo cilium_endpoints;
} // namespace resources

struct ListOptions {
  std::string label_selector;
  std::string field_selector;
  int page_size = 500; // `limit` per page; pages are followed with `continue`
};

struct ApplyOptions {
  std::string field_manager = "netpol";
  bool force = false;   // take ownership of conflicting fields (--force-conflicts)
  bool dry_run = false; // dryRun=All: the server validates and answers, stores nothing
};

struct DeleteOptions {
  std::string propagation_policy = "Background";
  bool dry_run = false;
};

struct LogOptions {
  std::string container;
  std::optional<std::string> since_time; // RFC 3339
  std::optional<int64_t> since_seconds;
  std::optional<int64_t> limit_bytes;
  bool timestamps = false;
  // The log of the container's previous instance (the one that ended at its last restart).
  // A container without one is an ErrorCode::api error with http_status 400 ("previous
  // terminated container ... not found").
  bool previous = false;
};

// One SelfSubjectAccessReview question.
struct AccessCheck {
  std::string verb; // "list", "patch", ...
  std::string group;
  std::string resource;
  std::string namespace_name; // "" = cluster-wide
  std::string subresource;
};

class KubeApi {
public:
  virtual ~KubeApi() = default;

  // The server URL this client talks to (for messages).
  virtual std::string server() const = 0;

  // GET /version.
  virtual Result<nlohmann::json> version() = 0;

  // Finds the resource serving apiVersion+kind via discovery (cached for the client's
  // life). nullopt when the group, version or kind is not served: an answer, not an error.
  virtual Result<std::optional<ResourceInfo>> resolve(const std::string& api_version,
                                                      const std::string& kind) = 0;

  // Names of every API group the server serves ("apps", "cilium.io", ...).
  virtual Result<std::vector<std::string>> api_groups() = 0;

  virtual Result<nlohmann::json>
  get(const ResourceInfo& resource, const std::string& namespace_name, const std::string& name) = 0;

  // Every item, following `continue` pages (a 410 Expired restarts the list). Items carry
  // apiVersion and kind. namespace_name "" lists across all namespaces.
  virtual Result<std::vector<nlohmann::json>> list(const ResourceInfo& resource,
                                                   const std::string& namespace_name,
                                                   const ListOptions& options = {}) = 0;

  // Server-side apply of one object (apiVersion, kind, metadata.name[, namespace] set).
  // Returns the object as stored (or as it would be, with dry_run).
  virtual Result<nlohmann::json> apply(const nlohmann::json& object,
                                       const ApplyOptions& options) = 0;

  // Applies many objects concurrently; results are in the order of `objects`.
  virtual std::vector<Result<nlohmann::json>> apply_all(const std::vector<nlohmann::json>& objects,
                                                        const ApplyOptions& options) = 0;

  virtual Result<void> remove(const ResourceInfo& resource, const std::string& namespace_name,
                              const std::string& name, const DeleteOptions& options = {}) = 0;

  // Creates (POST) an object; for seeding tests and for the few objects netpol creates.
  virtual Result<nlohmann::json> create(const nlohmann::json& object) = 0;

  // Replaces the status subresource (PUT .../status); tests use it to play controllers.
  virtual Result<nlohmann::json> replace_status(const nlohmann::json& object) = 0;

  // Streams a container's log to `on_data` in chunks as they arrive (never the whole log
  // in memory). `on_data` returns false to stop early (not an error).
  virtual Result<void> stream_logs(const std::string& namespace_name, const std::string& pod,
                                   const LogOptions& options,
                                   const std::function<bool(std::string_view)>& on_data) = 0;

  // SelfSubjectAccessReview: may the current user do this?
  virtual Result<bool> can_i(const AccessCheck& check) = 0;

  // Number of HTTP requests sent so far (for request budgets in tests and benchmarks).
  virtual uint64_t request_count() const = 0;

  // What went over the wire so far: requests, round trips (requests sent together count
  // once) and connections opened. Fakes report requests only.
  struct Traffic {
    uint64_t requests = 0;
    uint64_t round_trips = 0;
    uint64_t connections = 0;
  };
  virtual Traffic traffic() const { return {request_count(), 0, 0}; }
};

inline bool is_not_found(const Error& e) {
  return e.http_status == 404;
}
inline bool is_forbidden(const Error& e) {
  return e.http_status == 403;
}
inline bool is_conflict(const Error& e) {
  return e.http_status == 409;
}
// A 403 for user system:anonymous: the server did not accept the credentials at all (an
// expired client certificate, an unknown token), which is an authentication failure.
inline bool is_anonymous(const Error& e) {
  return e.http_status == 403 && e.message.find("\"system:anonymous\"") != std::string::npos;
}

// "Kind/ns/name" or "Kind/name" for an object, for messages.
std::string describe(const nlohmann::json& object);

} // namespace netpol::kube
