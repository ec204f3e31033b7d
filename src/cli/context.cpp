#include "cli/context.hpp"

namespace netpol::cli {
namespace {

report::ReporterStyle style_for(const Io& io) {
  if (io.env.get("GITLAB_CI").has_value()) {
    return report::ReporterStyle::gitlab;
  }
  return io.err_is_tty ? report::ReporterStyle::tty : report::ReporterStyle::plain;
}

} // namespace

Context::Context(GlobalOptions global, Io io)
    : m_global(std::move(global)), m_io(io),
      m_reporter(io.err, style_for(io), m_global.quiet, m_global.color),
      m_output(m_global.output_dir) {}

} // namespace netpol::cli
