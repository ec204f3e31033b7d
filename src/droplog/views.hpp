// The drop log's files (SPEC §5, §8.1): drop-summary.json, drop-log.txt, drop-log.html,
// junit-drops.xml, all built from the same rows, and the streaming drop-log.jsonl writer.
#pragma once

#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "droplog/aggregate.hpp"
#include "droplog/collector.hpp"
#include "report/junit.hpp"
#include "util/error.hpp"

namespace netpol::droplog {

struct DropSummary {
  std::string since; // RFC 3339; "" when the window had no start (shown as null)
  std::string until;
  std::vector<std::string> namespaces; // empty = all namespaces
  DropCounts counts;
  std::vector<DropRow> rows; // sorted, count descending
};

// "ns/workload", or the workload alone for non-pods ("world", "host", an IP).
std::string endpoint_name(const FlowEndpoint& endpoint);
// "shop/frontend → shop/db:5432/TCP"
std::string flow_name(const DropRow& row);

// drop-summary.json, exactly the SPEC §8.1 shape. Absent values are null (a non-pod's
// namespace and pod, a port for ICMP, a reason for audit verdicts, times when unknown).
nlohmann::ordered_json summary_to_json(const DropSummary& summary);
// The reverse, for `suggest --from-file drop-summary.json`; a wrong shape is
// ErrorCode::usage naming `source` and the JSON pointer.
Result<DropSummary> summary_from_json(const nlohmann::json& json, const std::string& source);

// drop-log.txt: a header line with the window and counts, then an aligned table.
std::string render_text(const DropSummary& summary);
// drop-log.html: one page with inline CSS and a few lines of JS to sort by any column.
std::string render_html(const DropSummary& summary);
// junit-drops.xml: one failing case per row (DROPPED and AUDIT alike); a single passing
// case when there are no rows.
report::JUnitReport render_junit(const DropSummary& summary);

// drop-log.jsonl, written line by line as flows match (never held in memory), into a
// temporary file that commit() renames into place; an uncommitted file is removed.
class JsonlWriter {
public:
  static Result<JsonlWriter> open(const std::filesystem::path& path);
  JsonlWriter(JsonlWriter&& other) noexcept;
  JsonlWriter& operator=(JsonlWriter&&) = delete;
  ~JsonlWriter();

  void write(std::string_view json_object);
  Result<void> commit();

private:
  JsonlWriter(std::FILE* file, std::filesystem::path path, std::string tmp);
  std::FILE* m_file;
  std::filesystem::path m_path;
  std::string m_tmp;
  bool m_failed = false;
};

} // namespace netpol::droplog
