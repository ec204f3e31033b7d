#include "cli/context.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "kube/client.hpp"

namespace netpol::cli {
namespace {

report::ReporterStyle style_for(const Io& io) {
  if (io.env.get("GITLAB_CI").has_value()) {
    return report::ReporterStyle::gitlab;
  }
  return io.err_is_tty ? report::ReporterStyle::tty : report::ReporterStyle::plain;
}

} // namespace

Context::Context(GlobalOptions global, Io io, const std::string& command)
    : m_global(std::move(global)), m_io(io),
      m_reporter(io.err, style_for(io), m_global.quiet, m_global.color),
      m_output(m_global.output_dir), m_reports(m_output, "netpol " + command) {}

Context::~Context() = default;

Result<const kube::ClientConfig*> Context::kube_config() {
  if (!m_kube_config) {
    kube::LoadOptions options;
    options.paths = m_global.kubeconfig_paths;
    // Files named by KUBECONFIG may be missing (kubectl skips them); a --kubeconfig file
    // must exist.
    std::vector<std::string> from_env;
    if (auto v = m_io.env.get("KUBECONFIG")) {
      std::string part;
      for (char c : *v + ":") {
        if (c != ':') {
          part += c;
        } else if (!part.empty()) {
          from_env.push_back(std::move(part));
          part.clear();
        }
      }
    }
    options.explicit_paths = !options.paths.empty() && options.paths != from_env;
    options.context = m_global.context;
    options.env = &m_io.env;
    m_kube_config = kube::load_client_config(options);
  }
  if (!*m_kube_config) return fail(m_kube_config->error());
  return &**m_kube_config;
}

Result<kube::KubeApi*> Context::kube() {
  if (!m_kube) {
    auto config = kube_config();
    if (!config) return fail(config.error());
    // On every run, not once: a CI log is read per job.
    if ((*config)->insecure_skip_tls_verify) {
      m_reporter.warn(fmt::format("TLS certificate of {} is not verified "
                                  "(insecure-skip-tls-verify in {}): anyone on the way can read "
                                  "and change what netpol sends; set certificate-authority instead",
                                  (*config)->server, (*config)->source));
    } else if ((*config)->server.rfind("http://", 0) == 0) {
      m_reporter.warn(fmt::format("{} is plain http: nothing netpol sends or receives is "
                                  "encrypted or verified",
                                  (*config)->server));
    }
    kube::ConnectOptions options;
    if (m_global.request_timeout) {
      options.request_timeout = m_global.request_timeout->count() == 0
                                    ? std::nullopt
                                    : std::optional<Duration>(*m_global.request_timeout);
    }
    options.env = &m_io.env;
    auto api = kube::connect(**config, options);
    if (!api) return fail(api.error());
    m_kube = std::move(*api);
  }
  return m_kube.get();
}

void Context::log_traffic() const {
  if (!m_kube) return;
  const auto t = m_kube->traffic();
  spdlog::debug("traffic: {} request(s) in {} round trip(s) over {} new connection(s)", t.requests,
                t.round_trips, t.connections);
}

Result<std::string> Context::namespace_name() {
  if (!m_global.namespace_name.empty()) return m_global.namespace_name;
  auto config = kube_config();
  if (!config) return fail(config.error());
  return (*config)->namespace_name.empty() ? std::string("default") : (*config)->namespace_name;
}

} // namespace netpol::cli
