#include "droplog/line_parser.hpp"

#include <algorithm>
#include <cstring>

#include <simdjson.h>

#include "util/strings.hpp"
#include "util/time.hpp"

namespace netpol::droplog {
namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// The length of the "2026-11-26T10:00:00.123456789Z " that `pods/log?timestamps=true` puts
// before every line (the space included), 0 when there is none; its time in `ns`.
size_t timestamp_prefix(std::string_view s, int64_t& ns) {
  if (s.size() > 21 && s[0] >= '0' && s[0] <= '9' && s[4] == '-') {
    const size_t space = s.find(' ');
    if (space != std::string_view::npos && space <= 40) {
      if (const auto t = parse_rfc3339(s.substr(0, space))) {
        ns = *t;
        return space + 1;
      }
    }
  }
  return 0;
}

std::string_view strip_timestamp_prefix(std::string_view s) {
  int64_t ns = 0;
  const size_t n = timestamp_prefix(s, ns);
  return n == 0 ? s : trim(s.substr(n));
}

enum class VerdictScan { drop, connection, other, none };

// Finds the first "verdict" that is shaped like a JSON key and tells whether its value is
// DROPPED or AUDIT (drop), FORWARDED or REDIRECTED (connection), without parsing. `escaped`: the
// JSON is inside a logfmt quoted string, so its quotes read \". Go's protojson may put one space
// after ':' and ','.
VerdictScan scan_verdict(std::string_view s, bool escaped) {
  const char* p = s.data();
  const char* const end = s.data() + s.size();
  const std::string_view quote = escaped ? std::string_view("\\\"") : std::string_view("\"");
  auto eat = [&](const char*& q, std::string_view token) {
    if (static_cast<size_t>(end - q) >= token.size() &&
        std::memcmp(q, token.data(), token.size()) == 0) {
      q += token.size();
      return true;
    }
    return false;
  };
  auto spaces = [&](const char*& q) {
    while (q < end && *q == ' ')
      ++q;
  };
  while (p < end) {
    // string_view::find looks for the 'v' with memchr: cheaper than memmem's setup for a
    // key that usually comes within the first hundred bytes.
    const size_t at = std::string_view(p, static_cast<size_t>(end - p)).find("verdict");
    if (at == std::string_view::npos) return VerdictScan::none;
    const char* key_start = p + at;
    const char* q = key_start + 7;
    p = q;
    const bool opened = static_cast<size_t>(key_start - s.data()) >= quote.size() &&
                        std::memcmp(key_start - quote.size(), quote.data(), quote.size()) == 0;
    if (!opened || !eat(q, quote)) continue;
    spaces(q);
    if (!eat(q, ":")) continue;
    spaces(q);
    if (!eat(q, quote)) continue;
    if (eat(q, "DROPPED") || eat(q, "AUDIT")) {
      return (q < end && *q == quote.front()) ? VerdictScan::drop : VerdictScan::other;
    }
    if (eat(q, "FORWARDED") || eat(q, "REDIRECTED")) {
      return (q < end && *q == quote.front()) ? VerdictScan::connection : VerdictScan::other;
    }
    return VerdictScan::other;
  }
  return VerdictScan::none;
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

bool hex_value(std::string_view s, size_t pos, size_t n, uint32_t& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    const char c = s[i];
    uint32_t d = 0;
    if (c >= '0' && c <= '9')
      d = static_cast<uint32_t>(c - '0');
    else if (c >= 'a' && c <= 'f')
      d = static_cast<uint32_t>(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F')
      d = static_cast<uint32_t>(c - 'A' + 10);
    else
      return false;
    out = out * 16 + d;
  }
  return true;
}

// Unquotes a Go-quoted string (strconv.Quote: what logrus and slog's logfmt write) that
// starts at s[0] == '"'. Appends the content to `out`; false when the quote is not closed
// or an escape is invalid.
bool unquote_go(std::string_view s, std::string& out) {
  size_t i = 1;
  while (i < s.size()) {
    const size_t stop = s.find_first_of("\"\\", i);
    if (stop == std::string_view::npos) return false;
    out.append(s.data() + i, stop - i);
    i = stop;
    if (s[i] == '"') return true;
    if (i + 1 >= s.size()) return false;
    const char e = s[i + 1];
    i += 2;
    uint32_t cp = 0;
    switch (e) {
    case '"': out += '"'; break;
    case '\\': out += '\\'; break;
    case '\'': out += '\''; break;
    case 'n': out += '\n'; break;
    case 't': out += '\t'; break;
    case 'r': out += '\r'; break;
    case 'a': out += '\a'; break;
    case 'b': out += '\b'; break;
    case 'f': out += '\f'; break;
    case 'v': out += '\v'; break;
    case 'x':
      if (!hex_value(s, i, 2, cp)) return false;
      out += static_cast<char>(cp);
      i += 2;
      break;
    case 'u':
      if (!hex_value(s, i, 4, cp)) return false;
      append_utf8(out, cp);
      i += 4;
      break;
    case 'U':
      if (!hex_value(s, i, 8, cp) || cp > 0x10FFFF) return false;
      append_utf8(out, cp);
      i += 8;
      break;
    default: return false;
    }
  }
  return false;
}

// The start of the logfmt `msg=` value, or npos.
size_t find_msg(std::string_view s) {
  size_t from = 0;
  while (true) {
    const size_t at = s.find("msg=", from);
    if (at == std::string_view::npos) return at;
    if (at == 0 || s[at - 1] == ' ') return at + 4;
    from = at + 4;
  }
}

// Raised through the parse when a field we read has the wrong JSON type.
struct Malformed {};

std::string_view str(element e) {
  std::string_view v;
  if (e.get_string().get(v) != simdjson::SUCCESS) throw Malformed{};
  return v;
}
uint64_t uint(element e) {
  uint64_t v = 0;
  if (e.get_uint64().get(v) == simdjson::SUCCESS) return v;
  // protojson writes 64-bit integers as strings.
  std::string_view s;
  if (e.get_string().get(s) == simdjson::SUCCESS) {
    uint64_t n = 0;
    for (char c : s) {
      if (c < '0' || c > '9') throw Malformed{};
      n = n * 10 + static_cast<uint64_t>(c - '0');
    }
    return n;
  }
  throw Malformed{};
}
object obj(element e) {
  object o;
  if (e.get_object().get(o) != simdjson::SUCCESS) throw Malformed{};
  return o;
}
array arr(element e) {
  array a;
  if (e.get_array().get(a) != simdjson::SUCCESS) throw Malformed{};
  return a;
}

bool starts_with(std::string_view s, std::string_view p) {
  return s.substr(0, p.size()) == p;
}

void read_label(std::string_view label, FlowEndpoint& ep) {
  const size_t colon = label.find(':');
  if (colon == std::string_view::npos) return;
  const std::string_view source = label.substr(0, colon);
  const std::string_view rest = label.substr(colon + 1);
  if (source == "reserved") {
    // world-ipv4 / world-ipv6 are world split by family.
    ep.reserved = starts_with(rest, "world") ? "world" : std::string(rest);
    return;
  }
  if (source != "k8s") return;
  const size_t eq = rest.find('=');
  const std::string_view key = rest.substr(0, eq);
  const std::string_view value = eq == std::string_view::npos ? "" : rest.substr(eq + 1);
  // Cilium adds these to every identity; they are not pod labels.
  if (starts_with(key, "io.cilium.") || starts_with(key, "io.kubernetes.pod.") ||
      starts_with(key, "io.cilium.k8s.")) {
    return;
  }
  ep.labels.emplace_back(std::string(key), std::string(value));
}

void read_endpoint(element e, FlowEndpoint& ep) {
  for (auto field : obj(e)) {
    const std::string_view key = field.key;
    if (key == "namespace") {
      ep.namespace_name = str(field.value);
    } else if (key == "pod_name") {
      ep.pod = str(field.value);
    } else if (key == "labels") {
      for (element l : arr(field.value))
        read_label(str(l), ep);
    } else if (key == "workloads") {
      for (element w : arr(field.value)) {
        element name;
        if (ep.reported_workload.empty() && obj(w)["name"].get(name) == simdjson::SUCCESS) {
          ep.reported_workload = str(name);
        }
      }
    }
  }
  std::sort(ep.labels.begin(), ep.labels.end());
  ep.labels.erase(std::unique(ep.labels.begin(), ep.labels.end()), ep.labels.end());
}

void read_policies(element e, std::vector<std::string>& out) {
  for (element p : arr(e)) {
    std::string_view name, ns;
    for (auto field : obj(p)) {
      if (field.key == "name")
        name = str(field.value);
      else if (field.key == "namespace")
        ns = str(field.value);
    }
    if (name.empty()) continue;
    out.push_back(ns.empty() ? std::string(name) : std::string(ns) + "/" + std::string(name));
  }
}

void read_l4(element e, DropFlow& flow) {
  for (auto field : obj(e)) {
    flow.protocol = field.key;
    element port;
    if (obj(field.value)["destination_port"].get(port) == simdjson::SUCCESS) {
      const uint64_t p = uint(port);
      if (p > 65535) throw Malformed{};
      flow.port = static_cast<uint32_t>(p);
    }
  }
}

// flow.aggregate of an aggregated exporter event (cilium/cilium pkg/hubble/exporter/
// aggregator.go): {"ingress_flow_count":N,"egress_flow_count":N,"unknown_direction_flow_count":N},
// uint32 each, a zero count left out.
void read_aggregate(element e, DropFlow& flow) {
  for (auto field : obj(e)) {
    const std::string_view key = field.key;
    if (key == "ingress_flow_count")
      flow.aggregate_ingress = uint(field.value);
    else if (key == "egress_flow_count")
      flow.aggregate_egress = uint(field.value);
    else if (key == "unknown_direction_flow_count")
      flow.aggregate_unknown = uint(field.value);
  }
  // Three uint32 counts; larger is not a count the exporter writes, and their sum must not wrap.
  constexpr uint64_t k_max = 0xFFFFFFFFu;
  if (flow.aggregate_ingress > k_max || flow.aggregate_egress > k_max ||
      flow.aggregate_unknown > k_max) {
    throw Malformed{};
  }
}

bool is_drop_verdict(std::string_view verdict) {
  return verdict == "DROPPED" || verdict == "AUDIT";
}

// Fills `flow` from a Flow object; false when its verdict is not one we keep (DROPPED or
// AUDIT; with `connections`, FORWARDED and REDIRECTED too).
bool read_flow(object f, DropFlow& flow, bool connections) {
  uint64_t reason_code = 0;
  for (auto field : f) {
    const std::string_view key = field.key;
    if (key == "verdict") {
      flow.verdict = str(field.value);
    } else if (key == "time") {
      flow.time = str(field.value);
    } else if (key == "IP") {
      for (auto ip : obj(field.value)) {
        if (ip.key == "source")
          flow.source.ip = str(ip.value);
        else if (ip.key == "destination")
          flow.destination.ip = str(ip.value);
      }
    } else if (key == "l4") {
      read_l4(field.value, flow);
    } else if (key == "source") {
      read_endpoint(field.value, flow.source);
    } else if (key == "destination") {
      read_endpoint(field.value, flow.destination);
    } else if (key == "traffic_direction") {
      flow.direction = str(field.value);
    } else if (key == "drop_reason_desc") {
      flow.reason = str(field.value);
    } else if (key == "drop_reason") {
      reason_code = uint(field.value);
    } else if (key == "ingress_denied_by" || key == "egress_denied_by") {
      read_policies(field.value, flow.policies);
    } else if (key == "aggregate") {
      read_aggregate(field.value, flow);
    } else if (key == "is_reply" || key == "reply") {
      // Read leniently: the drop log never used it, so an odd value must not make a drop
      // line malformed.
      bool reply = false;
      if (field.value.get_bool().get(reply) == simdjson::SUCCESS) flow.reply = flow.reply || reply;
    }
  }
  if (!is_drop_verdict(flow.verdict) &&
      !(connections && (flow.verdict == "FORWARDED" || flow.verdict == "REDIRECTED"))) {
    return false;
  }
  // A forwarded reply (server to client, to the client's ephemeral port) is the answer to a
  // connection, not an attempt: as one it would read as traffic the other way.
  if (flow.reply && !is_drop_verdict(flow.verdict)) return false;
  if (flow.reason.empty() && reason_code != 0) flow.reason = drop_reason_name(reason_code);
  if (flow.direction.empty() || flow.direction == "TRAFFIC_DIRECTION_UNKNOWN") {
    flow.direction = "UNKNOWN";
  }
  std::sort(flow.policies.begin(), flow.policies.end());
  flow.policies.erase(std::unique(flow.policies.begin(), flow.policies.end()), flow.policies.end());
  return true;
}

} // namespace

std::optional<int64_t> log_line_time(std::string_view line) {
  int64_t ns = 0;
  if (timestamp_prefix(line, ns) == 0) return std::nullopt;
  return ns;
}

struct LineParser::Impl {
  simdjson::dom::parser parser;
  std::string buffer; // the event JSON, followed by simdjson's padding
};

LineParser::LineParser(Verdicts verdicts)
    : m_impl(std::make_unique<Impl>()), m_connections(verdicts == Verdicts::connections) {}
LineParser::~LineParser() = default;

LineOutcome LineParser::parse(std::string_view line, DropFlow& flow) {
  const LineOutcome outcome = parse_line(line, flow);
  // What a Verdicts::drops parser says of the line: only a line whose scan found DROPPED or
  // AUDIT and whose flow has one of them is parsed there; every other line is skipped
  // unparsed (so a broken FORWARDED line is skipped, not malformed).
  if (!m_connections || outcome == LineOutcome::skipped) {
    m_drop_outcome = outcome;
  } else if (!m_cut_short && (!m_drop_scan || (m_verdict_read && !is_drop_verdict(flow.verdict)))) {
    m_drop_outcome = LineOutcome::skipped;
  } else {
    m_drop_outcome = outcome;
  }
  return outcome;
}

LineOutcome LineParser::parse_line(std::string_view line, DropFlow& flow) {
  m_event_json = {};
  m_drop_scan = false;
  m_cut_short = false;
  m_verdict_read = false;
  line = strip_timestamp_prefix(trim(line));
  if (line.empty()) return LineOutcome::skipped;

  // The scan's verdict decides whether the line is parsed at all.
  const auto wanted = [&](VerdictScan scan) {
    m_drop_scan = scan == VerdictScan::drop;
    if (m_drop_scan) return true;
    if (!m_connections || scan != VerdictScan::connection) return false;
    return m_needles.empty() ||
           std::any_of(m_needles.begin(), m_needles.end(), [&](const std::string& needle) {
             return line.find(needle) != std::string_view::npos;
           });
  };
  std::string& buffer = m_impl->buffer;
  buffer.clear();
  if (line.front() == '{') {
    if (line.back() != '}') { // cut short (rotation, limitBytes)
      m_cut_short = true;
      return LineOutcome::malformed;
    }
    if (!wanted(scan_verdict(line, false))) return LineOutcome::skipped;
    buffer.append(line);
  } else {
    const size_t msg = find_msg(line);
    if (msg == std::string_view::npos || msg + 1 >= line.size() || line[msg] != '"' ||
        line[msg + 1] != '{') {
      return LineOutcome::skipped; // an ordinary agent log line
    }
    const std::string_view value = line.substr(msg);
    if (!wanted(scan_verdict(value, true))) return LineOutcome::skipped;
    if (!unquote_go(value, buffer)) return LineOutcome::malformed;
    // A message may end in whitespace ("{…}\n" from a logger that adds one): JSON allows
    // it, but the event goes to drop-log.jsonl as one line holding one object.
    while (!buffer.empty() && is_space(buffer.back()))
      buffer.pop_back();
  }
  const size_t length = buffer.size();
  buffer.append(simdjson::SIMDJSON_PADDING, '\0');

  element doc;
  if (m_impl->parser.parse(buffer.data(), length, false).get(doc) != simdjson::SUCCESS) {
    return LineOutcome::malformed;
  }
  flow.clear();
  try {
    object top;
    if (doc.get_object().get(top) != simdjson::SUCCESS) return LineOutcome::malformed;
    element inner;
    object f;
    if (top["flow"].get(inner) == simdjson::SUCCESS) {
      f = obj(inner);
    } else if (top["verdict"].get(inner) == simdjson::SUCCESS) {
      f = top; // a bare Flow
    } else {
      return LineOutcome::skipped; // another event kind that mentions a verdict
    }
    const bool kept = read_flow(f, flow, m_connections);
    m_verdict_read = true;
    if (!kept) return LineOutcome::skipped;
    if (flow.time.empty()) {
      element t;
      if (top["time"].get(t) == simdjson::SUCCESS) flow.time = str(t);
    }
  } catch (const Malformed&) {
    return LineOutcome::malformed;
  }
  if (!flow.time.empty()) {
    const auto ns = parse_rfc3339(flow.time);
    if (!ns) return LineOutcome::malformed;
    flow.time_ns = *ns;
    flow.has_time = true;
  }
  for (FlowEndpoint* ep : {&flow.source, &flow.destination}) {
    ep->workload = derive_workload(*ep);
  }
  m_event_json = std::string_view(buffer.data(), length);
  return LineOutcome::flow;
}

} // namespace netpol::droplog
