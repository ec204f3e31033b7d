#include "cilium/helm.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <regex>
#include <unistd.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "cilium/chart_archive.hpp"
#include "util/log.hpp"
#include "util/process.hpp"
#include "util/yaml.hpp"

namespace netpol::cilium {
namespace fs = std::filesystem;

namespace {

std::string join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += sep;
    out += p;
  }
  return out;
}

// helm prints "Error: <message>" as its last word; keep that line, redacted.
std::string helm_message(const ProcessResult& r) {
  std::string text = r.err.empty() ? r.out : r.err;
  std::string last_error;
  std::string last_line;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.rfind("Error: ", 0) == 0) {
      last_error = line.substr(7);
    }
    if (!line.empty()) last_line = line;
    start = end + 1;
  }
  std::string message = !last_error.empty() ? last_error : last_line;
  if (message.empty()) {
    message = r.timed_out ? "no answer (killed after the timeout)"
                          : fmt::format("exited with status {} and no message", r.exit_code);
  } else if (r.timed_out) {
    message += " (killed after the timeout)";
  }
  return log::redact(message);
}

bool is_release_not_found(const ProcessResult& r) {
  return r.err.find("release: not found") != std::string::npos;
}

Result<ProcessResult> run_helm(const HelmOptions& options, const std::vector<std::string>& argv) {
  spdlog::debug("running {}", log::redact(display_command(argv)));
  ProcessOptions po;
  po.env = helm_environment(options);
  // helm's own --timeout first: it then fails (and on helm 4 rolls back) by itself.
  po.timeout = options.timeout + std::chrono::seconds(30);
  auto r = run_process(argv, po);
  if (!r) {
    Error e = r.error();
    e.message = fmt::format("running helm ({}): {}", options.helm, e.message);
    return fail(std::move(e));
  }
  spdlog::debug("helm exited {}; stderr: {}", r->exit_code, log::redact(r->err));
  return r;
}

// Go's duration syntax, whole seconds: "600s".
std::string helm_duration(Duration d) {
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(d).count();
  return fmt::format("{}s", std::max<long long>(seconds, 1));
}

std::vector<std::string> cluster_args(const HelmOptions& options) {
  std::vector<std::string> args = {"--namespace", options.namespace_name};
  if (options.kubeconfig_paths.size() == 1) {
    args.insert(args.end(), {"--kubeconfig", options.kubeconfig_paths.front()});
  }
  if (!options.kube_context.empty()) {
    args.insert(args.end(), {"--kube-context", options.kube_context});
  }
  return args;
}

// Deletes the temporary values file on every path out of upgrade_install.
class TempFile {
public:
  TempFile() = default;
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  ~TempFile() {
    if (!m_path.empty()) ::unlink(m_path.c_str());
  }

  Result<void> create(std::string_view content) {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") +
                          "/netpol-cilium-values-XXXXXX.yaml";
    // mkstemps creates the file with mode 0600: values may hold credentials.
    const int fd = ::mkstemps(pattern.data(), 5);
    if (fd < 0) {
      return fail(ErrorCode::io, fmt::format("creating {}: {}", pattern, std::strerror(errno)));
    }
    m_path = pattern;
    size_t written = 0;
    while (written < content.size()) {
      const ssize_t n = ::write(fd, content.data() + written, content.size() - written);
      if (n < 0) {
        if (errno == EINTR) continue;
        const int saved = errno;
        ::close(fd);
        return fail(ErrorCode::io, fmt::format("writing {}: {}", m_path, std::strerror(saved)));
      }
      written += static_cast<size_t>(n);
    }
    if (::close(fd) != 0) {
      return fail(ErrorCode::io, fmt::format("writing {}: {}", m_path, std::strerror(errno)));
    }
    return {};
  }
  const std::string& path() const { return m_path; }

private:
  std::string m_path;
};

} // namespace

Result<std::string> find_helm(const std::optional<std::string>& configured,
                              const std::string& path_variable) {
  const std::string name = configured && !configured->empty() ? *configured : "helm";
  if (auto found = find_executable(name, path_variable)) {
    return *found;
  }
  Error e(ErrorCode::config, name.find('/') != std::string::npos
                                 ? fmt::format("helm not found: {} is not an executable file", name)
                                 : fmt::format("helm not found: no executable '{}' on PATH", name));
  e.details.push_back("Install helm 3 or 4, or point netpol at it with --helm PATH (NETPOL_HELM).");
  return fail(std::move(e));
}

Result<int> helm_major_version(const std::string& helm) {
  ProcessOptions po;
  po.timeout = std::chrono::seconds(30);
  auto r = run_process({helm, "version", "--template", "{{.Version}}"}, po);
  if (!r) {
    return fail(r.error().wrap(fmt::format("running {} version", helm)));
  }
  std::string out = r->out;
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r' || out.back() == ' '))
    out.pop_back();
  static const std::regex k_version(R"(v?(\d+)\.\d+\.\d+.*)");
  std::smatch m;
  if (r->exit_code != 0 || !std::regex_match(out, m, k_version)) {
    Error e(ErrorCode::config, fmt::format("{} version printed no helm version ({})", helm,
                                           r->exit_code != 0 ? helm_message(*r) : out));
    e.details.push_back("Point netpol at helm 3 or 4 with --helm PATH (NETPOL_HELM).");
    return fail(std::move(e));
  }
  const int major = std::stoi(m[1].str());
  if (major != 3 && major != 4) {
    Error e(ErrorCode::config, fmt::format("{} is helm {}; netpol drives helm 3 and 4", helm, out));
    e.details.push_back("Point netpol at helm 3 or 4 with --helm PATH (NETPOL_HELM).");
    return fail(std::move(e));
  }
  return major;
}

Result<Chart> resolve_chart(const std::string& ref, const std::optional<std::string>& version) {
  Chart chart;
  chart.ref = ref;
  if (ref.empty()) {
    return fail(ErrorCode::config, "empty chart reference (--chart / CILIUM_CHART)");
  }
  const auto remote_version = [&]() -> std::string {
    return version && !version->empty() ? *version : defaults::k_chart_version;
  };
  if (ref.rfind("oci://", 0) == 0) {
    chart.kind = ChartKind::oci;
    chart.version = remote_version();
    chart.chart_version = chart.version;
    return chart;
  }
  if (ref.rfind("https://", 0) == 0 || ref.rfind("http://", 0) == 0) {
    // A chart archive URL names one version; helm takes no --version for it.
    chart.kind = ChartKind::url;
    return chart;
  }
  std::error_code ec;
  const bool looks_like_path = ref.front() == '/' || ref.rfind("./", 0) == 0 ||
                               ref.rfind("../", 0) == 0 || ref.ends_with(".tgz") ||
                               fs::exists(ref, ec);
  static const std::regex k_repo_chart(R"([A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*)");
  if (!looks_like_path && std::regex_match(ref, k_repo_chart)) {
    chart.kind = ChartKind::repository;
    chart.version = remote_version();
    chart.chart_version = chart.version;
    return chart;
  }
  chart.kind = ChartKind::local;
  if (!fs::exists(ref, ec)) {
    Error e(ErrorCode::config, fmt::format("chart {} not found", ref));
    e.details.push_back("--chart (CILIUM_CHART) takes a chart directory or .tgz, repo/chart "
                        "(after 'helm repo add'), or oci://quay.io/cilium/charts/cilium.");
    return fail(std::move(e));
  }
  std::optional<Result<std::vector<YamlDocument>>> parsed;
  std::string chart_yaml;
  if (fs::is_directory(ref, ec)) {
    chart_yaml = (fs::path(ref) / "Chart.yaml").string();
    parsed = load_yaml_file(chart_yaml, ErrorCode::config);
  } else {
    auto text = read_chart_yaml(ref);
    if (!text) return fail(text.error());
    chart_yaml = ref + ":Chart.yaml";
    parsed = parse_yaml_documents(*text, chart_yaml, ErrorCode::config);
    auto digest = sha256_file(ref);
    if (!digest) return fail(digest.error());
    chart.digest = *digest;
  }
  {
    auto& docs = *parsed;
    if (!docs) {
      return fail(docs.error().wrap(fmt::format("chart {}", ref)));
    }
    if (docs->empty() || !docs->front().value.is_object() ||
        !docs->front().value.contains("version")) {
      return fail(ErrorCode::config, fmt::format("{}: no chart version", chart_yaml));
    }
    const auto& v = docs->front().value["version"];
    chart.chart_version = v.is_string() ? v.get<std::string>() : v.dump();
  }
  if (version && !version->empty() && chart.chart_version) {
    std::string wanted = *version;
    if (!wanted.empty() && wanted.front() == 'v') wanted.erase(0, 1);
    if (wanted != *chart.chart_version) {
      Error e(ErrorCode::config, fmt::format("chart {} is version {}, not the requested {}", ref,
                                             *chart.chart_version, *version));
      e.details.push_back("A chart directory holds one version: drop --cilium-version "
                          "(CILIUM_VERSION), or use --chart oci://quay.io/cilium/charts/cilium.");
      return fail(std::move(e));
    }
  }
  return chart;
}

std::vector<std::string> upgrade_command(const HelmOptions& options, const Chart& chart,
                                         const std::string& values_path) {
  std::vector<std::string> argv = {options.helm, "upgrade", "--install", options.release,
                                   chart.ref};
  const auto cluster = cluster_args(options);
  argv.insert(argv.end(), cluster.begin(), cluster.end());
  if (chart.version) {
    argv.insert(argv.end(), {"--version", *chart.version});
  }
  // kube-system always exists; another --cilium-namespace may not yet.
  argv.insert(argv.end(), {"--values", values_path, "--reset-values", "--create-namespace",
                           "--timeout", helm_duration(options.timeout)});
  if (options.major >= 4) {
    argv.insert(argv.end(), {"--server-side=false", "--wait=hookOnly"});
  }
  return argv;
}

std::map<std::string, std::string> helm_environment(const HelmOptions& options) {
  std::map<std::string, std::string> env;
  if (options.kubeconfig_paths.size() > 1) {
    env["KUBECONFIG"] = join(options.kubeconfig_paths, ":");
  }
  return env;
}

std::string display_command(const std::vector<std::string>& argv) {
  static const std::regex k_plain(R"([A-Za-z0-9_./:=@%+,-]+)");
  std::string out;
  for (const auto& arg : argv) {
    if (!out.empty()) out += ' ';
    if (std::regex_match(arg, k_plain)) {
      out += arg;
      continue;
    }
    out += '\'';
    for (char c : arg) {
      if (c == '\'') {
        out += "'\\''";
      } else {
        out += c;
      }
    }
    out += '\'';
  }
  return out;
}

Result<ReleaseInfo> release_status(const HelmOptions& options) {
  const auto cluster = cluster_args(options);
  const std::string where = options.namespace_name + "/" + options.release;
  std::vector<std::string> argv = {options.helm,    "get",      "metadata",
                                   options.release, "--output", "json"};
  argv.insert(argv.end(), cluster.begin(), cluster.end());
  auto r = run_helm(options, argv);
  if (!r) return fail(r.error());
  ReleaseInfo info;
  if (r->exit_code != 0) {
    if (is_release_not_found(*r)) return info;
    return fail(ErrorCode::io, fmt::format("helm get metadata {}: {}", where, helm_message(*r)));
  }
  try {
    const auto j = nlohmann::json::parse(r->out);
    info.exists = true;
    info.status = j.value("status", std::string());
    info.revision = j.value("revision", 0);
    info.chart_version = j.value("version", std::string());
  } catch (const nlohmann::json::exception& e) {
    return fail(ErrorCode::io,
                fmt::format("helm get metadata {}: unreadable output: {}", where, e.what()));
  }

  argv = {options.helm, "get", "values", options.release, "--output", "json"};
  argv.insert(argv.end(), cluster.begin(), cluster.end());
  r = run_helm(options, argv);
  if (!r) return fail(r.error());
  if (r->exit_code != 0) {
    return fail(ErrorCode::io, fmt::format("helm get values {}: {}", where, helm_message(*r)));
  }
  try {
    // A release given no values prints null.
    auto values = nlohmann::json::parse(r->out);
    if (values.is_object()) info.values = std::move(values);
  } catch (const nlohmann::json::exception& e) {
    return fail(ErrorCode::io,
                fmt::format("helm get values {}: unreadable output: {}", where, e.what()));
  }
  return info;
}

Result<void> rollback(const HelmOptions& options, int revision) {
  std::vector<std::string> argv = {options.helm, "rollback", options.release,
                                   std::to_string(revision)};
  const auto cluster = cluster_args(options);
  argv.insert(argv.end(), cluster.begin(), cluster.end());
  argv.insert(argv.end(), {"--timeout", helm_duration(options.timeout)});
  if (options.major >= 4) argv.push_back("--wait=hookOnly");
  auto r = run_helm(options, argv);
  if (!r) return fail(r.error());
  if (r->exit_code != 0) {
    return fail(ErrorCode::io, fmt::format("helm rollback {}/{} {}: {}", options.namespace_name,
                                           options.release, revision, helm_message(*r)));
  }
  return {};
}

Result<std::string> upgrade_install(const HelmOptions& options, const Chart& chart,
                                    const nlohmann::json& values) {
  TempFile file;
  if (auto created = file.create(to_yaml(values)); !created) {
    return fail(created.error());
  }
  auto r = run_helm(options, upgrade_command(options, chart, file.path()));
  if (!r) return fail(r.error());
  if (r->exit_code != 0) {
    Error e(ErrorCode::io,
            fmt::format("helm upgrade --install {}/{} (chart {}): {}", options.namespace_name,
                        options.release, chart.ref, helm_message(*r)));
    if (chart.kind == ChartKind::repository && r->err.find("repo ") != std::string::npos &&
        r->err.find("not found") != std::string::npos) {
      e.details.push_back(fmt::format("Add the repository first (helm repo add {} "
                                      "https://helm.cilium.io), or use --chart "
                                      "oci://quay.io/cilium/charts/cilium.",
                                      chart.ref.substr(0, chart.ref.find('/'))));
    }
    return fail(std::move(e));
  }
  return log::redact(r->out);
}

Result<bool> uninstall(const HelmOptions& options) {
  std::vector<std::string> argv = {options.helm, "uninstall", options.release};
  const auto cluster = cluster_args(options);
  argv.insert(argv.end(), cluster.begin(), cluster.end());
  auto r = run_helm(options, argv);
  if (!r) return fail(r.error());
  if (r->exit_code != 0) {
    if (is_release_not_found(*r)) return false;
    return fail(ErrorCode::io, fmt::format("helm uninstall {}/{}: {}", options.namespace_name,
                                           options.release, helm_message(*r)));
  }
  return true;
}

} // namespace netpol::cilium
