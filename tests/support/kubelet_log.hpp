// A container log as a kubelet serves it through pods/log, for the stand-in kubelets of the
// tests and the demo. Like the container runtime's log file, a stored line may start with the
// time it was written ("2026-11-26T10:00:00.5Z line 1\n"): such a line is served with that
// time only for timestamps=true, and left out when it is before sinceTime. Lines without a
// time are served as they are. limitBytes cuts the answer.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "droplog/line_parser.hpp"
#include "droplog/timestamp.hpp"

namespace netpol::test {

inline std::string serve_container_log(const std::string& stored,
                                       const std::map<std::string, std::string>& params) {
  auto param = [&](const char* name) {
    auto it = params.find(name);
    return it == params.end() ? std::string() : it->second;
  };
  const bool timestamps = param("timestamps") == "true";
  std::optional<int64_t> since;
  if (const auto s = param("sinceTime"); !s.empty()) since = droplog::parse_rfc3339(s);
  std::string text;
  size_t at = 0;
  while (at < stored.size()) {
    size_t end = stored.find('\n', at);
    end = end == std::string::npos ? stored.size() : end + 1;
    std::string_view line(stored.data() + at, end - at);
    at = end;
    if (const auto t = droplog::log_line_time(line)) {
      if (since && *t < *since) continue;
      if (!timestamps) line.remove_prefix(line.find(' ') + 1);
    }
    text += line;
  }
  if (const auto limit = param("limitBytes"); !limit.empty()) {
    text = text.substr(0, std::stoul(limit));
  }
  return text;
}

} // namespace netpol::test
