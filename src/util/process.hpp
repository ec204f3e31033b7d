// Child processes (helm, and any other tool netpol drives) started without a shell, so no
// argument is ever re-parsed: argv goes to posix_spawn as given.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "util/duration.hpp"
#include "util/error.hpp"

namespace netpol {

struct ProcessOptions {
  // Variables set (or replaced) in the child's environment; the rest is inherited.
  std::map<std::string, std::string> env;
  // Kill the child (SIGTERM, then SIGKILL after 5 s) when it runs longer; nullopt = no limit.
  std::optional<Duration> timeout;
  // After a cancellation request (util/cancel), how long the child may take to end after
  // SIGTERM before it gets SIGKILL.
  Duration cancel_grace = std::chrono::seconds(3);
  // The most bytes kept of each of stdout and stderr; 0 = no limit. A child that writes more
  // is stopped like a timed-out one (SIGTERM to its group, SIGKILL after 5 s) and its result
  // says so (output_limit_hit); what it wrote up to the limit is kept.
  size_t max_output_bytes = 0;
};

struct ProcessResult {
  int exit_code = -1;     // the child's exit status; 128+N when killed by signal N
  bool timed_out = false; // true when ProcessOptions::timeout killed it
  // true when it wrote more than ProcessOptions::max_output_bytes to stdout or stderr and was
  // stopped for it
  bool output_limit_hit = false;
  std::string out; // everything the child wrote to stdout
  std::string err; // everything the child wrote to stderr
};

// Runs argv[0] (a path; see find_executable) with argv and waits for it, capturing stdout and
// stderr whole. stdin is /dev/null. The child runs in a process group of its own, with the
// default signal dispositions and no signal blocked, so that it can be stopped with everything
// it started (helm's own children) and a terminal's Ctrl-C reaches netpol alone.
// A child that starts and fails is a ProcessResult with its exit code, not an Error; Error
// (ErrorCode::io) means it could not be started at all. When cancellation is requested while
// it runs, its group gets SIGTERM, then SIGKILL after `cancel_grace`, and the result is
// Error(ErrorCode::cancelled) once it has ended.
Result<ProcessResult> run_process(const std::vector<std::string>& argv,
                                  const ProcessOptions& options = {});

// Resolves a program name the way a shell would: a name containing '/' is taken as a path;
// otherwise each directory of `path_variable` (":"-separated, the value of PATH) is tried.
// Returns the path of an executable regular file, or nullopt.
std::optional<std::string> find_executable(const std::string& name,
                                           const std::string& path_variable);

} // namespace netpol
