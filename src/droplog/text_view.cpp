#include "droplog/text_view.hpp"

#include <algorithm>
#include <array>
#include <iterator>

#include <fmt/format.h>

#include "droplog/view_parts.hpp"
#include "util/log.hpp"

namespace netpol::droplog {

namespace {

// Column 0 (NEW) is shown only when rows are compared with a previous run.
constexpr size_t k_text_columns = 9;
constexpr size_t k_count_column = 6;

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

// The cells of `r`: "new" or "" (only read with a previous run), verdict, direction, flow_name(r),
// reason, policies, count, first and last seen, with control characters escaped.
void text_cells(const DropRow& r, TextCells& cells) {
  std::string& t = cells.text;
  t.clear();
  size_t c = 0;
  const auto next = [&] { cells.bounds[++c] = t.size(); };
  if (r.is_new) t += "new";
  next();
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
  if (const std::string previous = previous_line(s); !previous.empty()) {
    out.text() += log::printable(previous);
    out.text() += '\n';
  }
  if (s.rows.empty()) {
    out.text() += "No dropped or audited flows.\n";
    return;
  }
  TextCells head;
  size_t column = 0;
  for (const char* name : {"NEW", "VERDICT", "DIRECTION", "FLOW", "REASON", "POLICY", "COUNT",
                           "FIRST SEEN", "LAST SEEN"}) {
    head.text += name;
    head.bounds[++column] = head.text.size();
  }
  // Two passes over the rows (widths, then lines) instead of holding the table; the cells
  // of a row are rebuilt in the second pass, which is cheaper than keeping them.
  const size_t first = s.marks_new() ? 0 : 1;
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
    for (size_t c = first; c < k_text_columns; ++c) {
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

} // namespace netpol::droplog
