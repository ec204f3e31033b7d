// Connection settings for the API server: kubeconfig files merged the way kubectl merges
// them, or the in-cluster service account. The result is plain data (server URL, TLS
// material in memory, one way to authenticate); kube/client turns it into requests.
//
// Loading rules (kubectl's):
//   - explicit files (`--kubeconfig a:b`) must exist; files from KUBECONFIG that are missing
//     are skipped (an error only when none exists); without either, ~/.kube/config; without
//     that, the in-cluster service account (KUBERNETES_SERVICE_HOST/PORT).
//   - merging: the first file that defines a named cluster, user or context wins, whole;
//     current-context comes from the first file that sets it.
//   - context: the requested one (--context / KUBE_CONTEXT), else current-context, else the
//     only context; otherwise an error listing the choices.
//   - file references (certificate-authority, client-certificate, client-key, tokenFile, and
//     exec.command when it contains '/') are relative to the folder of the file defining
//     them; `*-data` fields (base64) win over the file fields.
// Every failure is ErrorCode::config with "<file>:<line>: <field>: <problem>" (or the file
// alone when there is no line), never the value of a secret.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/env.hpp"
#include "util/error.hpp"

namespace netpol::kube {

// A `user.exec` credential plugin (client.authentication.k8s.io/v1 or v1beta1).
struct ExecConfig {
  std::string command; // resolved against the kubeconfig's folder when it contains '/'
  std::vector<std::string> args;
  std::vector<std::pair<std::string, std::string>> env; // added to the process environment
  std::string api_version;                              // client.authentication.k8s.io/v1...
  std::string install_hint;
  std::string interactive_mode; // Never | IfAvailable | Always ("" for v1beta1)
  bool provide_cluster_info = false;
  nlohmann::json cluster_config; // the cluster's client.authentication.k8s.io/exec extension
  std::string where;             // "file:line" of the exec stanza, for messages
};

// How requests authenticate; several may be set (a client certificate plus a token).
struct Credentials {
  std::string token;      // bearer token (kubeconfig `token`, or read from token_file)
  std::string token_file; // absolute path, re-read periodically (projected tokens rotate)
  std::string username;   // basic auth
  std::string password;
  std::string client_certificate_pem;
  std::string client_key_pem;
  std::optional<ExecConfig> exec;
  std::string impersonate_user; // `as`
  std::vector<std::string> impersonate_groups;
};

struct ClientConfig {
  std::string server;         // https://host:port[/path-prefix], no trailing '/'
  std::string context_name;   // "" for in-cluster
  std::string source;         // for messages: "context 'x' in a.yaml" or "in-cluster config"
  std::string namespace_name; // the context's namespace; "" when it sets none
  std::string ca_pem;         // certificate authorities to trust; "" = system defaults
  bool insecure_skip_tls_verify = false;
  std::string tls_server_name; // name to send in SNI and verify against the certificate
  std::string proxy_url;
  bool disable_compression = false; // no Accept-Encoding (gzip costs CPU on fast links)
  Credentials credentials;
};

struct LoadOptions {
  // Files from --kubeconfig (`explicit_paths = true`: each must exist) or KUBECONFIG
  // (missing ones skipped). Empty: ~/.kube/config, then in-cluster.
  std::vector<std::string> paths;
  bool explicit_paths = false;
  std::string context;              // "" = current-context, else the only one
  const Environment* env = nullptr; // HOME, KUBERNETES_SERVICE_HOST/PORT, POD_NAMESPACE
  std::string service_account_dir = "/var/run/secrets/kubernetes.io/serviceaccount";
};

// Finds and reads the configuration as described above.
Result<ClientConfig> load_client_config(const LoadOptions& options);

// Merges already-read kubeconfig documents (text + the path it came from, in precedence
// order) and resolves `context`. For tests and the fuzzer; load_client_config uses it.
struct KubeconfigText {
  std::string text;
  std::string path;
};
Result<ClientConfig> resolve_kubeconfigs(const std::vector<KubeconfigText>& files,
                                         const std::string& context);

// The in-cluster service account config (used when no kubeconfig exists).
Result<ClientConfig> load_in_cluster_config(const Environment& env,
                                            const std::string& service_account_dir);

// Whether `url`'s host is the loopback interface, where plain http carries nothing off the
// machine (kubectl proxy): `localhost`, `[::1]` or a dotted-decimal address in 127.0.0.0/8,
// as written and as libcurl parses it. Other spellings of those addresses (0x7f.1,
// 2130706433, [::ffff:127.0.0.1]) and names that merely start with "127." are not.
bool is_loopback_url(const std::string& url);

// Decodes standard base64 (whitespace ignored); nullopt when malformed.
std::optional<std::string> decode_base64(std::string_view text);
std::string encode_base64(std::string_view bytes);

} // namespace netpol::kube
