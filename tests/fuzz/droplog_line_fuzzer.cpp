// libFuzzer target: any bytes as drop-log lines (split at '\n', one parser reused, as a
// collector uses it). Parsing must classify every line as flow, skipped or malformed; it
// must never crash, throw, hang or leak, and a flow must be one the drop log can show. A
// parser of every connection attempt (Verdicts::connections) classifies each line for the
// drop log exactly as the drops parser does.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "droplog/line_parser.hpp"
#include "util/time.hpp"

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static netpol::droplog::LineParser parser; // reused: state left by one input must not matter
  static netpol::droplog::LineParser connections(netpol::droplog::Verdicts::connections);
  netpol::droplog::DropFlow flow;
  netpol::droplog::DropFlow any;
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  while (true) {
    const size_t nl = rest.find('\n');
    const std::string_view line = rest.substr(0, nl);
    const auto outcome = parser.parse(line, flow);
    const auto any_outcome = connections.parse(line, any);
    check(connections.drop_outcome() == outcome);
    if (any_outcome == netpol::droplog::LineOutcome::flow) {
      check(any.verdict == "DROPPED" || any.verdict == "AUDIT" || any.verdict == "FORWARDED" ||
            any.verdict == "REDIRECTED");
      check(any.port <= 65535);
    }
    if (outcome == netpol::droplog::LineOutcome::flow) {
      check(flow.verdict == "DROPPED" || flow.verdict == "AUDIT");
      check(!flow.direction.empty());
      check(flow.port <= 65535);
      const std::string_view event = parser.event_json();
      check(!event.empty() && event.front() == '{' && event.back() == '}');
      if (flow.has_time) {
        // The time round-trips through the form the views print.
        check(netpol::parse_rfc3339(netpol::format_rfc3339(flow.time_ns)) == flow.time_ns);
      }
      for (const auto* ep : {&flow.source, &flow.destination}) {
        check(ep->workload == netpol::droplog::derive_workload(*ep));
      }
    }
    if (nl == std::string_view::npos) break;
    rest.remove_prefix(nl + 1);
  }
  return 0;
}
