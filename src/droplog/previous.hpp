// "Only what is new": the previous run's drop-summary.json, from a file or from the GitLab
// instance's job artifacts, and the rows of this run it has not seen.
//
// A row is new when no row of the previous summary has the same direction, source
// (namespace, workload), destination (namespace, workload), port and protocol. Verdict,
// reason, policies, pods and IPs are not compared: a flow that was AUDIT before a switch to
// enforce and is DROPPED after it is the same flow, not a new one.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "droplog/drop_summary.hpp"
#include "util/env.hpp"
#include "util/error.hpp"
#include "util/http_fetch.hpp"

namespace netpol::droplog {

// Where the previous summary comes from (--previous-summary FILE|auto|none).
struct PreviousSource {
  enum class Kind { none, file, artifact };
  Kind kind = Kind::none;
  std::string path;          // Kind::file
  std::string url;           // Kind::artifact: the artifacts API URL (no token in it)
  http::FetchSettings fetch; // Kind::artifact: the job token, the instance, the CAs
};

// The artifacts API URL of the latest successful pipeline's `job` on `ref`:
// <api>/projects/<project>/jobs/artifacts/<ref>/raw/<dir>/drop-summary.json?job=<job>, every
// part URL-encoded (the directory segment by segment).
std::string artifact_url(std::string api_v4_url, std::string_view project, std::string_view ref,
                         std::string_view output_dir, std::string_view job);

// --previous-summary's value: "none", "auto" (the artifact of the previous successful run of
// this job, from CI_API_V4_URL, CI_PROJECT_ID, CI_COMMIT_REF_NAME, CI_JOB_NAME, with
// CI_JOB_TOKEN) or a file; `given` false: the default, auto when the job token and those
// variables are set, else none. `output_dir` is where this job writes its reports (the same
// path in the previous run's artifact). ErrorCode::config for auto without the variables.
Result<PreviousSource> previous_source(const std::string& value, bool given,
                                       const std::string& output_dir, const Environment& env);

// A drop-summary.json, checked whole: JSON, an object with a "rows" array, and every row with
// the fields the comparison reads (direction, source and destination workloads, port,
// protocol). ErrorCode::usage naming `source` and what is wrong where.
Result<DropSummary> parse_previous_summary(std::string_view text, const std::string& source);

// The previous summary and the keys of its rows.
struct Previous {
  PreviousRun run;
  std::vector<std::string> keys; // one per previous row (row_key)
};

// Reads the previous summary. A file that cannot be read or is not a drop summary is an
// error (ErrorCode::usage); the artifact never is: 404 is PreviousRun::State::not_found, any
// other failure (network, 401/403, a bad body) State::unknown with the problem, the URL
// without the token.
Result<Previous> load_previous(const PreviousSource& source);

// The comparison key of a row: direction, source and destination namespace and workload,
// port, protocol.
std::string row_key(const DropRow& row);

// Marks summary.rows new against `previous` and sets summary.previous and summary.new_rows.
void mark_new_rows(DropSummary& summary, const Previous& previous);

} // namespace netpol::droplog
