// The drop log's files (SPEC §5, §8.1): drop-summary.json, drop-log.txt, drop-log.html,
// junit-drops.xml, all built from the same rows, and the streaming drop-log.jsonl writer.
#pragma once

#include <cstdio>
#include <filesystem>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "droplog/aggregate.hpp"
#include "droplog/collector.hpp"
#include "droplog/source.hpp"
#include "report/junit.hpp"
#include "util/error.hpp"

namespace netpol::droplog {

struct DropSummary {
  std::string since; // RFC 3339; "" when the window had no start (shown as null)
  std::string until;
  std::vector<std::string> namespaces; // empty = all namespaces
  DropCounts counts;
  // How far back each source reaches (an agent pod's log, a file read with --since); empty
  // when nothing can be told. Shown in every view when one has a gap.
  std::vector<Coverage> coverage;
  DropRows rows; // sorted, count descending
};

// One line per coverage entry with a gap, saying how far back it reaches and since when flows
// may be missing ("kube-system/cilium-abcde reaches back to 2026-11-26T10:03:12Z only: …").
std::vector<std::string> coverage_gaps(const DropSummary& summary);

// Where the streaming writers below put their output, piece by piece (a file, a stream, a
// string): a view is never built whole in memory, whatever the number of rows.
using TextSink = std::function<void(std::string_view)>;

// junit-drops.xml holds at most this many rows (the highest counts); the rest are folded
// into one last failing case that says how many rows and flows it stands for. The other
// views show every row.
inline constexpr size_t k_junit_max_rows = 1000;

// "ns/workload", or the workload alone for non-pods ("world", "host", an IP).
std::string endpoint_name(const FlowEndpoint& endpoint);
// "shop/frontend → shop/db:5432/TCP"
std::string flow_name(const DropRow& row);

// drop-summary.json, the SPEC §8.1 shape plus "lines_matched" (lines_read is lines_matched +
// lines_skipped + lines_malformed; flows_matched counts the flows an aggregated event stands
// for) and "coverage" ([{"source","oldest_line","previous_log","gap"}], one per source),
// before "rows". Absent values are null (a non-pod's namespace and pod, a port for ICMP, a
// reason for audit verdicts, times when unknown).
nlohmann::ordered_json summary_to_json(const DropSummary& summary);
// The same JSON as `summary_to_json(summary).dump(2) + "\n"`, byte for byte, one row at a time.
void write_summary_json(const DropSummary& summary, const TextSink& out);
// The reverse, for `suggest --from-file drop-summary.json`; a wrong shape is
// ErrorCode::usage naming `source` and the JSON pointer.
Result<DropSummary> summary_from_json(const nlohmann::json& json, const std::string& source);

// drop-log.txt: a header line with the window and counts, the coverage gaps if any, then an
// aligned table. With `max_rows`, the rows after the first max_rows are summed up in one last
// line (for the job log: GitLab cuts a job log at 4 MB by default).
void write_text(const DropSummary& summary, const TextSink& out,
                size_t max_rows = std::numeric_limits<size_t>::max());
std::string render_text(const DropSummary& summary);
// drop-log.html: one page with inline CSS and a few lines of JS to sort by any column.
void write_html(const DropSummary& summary, const TextSink& out);
std::string render_html(const DropSummary& summary);
// junit-drops.xml: one failing case per row (DROPPED and AUDIT alike), at most
// k_junit_max_rows of them plus one for the rest; a single passing case when there are no rows.
// With coverage, one more case "drop log covers the window": skipped when a source has a gap
// (a gap alone never fails the job), passed otherwise.
report::JUnitReport render_junit(const DropSummary& summary);

// A report file written piece by piece (never held in memory) into a temporary file that
// commit() renames into place (mode 0644); an uncommitted file is removed. A write error is
// remembered and returned by commit(), naming the path. Text is collected in 1 MiB blocks
// that a background thread hands to the kernel while the next block fills, so the kernel's
// copy of a 100 MB drop-log.jsonl overlaps with parsing the log (writes are synchronous
// when no thread can be started).
class FileWriter {
public:
  static Result<FileWriter> open(const std::filesystem::path& path);
  FileWriter(FileWriter&& other) noexcept;
  FileWriter& operator=(FileWriter&&) = delete;
  ~FileWriter();

  void write(std::string_view text) {
    m_block.append(text);
    if (m_block.size() >= k_block) hand_off();
  }
  Result<void> commit();
  // write() as a TextSink (valid while this writer lives).
  TextSink sink() {
    return [this](std::string_view text) { write(text); };
  }

private:
  struct Background; // the writing thread and the block it writes
  static constexpr size_t k_block = 1u << 20;

  FileWriter(int fd, std::filesystem::path path, std::string tmp);
  // Passes the filled block to the background thread (after it finished the previous one).
  void hand_off();
  // Waits for every handed-off block to be written and ends the thread.
  void stop();

  int m_fd;
  std::filesystem::path m_path;
  std::string m_tmp;
  std::string m_block;
  int m_error = 0; // the first write error (errno), when writing synchronously
  std::unique_ptr<Background> m_background;
};

// drop-log.jsonl, written line by line as flows match.
class JsonlWriter {
public:
  static Result<JsonlWriter> open(const std::filesystem::path& path);

  void write(std::string_view json_object) {
    m_file.write(json_object);
    m_file.write("\n");
  }
  Result<void> commit() { return m_file.commit(); }

private:
  explicit JsonlWriter(FileWriter file) : m_file(std::move(file)) {}
  FileWriter m_file;
};

} // namespace netpol::droplog
