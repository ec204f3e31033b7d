#include "droplog/summary_json.hpp"

#include <charconv>
#include <iterator>

#include <fmt/format.h>

#include "droplog/view_parts.hpp"
#include "util/time.hpp"

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

ordered_json row_to_json(const DropRow& r, bool with_new) {
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
  if (with_new) row["new"] = r.is_new;
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
  if (s.previous) {
    // What the rows were compared with; "status" says whether "new" is known.
    const PreviousRun& p = *s.previous;
    ordered_json previous;
    previous["source"] = p.source;
    previous["until"] = string_or_null(p.until);
    const bool known = s.marks_new();
    previous["rows"] = known ? ordered_json(p.rows) : ordered_json(nullptr);
    previous["status"] = p.state == PreviousRun::State::read        ? "read"
                         : p.state == PreviousRun::State::not_found ? "none"
                                                                    : "unknown";
    if (!known) previous["problem"] = p.problem;
    j["previous"] = std::move(previous);
    j["new_rows"] = known ? ordered_json(s.new_rows) : ordered_json(nullptr);
  }
  j["rows"] = ordered_json::array();
  return j;
}

} // namespace

ordered_json summary_to_json(const DropSummary& s) {
  ordered_json j = summary_head(s);
  for (const auto& r : s.rows)
    j["rows"].push_back(row_to_json(r, s.marks_new()));
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
void append_row(std::string& out, const DropRow& r, bool with_new) {
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
  if (with_new) out += r.is_new ? ",\n      \"new\": true" : ",\n      \"new\": false";
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
    append_row(out.text(), s.rows[i], s.marks_new());
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

} // namespace netpol::droplog
