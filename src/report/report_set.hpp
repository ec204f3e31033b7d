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

  // A step of a larger command (run's apply or drop log) failed and the command goes on: the
  // step's JUnit report gets the failure (unless it has one), and the step's `files` not
  // written get their stand-ins now ("not written: the apply step of netpol run failed: …").
  Result<void> settle(const std::string& subcommand, std::initializer_list<const char*> files,
                      const Error& error);

  // A step of a larger command does not run, for a reason found on the way (run's drop log
  // where the provider exports none): the step's JUnit report gets a skipped case `name`
  // saying why, and the step's `files` not written get stand-ins saying why now
  // ("not written: <why>"). A later failure of the command is not added to that report.
  Result<void> skip(const std::string& subcommand, const std::string& name,
                    std::initializer_list<const char*> files, const std::string& why);

  // A step of a larger command ran to its end (run's install, detection, apply or drop log):
  // its JUnit report keeps the step's own result, and a later failure of the command is not
  // added to it (a cancellation still is, as to every report).
  void completed(const std::string& subcommand);
  // Writes every JUnit report and the stand-ins. With `error` (the command failed), each
  // JUnit report without a failed case (and not skipped or completed) gets one ("apply succeeded",
  // failed) that carries the error, and after a cancellation every report gets a "cancelled" case.
  // Returns the first write failure after trying all.
  Result<void> finish(const Error* error);

private:
  // Stand-ins saying `line` for the owed files among `only` (all owed files when null) that
  // are not written.
  Result<void> write_stand_ins(const std::string& line,
                               const std::initializer_list<const char*>* only = nullptr);

  const OutputDir& m_dir;
  std::string m_command;
  std::deque<JUnitReport> m_junit; // deque: references survive later insertions
  std::vector<std::string> m_owed;
  std::vector<std::string> m_skipped;   // subcommands whose step did not run, by skip()
  std::vector<std::string> m_completed; // subcommands whose step ran to its end
};

// What a stand-in for `name` holds, `line` saying why it is one ("not written: …"): a comment
// line, a JSON object {"error": line}, a page with the line, or, where any text would be read
// as a claim, an empty flow log or dotenv, an empty Code Quality array and an OpenMetrics
// "# EOF", by the file's type.
std::string stand_in(std::string_view name, const std::string& line);

} // namespace netpol::report
