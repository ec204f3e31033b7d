// Where drop-log lines come from: a file or stdin (--from-file), or the Cilium agents' pod
// logs. Commands depend on this interface only, so a source can be swapped in tests.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/error.hpp"

namespace netpol::droplog {

// How far back one source of lines reaches, against the window's start: pods/log serves only
// a container's newest log file (the kubelet rotates them, by default at 10 MiB, keeping 5)
// and, after a restart, the previous container's log only on request. Flows from before the
// oldest line still served are out of reach.
struct Coverage {
  std::string source;               // "kube-system/cilium-abcde", "file export.jsonl"
  std::optional<int64_t> oldest_ns; // the oldest line still served; nullopt when unknown
  bool previous_log = false;        // the previous container's log was read too
  // The oldest line is after the window's start (or unknown, or nothing could be read):
  // flows from the start of the window up to it may be missing.
  bool gap = false;
};

struct SourceReport {
  std::string description;           // "file drop.jsonl", "3 cilium-agent pods"
  std::vector<std::string> warnings; // partial failures (one agent pod unreadable, ...)
  std::vector<Coverage> coverage;    // per agent pod; empty when the source cannot tell
};

class DropSource {
public:
  virtual ~DropSource() = default;
  // Passes every line (without '\n') to `on_line`, never two calls at once. An Error when
  // nothing could be read at all; partial failures are warnings in the report.
  virtual Result<SourceReport> read(const std::function<void(std::string_view)>& on_line) = 0;
};

// A file, or standard input for "-". Reads in 1 MiB chunks, one chunk ahead on a second
// thread (the kernel copies the next chunk while lines are parsed): memory does not grow with
// the file. A missing or unreadable file is ErrorCode::io naming the path.
class FileSource final : public DropSource {
public:
  explicit FileSource(std::string path) : m_path(std::move(path)) {}
  Result<SourceReport> read(const std::function<void(std::string_view)>& on_line) override;

private:
  std::string m_path;
};

} // namespace netpol::droplog
