// What a workflow below cli/ speaks through (STYLE: three output channels): results on the
// results stream in the format asked for, progress and warnings through the reporter, and
// the reports the command owes (SPEC §5) in its report set and output directory. The command
// line builds one per command (cli::Context::session()); tests build one over string streams.
#pragma once

#include <ostream>

#include "report/output_dir.hpp"
#include "report/report_set.hpp"
#include "report/reporter.hpp"

namespace netpol::report {

// stdout's format (--format).
enum class Format { text, json };

struct Session {
  std::ostream& out; // results: a table or summary (text), one JSON document (json)
  Format format;
  Reporter& reporter; // progress, warnings (stderr)
  ReportSet& reports; // JUnit cases and the files the command owes, written on every way out
  const OutputDir& output;
};

} // namespace netpol::report
