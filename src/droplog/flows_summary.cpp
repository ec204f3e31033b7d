#include "droplog/flows_summary.hpp"

#include <nlohmann/json.hpp>

#include "droplog/view_parts.hpp"

namespace netpol::droplog {
namespace {

using nlohmann::ordered_json;

ordered_json string_or_null(const std::string& s) {
  return s.empty() ? ordered_json(nullptr) : ordered_json(s);
}

ordered_json endpoint_to_json(const model::ObservedEndpoint& e) {
  ordered_json j;
  j["namespace"] = string_or_null(e.namespace_name);
  j["workload"] = e.workload;
  j["pod"] = string_or_null(e.pod);
  return j;
}

} // namespace

void write_flows_summary(const DropSummary& summary, const ConnectionAggregator& connections,
                         const TextSink& sink) {
  ordered_json head;
  head["since"] = string_or_null(summary.since);
  head["until"] = string_or_null(summary.until);
  head["namespaces"] = summary.namespaces;
  head["lines_read"] = summary.counts.lines_read;
  head["flows"] = connections.flows();
  head["flows_without_port"] = connections.flows_without_port();
  head["rows"] = ordered_json::array();
  const std::string text = head.dump(2);
  // dump(2) ends with `"rows": []\n}`; the rows go between the brackets, one per line.
  constexpr std::string_view k_tail = "[]\n}";
  const auto rows = connections.rows();
  if (rows.empty()) {
    sink(text);
    sink("\n");
    return;
  }
  ChunkedSink out(sink);
  out.text().append(text, 0, text.size() - k_tail.size());
  out.text() += "[\n";
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& r = rows[i];
    const auto& c = r.connection;
    ordered_json row;
    row["verdict"] = r.verdict;
    row["source"] = endpoint_to_json(c.source);
    row["destination"] = endpoint_to_json(c.destination);
    row["port"] = c.port;
    row["protocol"] = model::to_string(c.protocol);
    row["count"] = c.count;
    row["first_seen"] = string_or_null(c.first_seen);
    row["last_seen"] = string_or_null(c.last_seen);
    out.text() += "    ";
    // Names come from flow logs: invalid UTF-8 is replaced, never a throw.
    out.text() += row.dump(-1, ' ', false, ordered_json::error_handler_t::replace);
    out.text() += i + 1 == rows.size() ? "\n" : ",\n";
    out.done();
  }
  out.text() += "  ]\n}\n";
}

} // namespace netpol::droplog
