#include "droplog/html_view.hpp"

#include <fmt/format.h>

#include "droplog/view_parts.hpp"

namespace netpol::droplog {

namespace {

void append_html_row(std::string& out, const DropRow& r) {
  out += "<tr><td><span class=\"v v-";
  append_html(out, r.verdict);
  out += "\">";
  append_html(out, r.verdict);
  out += "</span>";
  if (r.is_new) out += " <span class=\"new\">new</span>";
  out += "</td><td>";
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
{}</style>
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

constexpr const char* k_previous_style =
    "p.previous { margin: -8px 0 16px; color: #555; }\n"
    ".new { font-weight: 600; padding: 1px 6px; border-radius: 4px; background: #dbe9ff; "
    "color: #0b4fa8; }\n";

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
  // Compared with a previous run: the line saying so, and the "new" badge's style.
  std::string style;
  if (const std::string previous = previous_line(s); !previous.empty()) {
    coverage += "<p class=\"previous\">" + html_escape(previous) + "</p>\n";
    style = k_previous_style;
  }
  const std::string page =
      fmt::format(k_page, style, html_escape(header_line(s)), coverage, k_rows_marker);
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

} // namespace netpol::droplog
