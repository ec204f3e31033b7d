// The reports one command owes (SPEC §5: every file is written even when the command fails,
// is cancelled, or never reached the cluster). A command declares the files it writes, keeps
// its JUnit cases here, and writes its files as it goes; finish() then writes every JUnit
// report and, for each declared file the command did not get to write, a stand-in that says
// why. So no path out of a command (an early return, an error, a cancellation) loses a
// report, and no stale file from an earlier run is left looking current.
#pragma once

#include <deque>
#include <string>
#include <vector>

#include "report/junit.hpp"
#include "report/output_dir.hpp"
#include "util/error.hpp"

namespace netpol::report {

class ReportSet {
public:
  // `command` names the command in stand-ins ("netpol apply").
  ReportSet(const OutputDir& dir, std::string command);

  // The JUnit report written to junit-<subcommand>.xml by finish(); created on first use.
  // References stay valid for the life of the set.
  JUnitReport& junit(const std::string& subcommand);

  // Declares a file (plain name) the command writes on its way; finish() writes a stand-in
  // when it was not written.
  void owe(std::string name);
  void owe(std::initializer_list<const char*> names);

  // A step of a larger command (run's drop log) failed and the command goes on: the step's
  // JUnit report gets the failure (unless it has one), and the files owed so far that are
  // not written get their stand-ins now, saying why.
  Result<void> settle(const std::string& subcommand, const Error& error);

  // Writes every JUnit report and the stand-ins. With `error` (the command failed), each
  // JUnit report without a failed case gets one ("apply succeeded", failed) that carries the error, and after a
  // cancellation every report gets a "cancelled" case. Returns the first write failure after
  // trying all.
  Result<void> finish(const Error* error);

private:
  Result<void> write_stand_ins(const std::string& why);

  const OutputDir& m_dir;
  std::string m_command;
  std::deque<JUnitReport> m_junit; // deque: references survive later insertions
  std::vector<std::string> m_owed;
};

// What a stand-in for `name` holds when the command ended with `why`: a line of text, a JSON
// object {"error": …}, an empty flow log, or an OpenMetrics "# EOF", by the file's type.
std::string stand_in(std::string_view name, const std::string& command, const std::string& why);

} // namespace netpol::report
