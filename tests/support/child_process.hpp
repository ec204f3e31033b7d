// The netpol binary as a child process that a test can signal while it runs (what GitLab
// does to a cancelled job), with its output captured in files.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace netpol::test {

class ChildProcess {
public:
  // Starts `argv` (argv[0] a path) with the test's environment plus `env`; stdout and stderr
  // go to files in `dir`. Throws when it cannot start.
  ChildProcess(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
               const std::string& dir);
  ~ChildProcess(); // kills a child still running
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  void signal(int sig) const;
  // Waits up to `limit` for the child to end: its exit code, -N when signal N killed it
  // (the default action: the child did not handle it), nullopt when it still runs.
  std::optional<int> wait(std::chrono::milliseconds limit);
  std::string out() const;
  std::string err() const;

private:
  pid_t m_pid = -1;
  std::string m_out, m_err;
  bool m_done = false;
};

} // namespace netpol::test
