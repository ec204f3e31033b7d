#include "report/reporter.hpp"

#include <cctype>

#include <fmt/format.h>

#include "util/log.hpp"

namespace netpol::report {
namespace {

std::string section_slug(std::string_view name, int index) {
  std::string slug = "netpol_" + std::to_string(index) + "_";
  for (char c : name) {
    slug += std::isalnum(static_cast<unsigned char>(c)) ? static_cast<char>(std::tolower(c)) : '_';
  }
  return slug;
}

// What the reporter prints of its callers' text: redacted, and with terminal controls shown
// escaped (a warning may quote a name from the cluster or a policy file).
std::string clean(std::string_view text) {
  return log::printable(log::redact(text), /*keep_newlines=*/true);
}

long long unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

} // namespace

Phase::Phase(Reporter* reporter, std::string name, std::string section_id)
    : m_reporter(reporter), m_name(clean(name)), m_section_id(std::move(section_id)),
      m_started(std::chrono::steady_clock::now()) {}

Phase::Phase(Phase&& other) noexcept
    : m_reporter(other.m_reporter), m_name(std::move(other.m_name)),
      m_section_id(std::move(other.m_section_id)), m_started(other.m_started),
      m_open(other.m_open) {
  other.m_open = false;
}

Phase::~Phase() {
  if (m_open) {
    failed("did not finish");
  }
}

void Phase::done(std::string_view summary) {
  finish("✓", summary);
}
void Phase::failed(std::string_view reason) {
  finish("✗", reason);
}
void Phase::skipped(std::string_view reason) {
  finish("–", reason);
}

void Phase::progress(std::string_view line) {
  if (m_open) {
    m_reporter->line(fmt::format("  {}", clean(line)));
  }
}

void Phase::finish(std::string_view mark, std::string_view text) {
  if (!m_open) {
    return;
  }
  m_open = false;
  const auto seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - m_started).count();
  std::string colored_mark(mark);
  if (mark == "✓") colored_mark = m_reporter->paint(mark, "32");
  if (mark == "✗") colored_mark = m_reporter->paint(mark, "31");
  if (mark == "–") colored_mark = m_reporter->paint(mark, "33");
  std::string line = fmt::format("{} {}", colored_mark, m_name);
  if (!text.empty()) {
    line += fmt::format(": {}", clean(text));
  }
  line += fmt::format(" ({:.1f}s)", seconds);
  m_reporter->line(line);
  if (m_reporter->m_style == ReporterStyle::gitlab && !m_reporter->m_quiet) {
    m_reporter->m_err << fmt::format("\x1b[0Ksection_end:{}:{}\r\x1b[0K", unix_now(), m_section_id)
                      << std::flush;
  }
}

Reporter::Reporter(std::ostream& err, ReporterStyle style, bool quiet, bool color)
    : m_err(err), m_style(style), m_quiet(quiet), m_color(color && style != ReporterStyle::plain) {}

Phase Reporter::phase(std::string name) {
  name = clean(name);
  std::string section = section_slug(name, ++m_sections);
  if (!m_quiet) {
    if (m_style == ReporterStyle::gitlab) {
      m_err << fmt::format("\x1b[0Ksection_start:{}:{}[collapsed=true]\r\x1b[0K{}\n", unix_now(),
                           section, name);
    } else {
      m_err << fmt::format("{} {}…\n", paint("▸", "36"), name);
    }
    m_err.flush();
  }
  return Phase(this, std::move(name), std::move(section));
}

void Reporter::warn(std::string_view message) {
  // Warnings are shown even with --quiet: they are about the result.
  m_err << paint("warning:", "33") << " " << clean(message) << "\n" << std::flush;
}

void Reporter::info(std::string_view message) {
  line(clean(message));
}

void Reporter::line(std::string_view text) {
  if (!m_quiet) {
    m_err << text << "\n" << std::flush;
  }
}

std::string Reporter::paint(std::string_view text, std::string_view ansi) const {
  if (!m_color) {
    return std::string(text);
  }
  return fmt::format("\x1b[{}m{}\x1b[0m", ansi, text);
}

} // namespace netpol::report
