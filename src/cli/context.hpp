// What every subcommand receives: the parsed global options, the three output channels,
// the environment, and the report directory.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include <spdlog/common.h>

#include "kube/api.hpp"
#include "kube/kubeconfig.hpp"
#include "report/output_dir.hpp"
#include "report/report_set.hpp"
#include "report/reporter.hpp"
#include "report/session.hpp"
#include "util/duration.hpp"
#include "util/env.hpp"

namespace netpol::cli {

using OutputFormat = report::Format;

// SPEC §3 global options, after command line and environment fallbacks are applied.
struct GlobalOptions {
  std::vector<std::string> kubeconfig_paths; // --kubeconfig / KUBECONFIG, split on ':'
  std::string context;                       // --context / KUBE_CONTEXT; "" = current-context
  std::string namespace_name;                // -n / KUBE_NAMESPACE; "" = context's, else default
  std::string output_dir = "netpol-report";  // --output-dir / NETPOL_OUTPUT_DIR
  OutputFormat format = OutputFormat::text;  // --format
  spdlog::level::level_enum log_level = spdlog::level::warn; // --log-level / NETPOL_LOG_LEVEL
  // --request-timeout; nullopt when not given (kube's default applies), 0 for no limit.
  std::optional<Duration> request_timeout;
  bool color = true;  // false with --no-color / NO_COLOR
  bool quiet = false; // --quiet
};

// The process's streams and environment; tests pass string streams and a MapEnvironment.
struct Io {
  std::ostream& out; // results (text or JSON)
  std::ostream& err; // progress, warnings, errors
  const Environment& env;
  bool err_is_tty = false;
};

// When a command's options read the namespace (-n, else the kubeconfig context's): now, which
// needs a readable kubeconfig, or later, by the caller when it first uses the cluster (run: a
// bad kubeconfig is then detection's failure, with its reports).
enum class NamespaceWhen { now, later };

class Context {
public:
  // `command` names the subcommand in reports ("apply").
  Context(GlobalOptions global, Io io, const std::string& command = "");
  ~Context();

  const GlobalOptions& global() const { return m_global; }
  std::ostream& out() { return m_io.out; }
  const Environment& env() const { return m_io.env; }
  report::Reporter& reporter() { return m_reporter; }
  const report::OutputDir& output() const { return m_output; }
  // The command's reports: JUnit cases and the files it owes, written on every way out by
  // the dispatcher (cli::run), whatever the command returns.
  report::ReportSet& reports() { return m_reports; }
  // The channels a workflow below cli/ reports through (report/session.hpp).
  report::Session session() { return {m_io.out, m_global.format, m_reporter, m_reports, m_output}; }

  // Convenience: the environment variable's value, or nullopt when unset.
  std::optional<std::string> getenv(const std::string& name) const { return m_io.env.get(name); }

  // The cluster client, built on first use from --kubeconfig/KUBECONFIG, --context and
  // --request-timeout (no request is sent here). Commands that never call it (needs_cluster
  // false) need no kubeconfig. The pointer lives as long as the Context.
  Result<kube::KubeApi*> kube();
  // -n/KUBE_NAMESPACE, else the kubeconfig context's namespace, else "default".
  Result<std::string> namespace_name();
  // A debug line with the requests, round trips and connections of the command's client
  // (none when no client was built).
  void log_traffic() const;
  // Makes kube() return `api` instead of building a client (tests of commands).
  void set_kube(std::unique_ptr<kube::KubeApi> api) { m_kube = std::move(api); }
  // The connection settings kube() is built from (detection reads the context name as a
  // hint). Fails as kube() does on a bad or missing kubeconfig.
  Result<const kube::ClientConfig*> kube_config();

private:
  GlobalOptions m_global;
  Io m_io;
  report::Reporter m_reporter;
  report::OutputDir m_output;
  report::ReportSet m_reports;
  std::optional<Result<kube::ClientConfig>> m_kube_config;
  std::unique_ptr<kube::KubeApi> m_kube;
};

} // namespace netpol::cli
