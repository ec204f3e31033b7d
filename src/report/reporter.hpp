// Progress for humans on stderr: named phases that end in ✓ (done), ✗ (failed) or
// – (skipped), progress lines during long waits, warnings. Results never go here (stdout),
// and diagnostics go to spdlog. In GitLab CI each phase is a collapsible log section.
#pragma once

#include <chrono>
#include <ostream>
#include <string>
#include <string_view>

namespace netpol::report {

enum class ReporterStyle {
  plain,  // not a terminal: one line per event, no colour
  tty,    // interactive terminal: colour unless --no-color
  gitlab, // GITLAB_CI is set: phases become collapsible sections
};

class Reporter;

// A running phase. Ends with done(), failed() or skipped(); a phase destroyed without
// an ending (an early return) is reported as failed, so no phase is left dangling.
class Phase {
public:
  Phase(Phase&& other) noexcept;
  Phase& operator=(Phase&&) = delete;
  Phase(const Phase&) = delete;
  ~Phase();

  void done(std::string_view summary = {});
  void failed(std::string_view reason);
  void skipped(std::string_view reason);
  // A line of progress inside the phase ("waiting for cilium: 2/3 ready").
  void progress(std::string_view line);

private:
  friend class Reporter;
  Phase(Reporter* reporter, std::string name, std::string section_id);
  void finish(std::string_view mark, std::string_view text);

  Reporter* m_reporter;
  std::string m_name;
  std::string m_section_id;
  std::chrono::steady_clock::time_point m_started;
  bool m_open = true;
};

class Reporter {
public:
  Reporter(std::ostream& err, ReporterStyle style, bool quiet, bool color);

  // Starts a named phase ("Detecting network provider").
  Phase phase(std::string name);
  void warn(std::string_view message);
  void info(std::string_view message);

  ReporterStyle style() const { return m_style; }

private:
  friend class Phase;
  void line(std::string_view text);
  std::string paint(std::string_view text, std::string_view ansi) const;

  std::ostream& m_err;
  ReporterStyle m_style;
  bool m_quiet;
  bool m_color;
  int m_sections = 0;
};

} // namespace netpol::report
