#include "droplog/views.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <cstring>
#include <iterator>
#include <mutex>
#include <system_error>
#include <thread>

#include <fmt/format.h>

#include "droplog/timestamp.hpp"
#include "util/log.hpp"

namespace netpol::droplog {
namespace {

using nlohmann::ordered_json;

ordered_json string_or_null(const std::string& s) {
  return s.empty() ? ordered_json(nullptr) : ordered_json(s);
}

ordered_json endpoint_to_json(const FlowEndpoint& e) {
  ordered_json j;
  j["namespace"] = string_or_null(e.namespace_name);
  j["workload"] = e.workload;
  j["pod"] = string_or_null(e.pod);
  ordered_json labels = ordered_json::object();
  for (const auto& [k, v] : e.labels)
    labels[k] = v;
  j["labels"] = std::move(labels);
  j["ip"] = string_or_null(e.ip);
  return j;
}

std::string port_text(const DropRow& r) {
  if (r.port != 0) return std::to_string(r.port) + "/" + (r.protocol.empty() ? "?" : r.protocol);
  return r.protocol.empty() ? "-" : r.protocol;
}

std::string policies_text(const DropRow& r) {
  if (r.policies.empty()) return "-";
  std::string out;
  for (const auto& p : r.policies) {
    if (!out.empty()) out += ", ";
    out += p;
  }
  return out;
}

std::string or_dash(const std::string& s) {
  return s.empty() ? "-" : s;
}

// Display width in a terminal: code points, not bytes (the arrow is one column).
size_t width(std::string_view s) {
  size_t n = 0;
  for (char c : s)
    n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

std::string header_line(const DropSummary& s) {
  std::string ns = s.namespaces.empty() ? "all namespaces" : "";
  for (const auto& n : s.namespaces)
    ns += (ns.empty() ? "namespace " : ", ") + n;
  // Matched lines are worth a mention only when aggregated events made them differ from flows.
  const std::string matched =
      s.counts.lines_matched == s.counts.flows_matched
          ? std::string()
          : fmt::format("{} matched (aggregated), ", s.counts.lines_matched);
  return fmt::format("{} flows dropped or audited in {} from {} to {} ({} lines read, {}{} "
                     "skipped, {} malformed)",
                     s.counts.flows_matched, ns, s.since.empty() ? "the start" : s.since,
                     s.until.empty() ? "now" : s.until, s.counts.lines_read, matched,
                     s.counts.lines_skipped, s.counts.lines_malformed);
}

// The text views list this many coverage gaps; drop-summary.json has every source.
constexpr size_t k_gaps_shown = 20;

// "Coverage: 1 of 3 sources does not reach back to …" and the gaps, one per line (the text
// views' lines after the header); empty when no source has a gap.
std::vector<std::string> coverage_lines(const DropSummary& s) {
  const auto gaps = coverage_gaps(s);
  if (gaps.empty()) return {};
  std::vector<std::string> out;
  out.push_back(fmt::format("Coverage: {} of {} source{} {} not reach back to {}: flows before "
                            "{} oldest line may be missing",
                            gaps.size(), s.coverage.size(), s.coverage.size() == 1 ? "" : "s",
                            gaps.size() == 1 ? "does" : "do",
                            s.since.empty() ? "the window's start" : s.since,
                            gaps.size() == 1 ? "its" : "their"));
  for (size_t i = 0; i < gaps.size() && i < k_gaps_shown; ++i)
    out.push_back("  " + log::printable(gaps[i]));
  if (gaps.size() > k_gaps_shown) {
    out.push_back(fmt::format("  ... and {} more (drop-summary.json lists every source)",
                              gaps.size() - k_gaps_shown));
  }
  return out;
}

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
    case '&': out += "&amp;"; break;
    case '<': out += "&lt;"; break;
    case '>': out += "&gt;"; break;
    case '"': out += "&quot;"; break;
    case '\'': out += "&#39;"; break;
    default: out += c;
    }
  }
  return out;
}

// Appends `text` HTML-escaped to `out`.
void append_html(std::string& out, std::string_view text) {
  while (!text.empty()) {
    size_t run = 0;
    while (run < text.size() && text[run] != '&' && text[run] != '<' && text[run] != '>' &&
           text[run] != '"' && text[run] != '\'')
      ++run;
    out.append(text.data(), run);
    if (run == text.size()) return;
    switch (text[run]) {
    case '&': out += "&amp;"; break;
    case '<': out += "&lt;"; break;
    case '>': out += "&gt;"; break;
    case '"': out += "&quot;"; break;
    default: out += "&#39;"; break;
    }
    text.remove_prefix(run + 1);
  }
}

// Collects a view's text and passes it to the sink in chunks of about k_flush bytes: one
// sink call per chunk instead of one per row or field, and no whole view held in memory.
class ChunkedSink {
public:
  explicit ChunkedSink(const TextSink& sink) : m_sink(sink) { m_text.reserve(k_flush + 4096); }
  ChunkedSink(const ChunkedSink&) = delete;
  ChunkedSink& operator=(const ChunkedSink&) = delete;
  ~ChunkedSink() { flush(); }

  // The buffer to append to; call done() after each row.
  std::string& text() { return m_text; }
  void done() {
    if (m_text.size() >= k_flush) flush();
  }
  void flush() {
    if (!m_text.empty()) m_sink(m_text);
    m_text.clear();
  }

private:
  static constexpr size_t k_flush = 256u << 10;
  const TextSink& m_sink;
  std::string m_text;
};

template <typename Int> void append_int(std::string& out, Int value) {
  char digits[24];
  const auto end = std::to_chars(std::begin(digits), std::end(digits), value).ptr;
  out.append(digits, static_cast<size_t>(end - digits));
}

// `value` zero-padded to `width` digits, as fmt's {:0N} writes it.
void append_padded(std::string& out, uint64_t value, size_t width) {
  char digits[24];
  const auto end = std::to_chars(std::begin(digits), std::end(digits), value).ptr;
  const size_t n = static_cast<size_t>(end - digits);
  if (n < width) out.append(width - n, '0');
  out.append(digits, n);
}

Result<std::string> opt_string(const nlohmann::json& j, const char* key, const std::string& where) {
  if (!j.contains(key) || j[key].is_null()) return std::string();
  if (!j[key].is_string()) {
    return fail(ErrorCode::usage, fmt::format("{}: {} must be a string", where, key));
  }
  return j[key].get<std::string>();
}

Result<FlowEndpoint> endpoint_from_json(const nlohmann::json& j, const std::string& where) {
  if (!j.is_object()) return fail(ErrorCode::usage, where + ": must be an object");
  FlowEndpoint e;
  auto ns = opt_string(j, "namespace", where);
  auto workload = opt_string(j, "workload", where);
  auto pod = opt_string(j, "pod", where);
  auto ip = opt_string(j, "ip", where);
  for (auto* r : {&ns, &workload, &pod, &ip}) {
    if (!*r) return fail(r->error());
  }
  e.namespace_name = *ns;
  e.workload = *workload;
  e.pod = *pod;
  e.ip = *ip;
  if (j.contains("labels") && !j["labels"].is_null()) {
    if (!j["labels"].is_object())
      return fail(ErrorCode::usage, where + "/labels: must be an object");
    for (const auto& [k, v] : j["labels"].items()) {
      if (!v.is_string()) {
        return fail(ErrorCode::usage, where + "/labels/" + k + ": must be a string");
      }
      e.labels.emplace_back(k, v.get<std::string>());
    }
  }
  return e;
}

} // namespace

std::string endpoint_name(const FlowEndpoint& e) {
  return e.namespace_name.empty() ? e.workload : e.namespace_name + "/" + e.workload;
}

std::vector<std::string> coverage_gaps(const DropSummary& s) {
  std::vector<std::string> out;
  const std::string start = s.since.empty() ? "the window's start" : s.since;
  for (const auto& c : s.coverage) {
    if (!c.gap) continue;
    if (c.oldest_ns) {
      out.push_back(fmt::format("{} reaches back to {} only{}: flows between {} and then may be "
                                "missing",
                                c.source, format_rfc3339(*c.oldest_ns),
                                c.previous_log ? " (its previous container's log included)" : "",
                                start));
    } else {
      out.push_back(fmt::format("{}: no line with a time could be read: flows from {} on may "
                                "be missing",
                                c.source, start));
    }
  }
  return out;
}

namespace {
// An IPv6 address needs brackets before ":port".
std::string with_port_brackets(std::string name) {
  return name.find(':') != std::string::npos ? "[" + name + "]" : name;
}
} // namespace

std::string flow_name(const DropRow& r) {
  // Appended piece by piece: every view names every row.
  std::string out = endpoint_name(r.source);
  out += " → ";
  out += with_port_brackets(endpoint_name(r.destination));
  out += ':';
  out += port_text(r);
  return out;
}

namespace {

ordered_json row_to_json(const DropRow& r) {
  ordered_json row;
  row["verdict"] = r.verdict;
  row["direction"] = r.direction;
  row["source"] = endpoint_to_json(r.source);
  row["destination"] = endpoint_to_json(r.destination);
  row["port"] = r.port == 0 ? ordered_json(nullptr) : ordered_json(r.port);
  row["protocol"] = string_or_null(r.protocol);
  row["reason"] = string_or_null(r.reason);
  row["policies"] = r.policies;
  row["count"] = r.count;
  row["first_seen"] = string_or_null(r.first_seen);
  row["last_seen"] = string_or_null(r.last_seen);
  return row;
}

// Everything but the rows; "rows" is an empty array.
ordered_json summary_head(const DropSummary& s) {
  ordered_json j;
  j["since"] = string_or_null(s.since);
  j["until"] = string_or_null(s.until);
  j["namespaces"] = s.namespaces;
  j["lines_read"] = s.counts.lines_read;
  j["flows_matched"] = s.counts.flows_matched;
  j["lines_skipped"] = s.counts.lines_skipped;
  j["lines_malformed"] = s.counts.lines_malformed;
  j["lines_matched"] = s.counts.lines_matched;
  j["coverage"] = ordered_json::array();
  for (const auto& c : s.coverage) {
    ordered_json entry;
    entry["source"] = c.source;
    entry["oldest_line"] = c.oldest_ns ? ordered_json(format_rfc3339(*c.oldest_ns)) : nullptr;
    entry["previous_log"] = c.previous_log;
    entry["gap"] = c.gap;
    j["coverage"].push_back(std::move(entry));
  }
  j["rows"] = ordered_json::array();
  return j;
}

} // namespace

ordered_json summary_to_json(const DropSummary& s) {
  ordered_json j = summary_head(s);
  for (const auto& r : s.rows)
    j["rows"].push_back(row_to_json(r));
  return j;
}

namespace {

// A JSON string as nlohmann's dump() writes it (UTF-8 passed through, control characters
// escaped), appended to `out`: the rows are written without building a JSON value each.
void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  // Names and times rarely need escaping: copy runs of plain bytes at once.
  while (!s.empty()) {
    size_t run = 0;
    while (run < s.size() && s[run] != '"' && s[run] != '\\' &&
           static_cast<unsigned char>(s[run]) >= 0x20)
      ++run;
    out.append(s.data(), run);
    if (run == s.size()) break;
    const char ch = s[run];
    s.remove_prefix(run + 1);
    switch (ch) {
    case '"': out += "\\\""; break;
    case '\\': out += "\\\\"; break;
    case '\b': out += "\\b"; break;
    case '\f': out += "\\f"; break;
    case '\n': out += "\\n"; break;
    case '\r': out += "\\r"; break;
    case '\t': out += "\\t"; break;
    default: fmt::format_to(std::back_inserter(out), "\\u{:04x}", static_cast<unsigned>(ch));
    }
  }
  out += '"';
}

void append_string_or_null(std::string& out, const std::string& s) {
  if (s.empty())
    out += "null";
  else
    append_json_string(out, s);
}

// One endpoint of a row as `row_to_json(r).dump(2)` nested in the summary writes it: the
// object at 6 spaces, its members at 8, the labels' members at 10. The keys are literals,
// so a row is a few dozen appends.
void append_endpoint(std::string& out, const FlowEndpoint& e) {
  out += "{\n        \"namespace\": ";
  append_string_or_null(out, e.namespace_name);
  out += ",\n        \"workload\": ";
  append_json_string(out, e.workload);
  out += ",\n        \"pod\": ";
  append_string_or_null(out, e.pod);
  out += ",\n        \"labels\": ";
  if (e.labels.empty()) {
    out += "{}";
  } else {
    // As an ordered_json object built label by label: a repeated key keeps its first place
    // and its last value.
    const auto& labels = e.labels;
    bool first = true;
    for (size_t i = 0; i < labels.size(); ++i) {
      const auto same_key = [&](const auto& l) { return l.first == labels[i].first; };
      if (std::any_of(labels.begin(), labels.begin() + static_cast<std::ptrdiff_t>(i), same_key)) {
        continue;
      }
      const auto last = std::find_if(labels.rbegin(), labels.rend(), same_key);
      out += first ? "{\n          " : ",\n          ";
      first = false;
      append_json_string(out, labels[i].first);
      out += ": ";
      append_json_string(out, last->second);
    }
    out += "\n        }";
  }
  out += ",\n        \"ip\": ";
  append_string_or_null(out, e.ip);
  out += "\n      }";
}

// One row exactly as `row_to_json(r).dump(2)` nested in the summary's "rows" (at 4 spaces)
// would read.
void append_row(std::string& out, const DropRow& r) {
  out += "    {\n      \"verdict\": ";
  append_json_string(out, r.verdict);
  out += ",\n      \"direction\": ";
  append_json_string(out, r.direction);
  out += ",\n      \"source\": ";
  append_endpoint(out, r.source);
  out += ",\n      \"destination\": ";
  append_endpoint(out, r.destination);
  out += ",\n      \"port\": ";
  if (r.port == 0)
    out += "null";
  else
    append_int(out, r.port);
  out += ",\n      \"protocol\": ";
  append_string_or_null(out, r.protocol);
  out += ",\n      \"reason\": ";
  append_string_or_null(out, r.reason);
  out += ",\n      \"policies\": ";
  if (r.policies.empty()) {
    out += "[]";
  } else {
    for (size_t i = 0; i < r.policies.size(); ++i) {
      out += i == 0 ? "[\n        " : ",\n        ";
      append_json_string(out, r.policies[i]);
    }
    out += "\n      ]";
  }
  out += ",\n      \"count\": ";
  append_int(out, r.count);
  out += ",\n      \"first_seen\": ";
  append_string_or_null(out, r.first_seen);
  out += ",\n      \"last_seen\": ";
  append_string_or_null(out, r.last_seen);
  out += "\n    }";
}

} // namespace

void write_summary_json(const DropSummary& s, const TextSink& sink) {
  const std::string head = summary_head(s).dump(2);
  // dump(2) ends with `"rows": []\n}`; the rows go between the brackets.
  constexpr std::string_view k_tail = "[]\n}";
  if (s.rows.empty() || head.size() < k_tail.size() ||
      std::string_view(head).substr(head.size() - k_tail.size()) != k_tail) {
    sink(head);
    sink("\n");
    return;
  }
  ChunkedSink out(sink);
  out.text().append(head, 0, head.size() - k_tail.size());
  out.text() += "[\n";
  for (size_t i = 0; i < s.rows.size(); ++i) {
    append_row(out.text(), s.rows[i]);
    out.text() += i + 1 == s.rows.size() ? "\n" : ",\n";
    out.done();
  }
  out.text() += "  ]\n}\n";
}

Result<DropSummary> summary_from_json(const nlohmann::json& j, const std::string& source) {
  if (!j.is_object() || !j.contains("rows") || !j["rows"].is_array()) {
    return fail(ErrorCode::usage, source + ": not a drop summary (no \"rows\" array)");
  }
  DropSummary s;
  s.since = j.value("since", nlohmann::json()).is_string() ? j["since"].get<std::string>() : "";
  s.until = j.value("until", nlohmann::json()).is_string() ? j["until"].get<std::string>() : "";
  for (size_t i = 0; i < j["rows"].size(); ++i) {
    const auto& r = j["rows"][i];
    const std::string where = fmt::format("{}: /rows/{}", source, i);
    if (!r.is_object()) return fail(ErrorCode::usage, where + ": must be an object");
    DropRow row;
    auto verdict = opt_string(r, "verdict", where);
    auto direction = opt_string(r, "direction", where);
    auto protocol = opt_string(r, "protocol", where);
    auto reason = opt_string(r, "reason", where);
    for (auto* x : {&verdict, &direction, &protocol, &reason}) {
      if (!*x) return fail(x->error());
    }
    row.verdict = *verdict;
    row.direction = direction->empty() ? "UNKNOWN" : *direction;
    row.protocol = *protocol;
    row.reason = *reason;
    auto src = endpoint_from_json(r.value("source", nlohmann::json()), where + "/source");
    if (!src) return fail(src.error());
    auto dst = endpoint_from_json(r.value("destination", nlohmann::json()), where + "/destination");
    if (!dst) return fail(dst.error());
    row.source = std::move(*src);
    row.destination = std::move(*dst);
    if (r.contains("port") && !r["port"].is_null()) {
      if (!r["port"].is_number_unsigned() || r["port"].get<uint64_t>() > 65535) {
        return fail(ErrorCode::usage, where + "/port: must be a port number");
      }
      row.port = r["port"].get<uint32_t>();
    }
    auto first = opt_string(r, "first_seen", where);
    auto last = opt_string(r, "last_seen", where);
    if (!first) return fail(first.error());
    if (!last) return fail(last.error());
    row.first_seen = *first;
    row.last_seen = *last;
    row.first_ns = parse_rfc3339(*first).value_or(0);
    row.last_ns = parse_rfc3339(*last).value_or(0);
    if (r.contains("count") && r["count"].is_number_unsigned()) {
      row.count = r["count"].get<uint64_t>();
    }
    if (r.contains("policies") && r["policies"].is_array()) {
      for (const auto& p : r["policies"])
        if (p.is_string()) row.policies.push_back(p.get<std::string>());
    }
    s.rows.push_back(std::move(row));
  }
  return s;
}

namespace {

constexpr size_t k_text_columns = 8;
constexpr size_t k_count_column = 5;

// A table line's cells, one after the other in one reused string (no string per cell):
// cell c is text.substr(bounds[c], bounds[c + 1] - bounds[c]).
struct TextCells {
  std::string text;
  std::array<size_t, k_text_columns + 1> bounds{};

  std::string_view cell(size_t c) const {
    return std::string_view(text).substr(bounds[c], bounds[c + 1] - bounds[c]);
  }
};

void append_endpoint_name(std::string& out, const FlowEndpoint& e) {
  if (!e.namespace_name.empty()) {
    out += e.namespace_name;
    out += '/';
  }
  out += e.workload;
}

void append_port_text(std::string& out, const DropRow& r) {
  if (r.port != 0) {
    append_int(out, r.port);
    out += '/';
    out += r.protocol.empty() ? std::string_view("?") : std::string_view(r.protocol);
  } else {
    out += r.protocol.empty() ? std::string_view("-") : std::string_view(r.protocol);
  }
}

void append_or_dash(std::string& out, const std::string& s) {
  out += s.empty() ? std::string_view("-") : std::string_view(s);
}

void append_policies_text(std::string& out, const DropRow& r) {
  if (r.policies.empty()) {
    out += '-';
    return;
  }
  for (size_t i = 0; i < r.policies.size(); ++i) {
    if (i != 0) out += ", ";
    out += r.policies[i];
  }
}

// A flow's fields come from the cluster's logs: a namespace or policy name holding ESC or OSC
// sequences must not reach a terminal or drop-log.txt raw. Rare, so checked by a scan first.
void escape_cells(TextCells& cells) {
  const bool suspect = std::any_of(cells.text.begin(), cells.text.end(), [](char ch) {
    const auto c = static_cast<unsigned char>(ch);
    return c < 0x20 || c == 0x7f || c == 0xc2 || c == 0xe2 || c == 0xef || c >= 0xf5;
  });
  if (!suspect) return;
  std::string text;
  std::array<size_t, k_text_columns + 1> bounds{};
  for (size_t c = 0; c < k_text_columns; ++c) {
    text += log::printable(cells.cell(c));
    bounds[c + 1] = text.size();
  }
  cells.text = std::move(text);
  cells.bounds = bounds;
}

// The cells of `r`: verdict, direction, flow_name(r), reason, policies, count, first and
// last seen, with control characters escaped.
void text_cells(const DropRow& r, TextCells& cells) {
  std::string& t = cells.text;
  t.clear();
  size_t c = 0;
  const auto next = [&] { cells.bounds[++c] = t.size(); };
  t += r.verdict;
  next();
  t += r.direction;
  next();
  append_endpoint_name(t, r.source);
  t += " → ";
  const size_t destination = t.size();
  append_endpoint_name(t, r.destination);
  // An IPv6 address needs brackets before ":port" (as with_port_brackets).
  if (std::string_view(t).substr(destination).find(':') != std::string_view::npos) {
    t.insert(destination, 1, '[');
    t += ']';
  }
  t += ':';
  append_port_text(t, r);
  next();
  append_or_dash(t, r.reason);
  next();
  append_policies_text(t, r);
  next();
  append_int(t, r.count);
  next();
  append_or_dash(t, r.first_seen);
  next();
  append_or_dash(t, r.last_seen);
  next();
  escape_cells(cells);
}

} // namespace

void write_text(const DropSummary& s, const TextSink& sink, size_t max_rows) {
  ChunkedSink out(sink);
  out.text() += header_line(s);
  out.text() += '\n';
  for (const auto& line : coverage_lines(s)) {
    out.text() += line;
    out.text() += '\n';
  }
  if (s.rows.empty()) {
    out.text() += "No dropped or audited flows.\n";
    return;
  }
  TextCells head;
  size_t column = 0;
  for (const char* name :
       {"VERDICT", "DIRECTION", "FLOW", "REASON", "POLICY", "COUNT", "FIRST SEEN", "LAST SEEN"}) {
    head.text += name;
    head.bounds[++column] = head.text.size();
  }
  // Two passes over the rows (widths, then lines) instead of holding the table; the cells
  // of a row are rebuilt in the second pass, which is cheaper than keeping them.
  std::array<size_t, k_text_columns> widths{};
  for (size_t c = 0; c < k_text_columns; ++c)
    widths[c] = width(head.cell(c));
  const size_t shown = std::min(max_rows, s.rows.size());
  TextCells cells;
  for (size_t i = 0; i < shown; ++i) {
    text_cells(s.rows[i], cells);
    for (size_t c = 0; c < k_text_columns; ++c)
      widths[c] = std::max(widths[c], width(cells.cell(c)));
  }
  auto emit = [&](const TextCells& row) {
    std::string& line = out.text();
    for (size_t c = 0; c < k_text_columns; ++c) {
      const bool last = c + 1 == k_text_columns;
      const bool numeric = c == k_count_column;
      const std::string_view cell = row.cell(c);
      const size_t pad = widths[c] - width(cell);
      if (numeric) line.append(pad, ' ');
      line += cell;
      if (!numeric && !last) line.append(pad, ' ');
      if (!last) line += "  ";
    }
    line += '\n';
    out.done();
  };
  emit(head);
  uint64_t flows_left = 0;
  for (size_t i = 0; i < s.rows.size(); ++i) {
    if (i < shown) {
      text_cells(s.rows[i], cells);
      emit(cells);
    } else {
      flows_left += s.rows[i].count;
    }
  }
  if (shown < s.rows.size()) {
    fmt::format_to(std::back_inserter(out.text()),
                   "... {} more rows ({} flows): see drop-log.txt\n", s.rows.size() - shown,
                   flows_left);
  }
}

std::string render_text(const DropSummary& s) {
  std::string out;
  write_text(s, [&](std::string_view text) { out += text; });
  return out;
}

namespace {

void append_html_row(std::string& out, const DropRow& r) {
  out += "<tr><td><span class=\"v v-";
  append_html(out, r.verdict);
  out += "\">";
  append_html(out, r.verdict);
  out += "</span></td><td>";
  append_html(out, r.direction);
  for (const FlowEndpoint* e : {&r.source, &r.destination}) {
    out += "</td><td>";
    if (!e->namespace_name.empty()) {
      append_html(out, e->namespace_name);
      out += '/';
    }
    append_html(out, e->workload);
  }
  out += "</td><td data-sort=\"";
  append_padded(out, r.port, 5);
  out += "\">";
  if (r.port == 0)
    out += '-';
  else
    append_int(out, r.port);
  out += "</td><td>";
  append_html(out, r.protocol.empty() ? std::string_view("-") : std::string_view(r.protocol));
  out += "</td><td>";
  append_html(out, r.reason.empty() ? std::string_view("-") : std::string_view(r.reason));
  out += "</td><td>";
  if (r.policies.empty()) out += '-';
  for (size_t i = 0; i < r.policies.size(); ++i) {
    if (i != 0) out += ", ";
    append_html(out, r.policies[i]);
  }
  out += "</td><td class=\"n\" data-sort=\"";
  append_padded(out, r.count, 20);
  out += "\">";
  append_int(out, r.count);
  out += "</td><td>";
  append_html(out, r.first_seen.empty() ? std::string_view("-") : std::string_view(r.first_seen));
  out += "</td><td>";
  append_html(out, r.last_seen.empty() ? std::string_view("-") : std::string_view(r.last_seen));
  out += "</td></tr>\n";
}

constexpr const char* k_page = R"(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>netpol drop log</title>
<style>
body {{ font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px; color: #1f1f1f; }}
h1 {{ font-size: 20px; margin: 0 0 4px; }}
p.summary {{ margin: 0 0 16px; color: #555; }}
p.coverage {{ margin: -8px 0 16px; padding: 8px 12px; background: #fff1c2; color: #6b4a00; border-radius: 4px; white-space: pre-line; }}
input {{ font: inherit; padding: 4px 8px; margin-bottom: 12px; width: 320px; }}
table {{ border-collapse: collapse; width: 100%; }}
th, td {{ text-align: left; padding: 6px 10px; border-bottom: 1px solid #e3e3e3; white-space: nowrap; }}
th {{ background: #f4f4f4; cursor: pointer; user-select: none; position: sticky; top: 0; }}
th.asc::after {{ content: " \25B2"; }} th.desc::after {{ content: " \25BC"; }}
tr:hover td {{ background: #fafafa; }}
td.n {{ text-align: right; font-variant-numeric: tabular-nums; }}
td.empty {{ text-align: center; color: #555; padding: 24px; }}
.v {{ font-weight: 600; padding: 1px 6px; border-radius: 4px; }}
.v-DROPPED {{ background: #fde2e1; color: #a4000f; }}
.v-AUDIT {{ background: #fff1c2; color: #6b4a00; }}
</style>
</head>
<body>
<h1>Dropped and audited flows</h1>
<p class="summary">{}</p>
{}<input id="filter" type="search" placeholder="Filter rows" aria-label="Filter rows">
<table id="drops">
<thead><tr><th>Verdict</th><th>Direction</th><th>Source</th><th>Destination</th><th>Port</th><th>Protocol</th><th>Reason</th><th>Policies</th><th>Count</th><th>First seen</th><th>Last seen</th></tr></thead>
<tbody>
{}</tbody>
</table>
<script>
(function () {{
  var table = document.getElementById('drops');
  var body = table.tBodies[0];
  var key = function (row, i) {{
    var cell = row.cells[i];
    return cell ? (cell.getAttribute('data-sort') || cell.textContent) : '';
  }};
  Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, i) {{
    th.addEventListener('click', function () {{
      var asc = !th.classList.contains('asc');
      Array.prototype.forEach.call(th.parentNode.cells, function (h) {{ h.classList.remove('asc', 'desc'); }});
      th.classList.add(asc ? 'asc' : 'desc');
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {{
        var x = key(a, i), y = key(b, i);
        return (x < y ? -1 : x > y ? 1 : 0) * (asc ? 1 : -1);
      }});
      rows.forEach(function (r) {{ body.appendChild(r); }});
    }});
  }});
  document.getElementById('filter').addEventListener('input', function (e) {{
    var q = e.target.value.toLowerCase();
    Array.prototype.forEach.call(body.rows, function (r) {{
      r.style.display = r.textContent.toLowerCase().indexOf(q) === -1 ? 'none' : '';
    }});
  }});
}})();
</script>
</body>
</html>
)";

// Stands for the rows in the page while it is formatted; the rows are streamed in its place.
constexpr std::string_view k_rows_marker = "\x1frows\x1f";

} // namespace

void write_html(const DropSummary& s, const TextSink& out) {
  std::string coverage;
  for (const auto& line : coverage_lines(s)) {
    coverage += coverage.empty() ? "<p class=\"coverage\">" : "\n";
    coverage += html_escape(line);
  }
  if (!coverage.empty()) coverage += "</p>\n";
  const std::string page =
      fmt::format(k_page, html_escape(header_line(s)), coverage, k_rows_marker);
  const size_t at = page.find(k_rows_marker);
  out(std::string_view(page).substr(0, at));
  if (s.rows.empty()) {
    out("<tr><td colspan=\"11\" class=\"empty\">No dropped or audited flows.</td></tr>\n");
  }
  ChunkedSink rows(out);
  for (const auto& r : s.rows) {
    append_html_row(rows.text(), r);
    rows.done();
  }
  rows.flush();
  out(std::string_view(page).substr(at + k_rows_marker.size()));
}

std::string render_html(const DropSummary& s) {
  std::string out;
  write_html(s, [&](std::string_view text) { out += text; });
  return out;
}

namespace {

// "drop log covers the window": passed, or skipped with the gaps (never a failure: a gap says
// the log may be incomplete, not that anything was dropped). None without coverage.
void add_coverage_case(report::JUnitReport& junit, const DropSummary& s) {
  if (s.coverage.empty()) return;
  const auto gaps = coverage_gaps(s);
  const std::string start = s.since.empty() ? "the window's start" : s.since;
  std::string detail;
  for (const auto& g : gaps)
    detail += g + "\n";
  const size_t n = s.coverage.size();
  junit.add(report::TestCase{
      .classname = "netpol.drops",
      .name = "drop log covers the window",
      .status = gaps.empty() ? report::CaseStatus::passed : report::CaseStatus::skipped,
      .message =
          gaps.empty()
              ? fmt::format("{} source{} reach{} back to {}", n, n == 1 ? "" : "s",
                            n == 1 ? "es" : "", start)
              : fmt::format("{} of {} source{} {} not reach back to {}: flows before {} "
                            "oldest line may be missing",
                            gaps.size(), n, n == 1 ? "" : "s", gaps.size() == 1 ? "does" : "do",
                            start, gaps.size() == 1 ? "its" : "their"),
      .detail = std::move(detail),
      .seconds = 0.0,
  });
}

} // namespace

report::JUnitReport render_junit(const DropSummary& s) {
  report::JUnitReport junit("drops");
  add_coverage_case(junit, s);
  if (s.rows.empty()) {
    std::string scope = s.namespaces.empty() ? "all" : s.namespaces.front();
    junit.add(report::TestCase{
        .classname = "netpol.drops." + scope,
        .name = "no dropped or audited flows",
        .status = report::CaseStatus::passed,
        .message = {},
        .detail = {},
        .seconds = 0.0,
    });
    return junit;
  }
  const size_t shown = std::min(s.rows.size(), k_junit_max_rows);
  for (size_t i = 0; i < shown; ++i) {
    const DropRow& r = s.rows[i];
    const std::string& ns = !r.destination.namespace_name.empty() ? r.destination.namespace_name
                                                                  : r.source.namespace_name;
    const bool audit = r.verdict == "AUDIT";
    std::string why = r.reason;
    if (!r.policies.empty()) why += (why.empty() ? "policy " : ", policy ") + policies_text(r);
    std::string message = fmt::format("{} flow{} {}{}", r.count, r.count == 1 ? "" : "s",
                                      audit ? "would have been dropped (audit mode)" : "dropped",
                                      why.empty() ? "" : " (" + why + ")");
    std::string detail = fmt::format(
        "{}\nsource: {}{}\ndestination: {}{}\nfirst seen: {}\nlast seen: {}", message,
        endpoint_name(r.source), r.source.pod.empty() ? "" : " (pod " + r.source.pod + ")",
        endpoint_name(r.destination),
        r.destination.pod.empty() ? "" : " (pod " + r.destination.pod + ")", or_dash(r.first_seen),
        or_dash(r.last_seen));
    junit.add(report::TestCase{
        .classname = "netpol.drops." + (ns.empty() ? std::string("cluster") : ns),
        .name =
            fmt::format("{} {} {} ({})", r.verdict, r.direction, flow_name(r), or_dash(r.reason)),
        .status = report::CaseStatus::failed,
        .message = std::move(message),
        .detail = std::move(detail),
        .seconds = 0.0,
    });
  }
  if (shown < s.rows.size()) {
    // GitLab's widget lists every case; thousands of them hide what matters and make a
    // report of tens of MB. The rest stay countable here and visible in the other views.
    uint64_t flows = 0;
    for (size_t i = shown; i < s.rows.size(); ++i)
      flows += s.rows[i].count;
    const size_t rest = s.rows.size() - shown;
    std::string message =
        fmt::format("{} more row{} not shown ({} flow{}): see drop-log.txt, drop-log.html or "
                    "drop-summary.json",
                    rest, rest == 1 ? "" : "s", flows, flows == 1 ? "" : "s");
    junit.add(report::TestCase{
        .classname = "netpol.drops",
        .name = fmt::format("{} more rows not shown", rest),
        .status = report::CaseStatus::failed,
        .message = message,
        .detail = message,
        .seconds = 0.0,
    });
  }
  return junit;
}

namespace {

// Writes all of `text` to `fd`; 0 or the errno of the failure.
int write_all(int fd, std::string_view text) {
  while (!text.empty()) {
    const ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    text.remove_prefix(static_cast<size_t>(n));
  }
  return 0;
}

} // namespace

struct FileWriter::Background {
  std::mutex mutex;
  std::condition_variable changed;
  std::string block; // being written while `busy`
  bool busy = false;
  bool stopping = false;
  int error = 0; // the first write error (errno)
  std::thread thread;

  void run(int fd) {
    std::unique_lock lock(mutex);
    while (true) {
      changed.wait(lock, [&] { return busy || stopping; });
      if (!busy) return;
      lock.unlock();
      // Redacted here, on the writer's thread, so it overlaps with the next block. Blocks
      // end at a write() boundary, so no flow field is split between two passes.
      const int failed = error == 0 ? write_all(fd, log::redact(block)) : 0;
      lock.lock();
      if (failed != 0) error = failed;
      block.clear();
      busy = false;
      changed.notify_all();
    }
  }
};

FileWriter::FileWriter(int fd, std::filesystem::path path, std::string tmp)
    : m_fd(fd), m_path(std::move(path)), m_tmp(std::move(tmp)) {
  m_block.reserve(k_block + (64u << 10));
  auto background = std::make_unique<Background>();
  background->block.reserve(m_block.capacity());
  try {
    background->thread = std::thread([bg = background.get(), fd] { bg->run(fd); });
    m_background = std::move(background);
  } catch (const std::system_error&) {
    // No thread to be had: write synchronously.
  }
}

FileWriter::FileWriter(FileWriter&& o) noexcept
    : m_fd(o.m_fd), m_path(std::move(o.m_path)), m_tmp(std::move(o.m_tmp)),
      m_block(std::move(o.m_block)), m_error(o.m_error), m_background(std::move(o.m_background)) {
  o.m_fd = -1;
}

FileWriter::~FileWriter() {
  stop();
  if (m_fd >= 0) {
    ::close(m_fd);
    ::unlink(m_tmp.c_str());
  }
}

void FileWriter::hand_off() {
  if (m_block.empty()) return;
  if (!m_background) {
    if (m_error == 0) m_error = write_all(m_fd, log::redact(m_block));
    m_block.clear();
    return;
  }
  Background& bg = *m_background;
  std::unique_lock lock(bg.mutex);
  bg.changed.wait(lock, [&] { return !bg.busy; });
  // The thread's last block (empty, with its capacity) becomes the one to fill.
  std::swap(bg.block, m_block);
  bg.busy = true;
  bg.changed.notify_all();
}

void FileWriter::stop() {
  if (!m_background) return;
  {
    std::lock_guard lock(m_background->mutex);
    m_background->stopping = true;
    m_background->changed.notify_all();
  }
  m_background->thread.join();
  if (m_error == 0) m_error = m_background->error;
  m_background.reset();
}

Result<FileWriter> FileWriter::open(const std::filesystem::path& path) {
  std::error_code ec;
  if (path.has_parent_path()) {
    std::filesystem::create_directories(path.parent_path(), ec);
    if (ec) {
      return fail(ErrorCode::io,
                  "creating directory " + path.parent_path().string() + ": " + ec.message());
    }
  }
  std::string tmp = path.string() + ".tmp-XXXXXX";
  const int fd = ::mkostemp(tmp.data(), O_CLOEXEC);
  if (fd < 0) return fail(ErrorCode::io, "writing " + path.string() + ": " + std::strerror(errno));
  return FileWriter(fd, path, std::move(tmp));
}

Result<void> FileWriter::commit() {
  if (m_fd < 0) return fail(ErrorCode::internal, m_path.string() + " committed twice");
  hand_off();
  stop(); // the thread finishes the last block first
  if (m_error == 0 && !m_block.empty()) m_error = write_all(m_fd, log::redact(m_block));
  m_block.clear();
  ::fchmod(m_fd, 0644);
  const bool closed = ::close(m_fd) == 0;
  m_fd = -1;
  if (m_error != 0 || !closed || ::rename(m_tmp.c_str(), m_path.c_str()) != 0) {
    const int err = m_error != 0 ? m_error : errno;
    ::unlink(m_tmp.c_str());
    return fail(ErrorCode::io, "writing " + m_path.string() + ": " + std::strerror(err));
  }
  return {};
}

Result<JsonlWriter> JsonlWriter::open(const std::filesystem::path& path) {
  auto file = FileWriter::open(path);
  if (!file) return fail(file.error());
  return JsonlWriter(std::move(*file));
}

} // namespace netpol::droplog
