#include "droplog/views.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <iterator>

#include <fmt/format.h>

#include "droplog/timestamp.hpp"

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
  return fmt::format("{} flows dropped or audited in {} from {} to {} ({} lines read, {} skipped, "
                     "{} malformed)",
                     s.counts.flows_matched, ns, s.since.empty() ? "the start" : s.since,
                     s.until.empty() ? "now" : s.until, s.counts.lines_read, s.counts.lines_skipped,
                     s.counts.lines_malformed);
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
  const auto plain = [](char c) {
    return c != '"' && c != '\\' && static_cast<unsigned char>(c) >= 0x20;
  };
  while (!s.empty()) {
    size_t run = 0;
    while (run < s.size() && plain(s[run]))
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

// `"key": ` at `indent` spaces, after the separator of the previous member.
void append_key(std::string& out, int indent, std::string_view key, bool first) {
  out += first ? "\n" : ",\n";
  out.append(static_cast<size_t>(indent), ' ');
  append_json_string(out, key);
  out += ": ";
}

void append_string_or_null(std::string& out, const std::string& s) {
  if (s.empty())
    out += "null";
  else
    append_json_string(out, s);
}

void append_endpoint(std::string& out, int indent, const FlowEndpoint& e) {
  out += '{';
  append_key(out, indent + 2, "namespace", true);
  append_string_or_null(out, e.namespace_name);
  append_key(out, indent + 2, "workload", false);
  append_json_string(out, e.workload);
  append_key(out, indent + 2, "pod", false);
  append_string_or_null(out, e.pod);
  append_key(out, indent + 2, "labels", false);
  if (e.labels.empty()) {
    out += "{}";
  } else {
    // As an ordered_json object built label by label: a repeated key keeps its first place
    // and its last value.
    out += '{';
    const auto& labels = e.labels;
    for (size_t i = 0; i < labels.size(); ++i) {
      const auto same_key = [&](const auto& l) { return l.first == labels[i].first; };
      if (std::any_of(labels.begin(), labels.begin() + static_cast<std::ptrdiff_t>(i), same_key)) {
        continue;
      }
      const auto last = std::find_if(labels.rbegin(), labels.rend(), same_key);
      append_key(out, indent + 4, labels[i].first, out.back() == '{');
      append_json_string(out, last->second);
    }
    out += '\n';
    out.append(static_cast<size_t>(indent + 2), ' ');
    out += '}';
  }
  append_key(out, indent + 2, "ip", false);
  append_string_or_null(out, e.ip);
  out += '\n';
  out.append(static_cast<size_t>(indent), ' ');
  out += '}';
}

// One row exactly as `row_to_json(r).dump(2)` nested at `indent` spaces would read.
void append_row(std::string& out, int indent, const DropRow& r) {
  const int inner = indent + 2;
  out.append(static_cast<size_t>(indent), ' ');
  out += '{';
  append_key(out, inner, "verdict", true);
  append_json_string(out, r.verdict);
  append_key(out, inner, "direction", false);
  append_json_string(out, r.direction);
  append_key(out, inner, "source", false);
  append_endpoint(out, inner, r.source);
  append_key(out, inner, "destination", false);
  append_endpoint(out, inner, r.destination);
  append_key(out, inner, "port", false);
  if (r.port == 0)
    out += "null";
  else
    fmt::format_to(std::back_inserter(out), "{}", r.port);
  append_key(out, inner, "protocol", false);
  append_string_or_null(out, r.protocol);
  append_key(out, inner, "reason", false);
  append_string_or_null(out, r.reason);
  append_key(out, inner, "policies", false);
  if (r.policies.empty()) {
    out += "[]";
  } else {
    out += '[';
    for (size_t i = 0; i < r.policies.size(); ++i) {
      out += i == 0 ? "\n" : ",\n";
      out.append(static_cast<size_t>(inner + 2), ' ');
      append_json_string(out, r.policies[i]);
    }
    out += '\n';
    out.append(static_cast<size_t>(inner), ' ');
    out += ']';
  }
  append_key(out, inner, "count", false);
  fmt::format_to(std::back_inserter(out), "{}", r.count);
  append_key(out, inner, "first_seen", false);
  append_string_or_null(out, r.first_seen);
  append_key(out, inner, "last_seen", false);
  append_string_or_null(out, r.last_seen);
  out += '\n';
  out.append(static_cast<size_t>(indent), ' ');
  out += '}';
}

} // namespace

void write_summary_json(const DropSummary& s, const TextSink& out) {
  const std::string head = summary_head(s).dump(2);
  // dump(2) ends with `"rows": []\n}`; the rows go between the brackets.
  constexpr std::string_view k_tail = "[]\n}";
  if (s.rows.empty() || head.size() < k_tail.size() ||
      std::string_view(head).substr(head.size() - k_tail.size()) != k_tail) {
    out(head);
    out("\n");
    return;
  }
  out(std::string_view(head).substr(0, head.size() - k_tail.size()));
  out("[\n");
  std::string text;
  for (size_t i = 0; i < s.rows.size(); ++i) {
    text.clear();
    append_row(text, 4, s.rows[i]);
    text += i + 1 == s.rows.size() ? "\n" : ",\n";
    out(text);
  }
  out("  ]\n}\n");
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
using TextCells = std::array<std::string, k_text_columns>;

TextCells text_cells(const DropRow& r) {
  return {r.verdict,
          r.direction,
          flow_name(r),
          or_dash(r.reason),
          policies_text(r),
          std::to_string(r.count),
          or_dash(r.first_seen),
          or_dash(r.last_seen)};
}

} // namespace

void write_text(const DropSummary& s, const TextSink& out, size_t max_rows) {
  out(header_line(s));
  out("\n");
  if (s.rows.empty()) {
    out("No dropped or audited flows.\n");
    return;
  }
  const TextCells head = {"VERDICT", "DIRECTION", "FLOW",       "REASON",
                          "POLICY",  "COUNT",     "FIRST SEEN", "LAST SEEN"};
  // Two passes over the rows (widths, then lines) instead of holding the table.
  std::array<size_t, k_text_columns> widths{};
  for (size_t c = 0; c < k_text_columns; ++c)
    widths[c] = width(head[c]);
  const size_t shown = std::min(max_rows, s.rows.size());
  for (size_t i = 0; i < shown; ++i) {
    const TextCells cells = text_cells(s.rows[i]);
    for (size_t c = 0; c < k_text_columns; ++c)
      widths[c] = std::max(widths[c], width(cells[c]));
  }
  std::string line;
  auto emit = [&](const TextCells& cells) {
    line.clear();
    for (size_t c = 0; c < k_text_columns; ++c) {
      const bool last = c + 1 == k_text_columns;
      const bool numeric = c == 5;
      const size_t pad = widths[c] - width(cells[c]);
      if (numeric) line.append(pad, ' ');
      line += cells[c];
      if (!numeric && !last) line.append(pad, ' ');
      if (!last) line += "  ";
    }
    line += '\n';
    out(line);
  };
  emit(head);
  uint64_t flows_left = 0;
  for (size_t i = 0; i < s.rows.size(); ++i) {
    if (i < shown) {
      emit(text_cells(s.rows[i]));
    } else {
      flows_left += s.rows[i].count;
    }
  }
  if (shown < s.rows.size()) {
    out(fmt::format("... {} more rows ({} flows): see drop-log.txt\n", s.rows.size() - shown,
                    flows_left));
  }
}

std::string render_text(const DropSummary& s) {
  std::string out;
  write_text(s, [&](std::string_view text) { out += text; });
  return out;
}

namespace {

std::string html_row(const DropRow& r) {
  return fmt::format(
      "<tr><td><span class=\"v v-{}\">{}</span></td><td>{}</td><td>{}</td><td>{}</td>"
      "<td data-sort=\"{:05}\">{}</td><td>{}</td><td>{}</td><td>{}</td>"
      "<td class=\"n\" data-sort=\"{:020}\">{}</td><td>{}</td><td>{}</td></tr>\n",
      html_escape(r.verdict), html_escape(r.verdict), html_escape(r.direction),
      html_escape(endpoint_name(r.source)), html_escape(endpoint_name(r.destination)), r.port,
      r.port == 0 ? "-" : std::to_string(r.port), html_escape(or_dash(r.protocol)),
      html_escape(or_dash(r.reason)), html_escape(policies_text(r)), r.count, r.count,
      html_escape(or_dash(r.first_seen)), html_escape(or_dash(r.last_seen)));
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
<input id="filter" type="search" placeholder="Filter rows" aria-label="Filter rows">
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
  const std::string page = fmt::format(k_page, html_escape(header_line(s)), k_rows_marker);
  const size_t at = page.find(k_rows_marker);
  out(std::string_view(page).substr(0, at));
  if (s.rows.empty()) {
    out("<tr><td colspan=\"11\" class=\"empty\">No dropped or audited flows.</td></tr>\n");
  }
  for (const auto& r : s.rows)
    out(html_row(r));
  out(std::string_view(page).substr(at + k_rows_marker.size()));
}

std::string render_html(const DropSummary& s) {
  std::string out;
  write_html(s, [&](std::string_view text) { out += text; });
  return out;
}

report::JUnitReport render_junit(const DropSummary& s) {
  report::JUnitReport junit("drops");
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

FileWriter::FileWriter(std::FILE* file, std::filesystem::path path, std::string tmp)
    : m_file(file), m_path(std::move(path)), m_tmp(std::move(tmp)) {}

FileWriter::FileWriter(FileWriter&& o) noexcept
    : m_file(o.m_file), m_path(std::move(o.m_path)), m_tmp(std::move(o.m_tmp)),
      m_failed(o.m_failed) {
  o.m_file = nullptr;
}

FileWriter::~FileWriter() {
  if (m_file != nullptr) {
    std::fclose(m_file);
    ::unlink(m_tmp.c_str());
  }
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
  const int fd = ::mkstemp(tmp.data());
  if (fd < 0) return fail(ErrorCode::io, "writing " + path.string() + ": " + std::strerror(errno));
  std::FILE* file = ::fdopen(fd, "w");
  if (file == nullptr) {
    ::close(fd);
    ::unlink(tmp.c_str());
    return fail(ErrorCode::io, "writing " + path.string() + ": " + std::strerror(errno));
  }
  std::setvbuf(file, nullptr, _IOFBF, 1u << 20);
  return FileWriter(file, path, std::move(tmp));
}

void FileWriter::write(std::string_view text) {
  if (m_file == nullptr || m_failed) return;
  if (std::fwrite(text.data(), 1, text.size(), m_file) != text.size()) m_failed = true;
}

Result<void> FileWriter::commit() {
  if (m_file == nullptr) return fail(ErrorCode::internal, m_path.string() + " committed twice");
  const int saved_fail = m_failed ? EIO : 0;
  ::fchmod(::fileno(m_file), 0644);
  const bool closed = std::fclose(m_file) == 0;
  m_file = nullptr;
  if (saved_fail != 0 || !closed || ::rename(m_tmp.c_str(), m_path.c_str()) != 0) {
    const int err = saved_fail != 0 ? saved_fail : errno;
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
