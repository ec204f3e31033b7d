#include "droplog/previous.hpp"

#include <algorithm>

#include <absl/container/flat_hash_set.h>
#include <fmt/format.h>

#include "droplog/summary_json.hpp"
#include "util/file.hpp"
#include "util/json.hpp"
#include "util/log.hpp"

namespace netpol::droplog {
namespace {

constexpr const char* k_summary_file = "drop-summary.json";

// What the comparison reads of a row, checked before the row is taken: "/rows/3/source:
// workload must be a non-empty string".
Result<void> check_row(const nlohmann::json& r, const std::string& where) {
  auto bad = [&](const std::string& what) { return fail(ErrorCode::usage, where + what); };
  if (!r.is_object()) return bad(": must be an object");
  for (const char* key : {"verdict", "direction"}) {
    if (!r.contains(key) || !r[key].is_string() || r[key].get<std::string>().empty()) {
      return bad(fmt::format(": \"{}\" must be a non-empty string", key));
    }
  }
  for (const char* side : {"source", "destination"}) {
    if (!r.contains(side) || !r[side].is_object()) {
      return bad(fmt::format(": \"{}\" must be an object", side));
    }
    const auto& e = r[side];
    if (!e.contains("workload") || !e["workload"].is_string() ||
        e["workload"].get<std::string>().empty()) {
      return bad(fmt::format("/{}: \"workload\" must be a non-empty string", side));
    }
    if (e.contains("namespace") && !e["namespace"].is_null() && !e["namespace"].is_string()) {
      return bad(fmt::format("/{}: \"namespace\" must be a string or null", side));
    }
  }
  if (!r.contains("port") ||
      (!r["port"].is_null() && (!r["port"].is_number_unsigned() || r["port"].get<uint64_t>() == 0 ||
                                r["port"].get<uint64_t>() > 65535))) {
    return bad(": \"port\" must be a port number (1-65535) or null");
  }
  if (!r.contains("protocol") || (!r["protocol"].is_null() && !r["protocol"].is_string())) {
    return bad(": \"protocol\" must be a string or null");
  }
  if (r.contains("count") && !r["count"].is_number_unsigned()) {
    return bad(": \"count\" must be a whole number");
  }
  return {};
}

Result<std::string> read_artifact(const PreviousSource& source, bool& not_found) {
  auto response = http::fetch(source.url, source.fetch, "previous drop summary");
  if (!response) return fail(response.error());
  if (response->status == 404) {
    not_found = true;
    return std::string();
  }
  if (response->status >= 400) {
    std::string hint;
    if (response->status == 401 || response->status == 403) {
      hint = http::sends_job_token(response->url, source.fetch)
                 ? ": the job token (CI_JOB_TOKEN) may not read this project's artifacts"
                 : ": no job token was sent (it is sent only over https:// to the instance "
                   "in CI_API_V4_URL)";
    }
    return fail(ErrorCode::io, fmt::format("HTTP {}{}", response->status, hint));
  }
  return std::move(response->body);
}

} // namespace

std::string artifact_url(std::string api, std::string_view project, std::string_view ref,
                         std::string_view output_dir, std::string_view job) {
  while (!api.empty() && api.back() == '/')
    api.pop_back();
  std::string path;
  size_t start = 0;
  while (start <= output_dir.size()) {
    const size_t slash = std::min(output_dir.find('/', start), output_dir.size());
    const auto segment = output_dir.substr(start, slash - start);
    if (!segment.empty() && segment != ".") {
      path += http::url_encode(segment);
      path += '/';
    }
    start = slash + 1;
  }
  return fmt::format("{}/projects/{}/jobs/artifacts/{}/raw/{}{}?job={}", api,
                     http::url_encode(project), http::url_encode(ref), path, k_summary_file,
                     http::url_encode(job));
}

Result<PreviousSource> previous_source(const std::string& value, bool given,
                                       const std::string& output_dir, const Environment& env) {
  PreviousSource source;
  if (value == "none") return source;
  const char* const needed[] = {"CI_JOB_TOKEN", "CI_API_V4_URL", "CI_PROJECT_ID",
                                "CI_COMMIT_REF_NAME", "CI_JOB_NAME"};
  std::vector<std::string> missing;
  for (const char* name : needed) {
    if (env.get(name).value_or("").empty()) missing.emplace_back(name);
  }
  if (value == "auto" || (!given && value.empty())) {
    if (!missing.empty()) {
      if (!given) return source; // not in a GitLab job: nothing to compare with
      std::string names;
      for (const auto& m : missing)
        names += (names.empty() ? "" : ", ") + m;
      return fail(ErrorCode::config,
                  fmt::format("--previous-summary auto: {} not set: auto fetches the previous "
                              "run's drop-summary.json from a GitLab job's artifacts; outside a "
                              "job give the file, or none",
                              names));
    }
    auto get = [&](const char* name) { return env.get(name).value_or(""); };
    // The artifact holds the reports at the path the job wrote them to, relative to the
    // project directory.
    std::string dir = output_dir;
    const std::string project_dir = get("CI_PROJECT_DIR");
    if (!project_dir.empty() && dir.rfind(project_dir + "/", 0) == 0) {
      dir = dir.substr(project_dir.size() + 1);
    }
    source.kind = PreviousSource::Kind::artifact;
    source.url = artifact_url(get("CI_API_V4_URL"), get("CI_PROJECT_ID"), get("CI_COMMIT_REF_NAME"),
                              dir, get("CI_JOB_NAME"));
    source.fetch = http::fetch_settings(env);
    return source;
  }
  if (value.empty()) {
    return fail(ErrorCode::usage,
                "--previous-summary: empty: give a drop-summary.json, auto or none");
  }
  source.kind = PreviousSource::Kind::file;
  source.path = value;
  return source;
}

Result<DropSummary> parse_previous_summary(std::string_view text, const std::string& source) {
  auto json = parse_json_strict(text, source, ErrorCode::usage);
  if (!json) return fail(json.error());
  const auto& j = *json;
  if (!j.is_object() || !j.contains("rows") || !j["rows"].is_array()) {
    return fail(ErrorCode::usage,
                source + ": not a drop summary (no \"rows\" array): give the drop-summary.json "
                         "a previous netpol run wrote");
  }
  for (const char* key : {"since", "until"}) {
    if (j.contains(key) && !j[key].is_null() && !j[key].is_string()) {
      return fail(ErrorCode::usage, fmt::format("{}: \"{}\" must be a time or null", source, key));
    }
  }
  for (size_t i = 0; i < j["rows"].size(); ++i) {
    if (auto ok = check_row(j["rows"][i], fmt::format("{}: /rows/{}", source, i)); !ok) {
      return fail(ok.error());
    }
  }
  return summary_from_json(j, source);
}

std::string row_key(const DropRow& r) {
  return fmt::format("{}\x1f{}\x1f{}\x1f{}\x1f{}\x1f{}\x1f{}", r.direction, r.source.namespace_name,
                     r.source.workload, r.destination.namespace_name, r.destination.workload,
                     r.port, r.protocol);
}

Result<Previous> load_previous(const PreviousSource& source) {
  Previous previous;
  PreviousRun& run = previous.run;
  std::string text;
  if (source.kind == PreviousSource::Kind::file) {
    run.source = source.path;
    auto read = read_input_file(source.path, ErrorCode::usage);
    if (!read) return fail(read.error().wrap("--previous-summary"));
    text = std::move(*read);
  } else {
    run.source = log::redact_url(source.url);
    bool not_found = false;
    auto read = read_artifact(source, not_found);
    if (not_found) {
      run.state = PreviousRun::State::not_found;
      return previous;
    }
    if (!read) {
      run.state = PreviousRun::State::unknown;
      run.problem = read.error().message;
      return previous;
    }
    text = std::move(*read);
  }
  auto summary = parse_previous_summary(text, run.source);
  if (!summary) {
    if (source.kind == PreviousSource::Kind::file) {
      return fail(summary.error().wrap("--previous-summary"));
    }
    run.state = PreviousRun::State::unknown;
    run.problem = summary.error().message;
    return previous;
  }
  run.until = summary->until;
  run.rows = summary->rows.size();
  previous.keys.reserve(summary->rows.size());
  for (const auto& r : summary->rows)
    previous.keys.push_back(row_key(r));
  return previous;
}

void mark_new_rows(DropSummary& summary, const Previous& previous) {
  summary.previous = previous.run;
  summary.new_rows = 0;
  if (previous.run.state == PreviousRun::State::unknown) return;
  const absl::flat_hash_set<std::string> seen(previous.keys.begin(), previous.keys.end());
  for (auto& r : summary.rows) {
    r.is_new = previous.run.state == PreviousRun::State::not_found || !seen.contains(row_key(r));
    if (r.is_new) ++summary.new_rows;
  }
}

} // namespace netpol::droplog
