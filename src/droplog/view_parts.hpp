// What the drop log's views are built from (internal to droplog/): the cells every view
// shows the same way, the header and coverage lines the text views share, and the chunked,
// allocation-light appends the streaming writers use.
#pragma once

#include <charconv>
#include <cstdint>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "droplog/drop_summary.hpp"

namespace netpol::droplog {

// "5432/TCP", "ICMPv4" (no port), "-" (nothing known).
std::string port_text(const DropRow& row);
// The policies, comma-separated, or "-".
std::string policies_text(const DropRow& row);
std::string or_dash(const std::string& s);
// Display width in a terminal: code points, not bytes (the arrow is one column).
size_t width(std::string_view s);
// "12 flows dropped or audited in namespace shop from … to … (…)": the first line of
// drop-log.txt and the heading of drop-log.html.
std::string header_line(const DropSummary& summary);
// "Coverage: 1 of 3 sources does not reach back to …" and the gaps, one per line (the text
// views' lines after the header); empty when no source has a gap.
std::vector<std::string> coverage_lines(const DropSummary& summary);
std::string html_escape(std::string_view text);
// Appends `text` HTML-escaped to `out`.
void append_html(std::string& out, std::string_view text);
// An IPv6 address needs brackets before ":port".
std::string with_port_brackets(std::string name);

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
inline void append_padded(std::string& out, uint64_t value, size_t width) {
  char digits[24];
  const auto end = std::to_chars(std::begin(digits), std::end(digits), value).ptr;
  const size_t n = static_cast<size_t>(end - digits);
  if (n < width) out.append(width - n, '0');
  out.append(digits, n);
}

} // namespace netpol::droplog
