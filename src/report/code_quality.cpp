#include "report/code_quality.hpp"

#include <charconv>
#include <set>

#include <nlohmann/json.hpp>

#include "util/hash.hpp"

namespace netpol::report {
namespace {

const char* to_string(CodeQualitySeverity severity) {
  switch (severity) {
  case CodeQualitySeverity::info:
    return "info";
  case CodeQualitySeverity::minor:
    return "minor";
  case CodeQualitySeverity::major:
    return "major";
  case CodeQualitySeverity::critical:
    return "critical";
  case CodeQualitySeverity::blocker:
    return "blocker";
  }
  return "minor";
}

std::string repository_path(std::string path, const std::string& project_dir) {
  if (!project_dir.empty()) {
    std::string prefix = project_dir;
    if (prefix.back() != '/') prefix += '/';
    if (path.rfind(prefix, 0) == 0) path.erase(0, prefix.size());
  }
  while (path.rfind("./", 0) == 0)
    path.erase(0, 2);
  return path;
}

} // namespace

void set_location(CodeQualityIssue& issue, const std::string& where) {
  issue.path = where;
  issue.line = 1;
  const auto colon = where.rfind(':');
  if (colon == std::string::npos || colon + 1 == where.size()) return;
  int line = 0;
  const char* first = where.data() + colon + 1;
  const char* last = where.data() + where.size();
  if (auto [end, ec] = std::from_chars(first, last, line); ec == std::errc() && end == last) {
    issue.path = where.substr(0, colon);
    issue.line = line > 0 ? line : 1;
  }
}

std::string code_quality_json(const std::vector<CodeQualityIssue>& issues,
                              const std::string& project_dir) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  std::set<std::string> seen;
  for (const auto& issue : issues) {
    const std::string path = repository_path(issue.path, project_dir);
    std::string key = issue.check_name;
    key += '\0';
    key += path;
    key += '\0';
    key += issue.identity;
    std::string fingerprint = sha256_hex(key);
    if (!seen.insert(fingerprint).second) continue;
    out.push_back({{"description", issue.description},
                   {"check_name", issue.check_name},
                   {"fingerprint", std::move(fingerprint)},
                   {"severity", to_string(issue.severity)},
                   {"location", {{"path", path}, {"lines", {{"begin", issue.line}}}}}});
  }
  return out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

} // namespace netpol::report
