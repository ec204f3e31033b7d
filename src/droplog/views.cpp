#include "droplog/views.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

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
  if (r.port != 0) return fmt::format("{}/{}", r.port, r.protocol.empty() ? "?" : r.protocol);
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
  return fmt::format("{} → {}:{}", endpoint_name(r.source),
                     with_port_brackets(endpoint_name(r.destination)), port_text(r));
}

ordered_json summary_to_json(const DropSummary& s) {
  ordered_json j;
  j["since"] = string_or_null(s.since);
  j["until"] = string_or_null(s.until);
  j["namespaces"] = s.namespaces;
  j["lines_read"] = s.counts.lines_read;
  j["flows_matched"] = s.counts.flows_matched;
  j["lines_skipped"] = s.counts.lines_skipped;
  j["lines_malformed"] = s.counts.lines_malformed;
  ordered_json rows = ordered_json::array();
  for (const auto& r : s.rows) {
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
    rows.push_back(std::move(row));
  }
  j["rows"] = std::move(rows);
  return j;
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

std::string render_text(const DropSummary& s) {
  std::string out = header_line(s) + "\n";
  if (s.rows.empty()) {
    return out + "No dropped or audited flows.\n";
  }
  const std::vector<std::string> head = {"VERDICT", "DIRECTION", "FLOW",       "REASON",
                                         "POLICY",  "COUNT",     "FIRST SEEN", "LAST SEEN"};
  std::vector<std::vector<std::string>> table;
  for (const auto& r : s.rows) {
    table.push_back({r.verdict, r.direction, flow_name(r), or_dash(r.reason), policies_text(r),
                     std::to_string(r.count), or_dash(r.first_seen), or_dash(r.last_seen)});
  }
  std::vector<size_t> widths(head.size());
  for (size_t c = 0; c < head.size(); ++c) {
    widths[c] = width(head[c]);
    for (const auto& row : table)
      widths[c] = std::max(widths[c], width(row[c]));
  }
  auto emit = [&](const std::vector<std::string>& cells) {
    std::string line;
    for (size_t c = 0; c < cells.size(); ++c) {
      const bool last = c + 1 == cells.size();
      const bool numeric = c == 5;
      const std::string pad(widths[c] - width(cells[c]), ' ');
      line += numeric ? pad + cells[c] : cells[c] + (last ? "" : pad);
      if (!last) line += "  ";
    }
    out += line + "\n";
  };
  emit(head);
  for (const auto& row : table)
    emit(row);
  return out;
}

std::string render_html(const DropSummary& s) {
  std::string rows;
  for (const auto& r : s.rows) {
    rows += fmt::format(
        "<tr><td><span class=\"v v-{}\">{}</span></td><td>{}</td><td>{}</td><td>{}</td>"
        "<td data-sort=\"{:05}\">{}</td><td>{}</td><td>{}</td><td>{}</td>"
        "<td class=\"n\" data-sort=\"{:020}\">{}</td><td>{}</td><td>{}</td></tr>\n",
        html_escape(r.verdict), html_escape(r.verdict), html_escape(r.direction),
        html_escape(endpoint_name(r.source)), html_escape(endpoint_name(r.destination)), r.port,
        r.port == 0 ? "-" : std::to_string(r.port), html_escape(or_dash(r.protocol)),
        html_escape(or_dash(r.reason)), html_escape(policies_text(r)), r.count, r.count,
        html_escape(or_dash(r.first_seen)), html_escape(or_dash(r.last_seen)));
  }
  if (rows.empty()) {
    rows = "<tr><td colspan=\"11\" class=\"empty\">No dropped or audited flows.</td></tr>\n";
  }
  static constexpr const char* k_page = R"(<!DOCTYPE html>
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
  return fmt::format(k_page, html_escape(header_line(s)), rows);
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
  for (const auto& r : s.rows) {
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
  return junit;
}

JsonlWriter::JsonlWriter(std::FILE* file, std::filesystem::path path, std::string tmp)
    : m_file(file), m_path(std::move(path)), m_tmp(std::move(tmp)) {}

JsonlWriter::JsonlWriter(JsonlWriter&& o) noexcept
    : m_file(o.m_file), m_path(std::move(o.m_path)), m_tmp(std::move(o.m_tmp)),
      m_failed(o.m_failed) {
  o.m_file = nullptr;
}

JsonlWriter::~JsonlWriter() {
  if (m_file != nullptr) {
    std::fclose(m_file);
    ::unlink(m_tmp.c_str());
  }
}

Result<JsonlWriter> JsonlWriter::open(const std::filesystem::path& path) {
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
  return JsonlWriter(file, path, std::move(tmp));
}

void JsonlWriter::write(std::string_view json) {
  if (m_file == nullptr || m_failed) return;
  if (std::fwrite(json.data(), 1, json.size(), m_file) != json.size() ||
      std::fputc('\n', m_file) == EOF) {
    m_failed = true;
  }
}

Result<void> JsonlWriter::commit() {
  if (m_file == nullptr) return fail(ErrorCode::internal, "drop-log.jsonl committed twice");
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

} // namespace netpol::droplog
