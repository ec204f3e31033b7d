#include "util/yaml.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>
#include <simdjson.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/parser.h>
#include <yaml-cpp/yaml.h>

#include "util/file.hpp"

namespace netpol {

std::string pointer_token(std::string_view key) {
  std::string out;
  for (char c : key) {
    if (c == '~')
      out += "~0";
    else if (c == '/')
      out += "~1";
    else
      out += c;
  }
  return out;
}

namespace {

size_t count_digits(std::string_view s, size_t from, int base = 10) {
  size_t i = from;
  while (i < s.size()) {
    const char c = s[i];
    const bool digit = base == 16  ? std::isxdigit(static_cast<unsigned char>(c)) != 0
                       : base == 8 ? c >= '0' && c <= '7'
                                   : c >= '0' && c <= '9';
    if (!digit) break;
    ++i;
  }
  return i - from;
}

// [-+]?[0-9]+
bool is_decimal_int(std::string_view s) {
  const size_t sign = !s.empty() && (s[0] == '-' || s[0] == '+') ? 1 : 0;
  return s.size() > sign && count_digits(s, sign) == s.size() - sign;
}

// 0x[0-9a-fA-F]+ or 0o[0-7]+
bool is_prefixed_int(std::string_view s, char prefix, int base) {
  return s.size() > 2 && s[0] == '0' && s[1] == prefix && count_digits(s, 2, base) == s.size() - 2;
}

// [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
bool is_float(std::string_view s) {
  size_t i = !s.empty() && (s[0] == '-' || s[0] == '+') ? 1 : 0;
  const size_t int_digits = count_digits(s, i);
  i += int_digits;
  size_t frac_digits = 0;
  if (i < s.size() && s[i] == '.') {
    frac_digits = count_digits(s, ++i);
    i += frac_digits;
  }
  if (int_digits == 0 && frac_digits == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
    const size_t exp_digits = count_digits(s, i);
    if (exp_digits == 0) return false;
    i += exp_digits;
  }
  return i == s.size();
}

// Hand-written rather than std::regex: this runs for every plain scalar read and every string
// written, and std::regex_match costs microseconds per call.
nlohmann::json plain_scalar(const std::string& s) {
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  // Every number form starts with a digit, a sign or a dot, and most scalars are names.
  const char c = s.front();
  if (!((c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.')) return s;
  try {
    if (is_decimal_int(s)) {
      if (s[0] == '-') return std::stoll(s);
      return std::stoull(s[0] == '+' ? s.substr(1) : s);
    }
    if (is_prefixed_int(s, 'x', 16)) return std::stoull(s.substr(2), nullptr, 16);
    if (is_prefixed_int(s, 'o', 8)) return std::stoull(s.substr(2), nullptr, 8);
    if (is_float(s)) return std::stod(s);
  } catch (const std::out_of_range&) {
    return s; // too large for a number: keep the text
  }
  if (s == ".inf" || s == ".Inf" || s == "+.inf") return std::numeric_limits<double>::infinity();
  if (s == "-.inf" || s == "-.Inf") return -std::numeric_limits<double>::infinity();
  return s;
}

// Would a YAML 1.1 reader (Helm's and kubectl's Go libraries, PyYAML) or a YAML 1.2 core
// reader take this plain scalar for something other than this string: a boolean (yes, ON,
// Y), a null (~), an integer (0x1F, 017, 1_000, 1:20), a float (.nan, 1e3), a date, a merge
// key or a value key? Such strings are written double-quoted. YAML::Emitter quotes what
// cannot be plain at all (": ", a leading indicator, a trailing ':'), but not these.
bool reads_as_other_type(const std::string& s) {
  if (s.empty()) return true;
  static const std::set<std::string, std::less<>> k_words = {
      "y",    "Y",    "yes",  "Yes",   "YES",   "n",     "N",  "no", "No", "NO",
      "true", "True", "TRUE", "false", "False", "FALSE", "on", "On", "ON", "off",
      "Off",  "OFF",  "null", "Null",  "NULL",  "~",     "<<", "="};
  if (k_words.count(s) != 0) return true;
  if (!plain_scalar(s).is_string()) return true; // YAML 1.2 core
  const char c = s.front();
  if (!((c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.')) return false;
  // YAML 1.1's int, float and timestamp types (yaml.org/type), as regular expressions: only
  // scalars that start like a number get this far.
  static const std::regex k_int11(
      "[-+]?(0b[0-1_]+|0[0-7_]+|(0|[1-9][0-9_]*)|0x[0-9a-fA-F_]+|[1-9][0-9_]*(:[0-5]?[0-9])+)");
  static const std::regex k_float11("[-+]?([0-9][0-9_]*)?\\.[0-9._]*([eE][-+]?[0-9]+)?|"
                                    "[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+\\.[0-9_]*|"
                                    "[-+]?\\.(inf|Inf|INF)|\\.(nan|NaN|NAN)|"
                                    "[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+");
  static const std::regex k_timestamp("[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?([Tt ].*)?");
  return std::regex_match(s, k_int11) || std::regex_match(s, k_float11) ||
         std::regex_match(s, k_timestamp);
}

// Only YAML's printable characters may appear unescaped (YAML 1.1 and 1.2 §5.1): DEL, C1
// controls, U+FFFE/U+FFFF and invalid UTF-8 make a reader stop with an error; CR, NEL, LS and
// PS would be read as line breaks.
bool yaml_printable(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      // '\r' too: the emitter would write it raw in a plain scalar, where it is a line break.
      if (c == 0x7f || (c < 0x20 && c != '\t' && c != '\n')) return false;
      ++i;
      continue;
    }
    const size_t length = c >= 0xc2 && c < 0xe0   ? 2
                          : c >= 0xe0 && c < 0xf0 ? 3
                          : c >= 0xf0 && c < 0xf5 ? 4
                                                  : 0;
    if (length == 0 || i + length > s.size()) return false;
    uint32_t cp = length == 2 ? c & 0x1f : length == 3 ? c & 0x0f : c & 0x07;
    for (size_t k = 1; k < length; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if ((length == 3 && cp < 0x800) || (length == 4 && (cp < 0x10000 || cp > 0x10ffff)))
      return false;
    // NEL, LS and PS are line breaks to a YAML 1.1 reader, so they are escaped as well.
    if ((cp >= 0x80 && cp <= 0x9f) || (cp >= 0xd800 && cp <= 0xdfff) || cp == 0x2028 ||
        cp == 0x2029 || cp == 0xfffe || cp == 0xffff) {
      return false;
    }
    i += length;
  }
  return true;
}

void emit_string(YAML::Emitter& out, const std::string& s) {
  if (!yaml_printable(s)) {
    // Escaped (\x7f, \u0085): the emitter would otherwise write these bytes as they are.
    out << YAML::EscapeNonAscii << YAML::DoubleQuoted << s;
  } else if (reads_as_other_type(s)) {
    out << YAML::DoubleQuoted << s;
  } else {
    out << s;
  }
}

void emit_json(YAML::Emitter& out, const nlohmann::json& v) {
  switch (v.type()) {
  case nlohmann::json::value_t::object:
    if (v.empty()) {
      out << YAML::Flow << YAML::BeginMap << YAML::EndMap;
      return;
    }
    out << YAML::BeginMap;
    for (const auto& [key, value] : v.items()) {
      out << YAML::Key;
      emit_string(out, key);
      out << YAML::Value;
      emit_json(out, value);
    }
    out << YAML::EndMap;
    return;
  case nlohmann::json::value_t::array:
    if (v.empty()) {
      out << YAML::Flow << YAML::BeginSeq << YAML::EndSeq;
      return;
    }
    out << YAML::BeginSeq;
    for (const auto& item : v)
      emit_json(out, item);
    out << YAML::EndSeq;
    return;
  case nlohmann::json::value_t::string: emit_string(out, v.get_ref<const std::string&>()); return;
  case nlohmann::json::value_t::null: out << YAML::Null; return;
  default:
    // Numbers and booleans as JSON writes them (shortest exact form); plain, so they read
    // back as numbers and booleans.
    out << v.dump();
    return;
  }
}

std::string emitted(const YAML::Emitter& out) {
  if (!out.good()) {
    // The emitter refuses only malformed event sequences, which emit_json never produces.
    throw std::logic_error("YAML emitter: " + out.GetLastError());
  }
  return std::string(out.c_str(), out.size()) + "\n";
}

// Limits on what one file may expand to (SPEC: no input crashes or exhausts memory). A
// "billion laughs" stream of 495 bytes expands by aliases to 10^9 nodes; yaml-cpp's parser
// recurses once per nesting level.
constexpr size_t k_max_alias_nodes = 100'000;
constexpr size_t k_max_nodes = 1'000'000;
constexpr size_t k_max_depth = 64;

// Thrown from the event handler to stop the parser at an input limit or a duplicate key.
struct InputRefused : std::runtime_error {
  InputRefused(const YAML::Mark& where, const std::string& message)
      : std::runtime_error(message), mark(where) {}
  YAML::Mark mark;
};

// Builds each document's JSON value straight from the parser's events, in one pass: no
// YAML::Node tree in between (building and walking that tree, after a first pass that only
// checked the stream, was most of the time a 200-policy `netpol apply` spent on its input).
// The result is what converting YAML::LoadAll's nodes gives: keys are their scalar text
// ("" for a collection or null key), a map value's line is its key's line, a sequence
// item's line its own, and an alias is a copy of its anchor's value.
class JsonBuilder final : public YAML::EventHandler {
public:
  void OnDocumentStart(const YAML::Mark& mark) override {
    start = mark;
    root = nullptr;
    root_line = 0;
    lines.clear();
    m_stack.clear();
    m_anchors.clear();
    // m_nodes and m_alias_nodes count the whole stream: a bomb may be split over documents.
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    add(mark, nullptr, "", anchor);
  }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    auto it = m_anchors.find(anchor);
    if (it == m_anchors.end()) {
      add(mark, nullptr, "", 0);
    } else {
      // Counted before the copy is made, so an alias bomb stops before it takes memory.
      m_alias_nodes += it->second.nodes;
      if (m_alias_nodes > k_max_alias_nodes) {
        throw InputRefused(mark,
                           fmt::format("aliases expand to more than {} nodes (an alias "
                                       "bomb?): write the values out instead of aliasing them",
                                       k_max_alias_nodes));
      }
      add(mark, it->second.value, it->second.text, 0, it->second.nodes);
    }
  }
  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    // Tag "!" marks a quoted (non-plain) scalar: always a string.
    const bool quoted = tag == "!" || tag == "tag:yaml.org,2002:str";
    add(mark, quoted ? nlohmann::json(value) : plain_scalar(value), value, anchor);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    open(mark, nlohmann::json::array(), anchor);
  }
  void OnSequenceEnd() override { close(); }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    open(mark, nlohmann::json::object(), anchor);
  }
  void OnMapEnd() override { close(); }

  YAML::Mark start = YAML::Mark::null_mark(); // where the last document started
  nlohmann::json root;
  int root_line = 0; // 0 when the document had no node
  std::map<std::string, int> lines;

private:
  struct Frame {
    nlohmann::json value;
    std::string pointer;
    YAML::anchor_t anchor = 0;
    int line = 0;
    bool is_key = false;  // a collection used as a mapping key: only its line matters
    bool discard = false; // inside such a key: no lines are recorded
    // Mapping state: the next node is a key unless one is pending.
    bool key_pending = false;
    std::string key;
    int key_line = 0;
    size_t next_index = 0; // sequence state
    size_t nodes = 1;      // nodes in this collection, itself included (for aliases of it)
    YAML::Mark mark = YAML::Mark::null_mark();
  };

  struct Anchored {
    nlohmann::json value;
    std::string text; // the scalar text, for an alias used as a key
    size_t nodes = 1;
  };

  void count_nodes(const YAML::Mark& mark, size_t n) {
    m_nodes += n;
    if (m_nodes > k_max_nodes) {
      throw InputRefused(mark, fmt::format("more than {} nodes: netpol reads files up to that "
                                           "size; split the file",
                                           k_max_nodes));
    }
  }

  bool expects_key() const {
    return !m_stack.empty() && m_stack.back().value.is_object() && !m_stack.back().key_pending;
  }

  // Pointer and line of the next child of the innermost collection (or of the root).
  std::pair<std::string, int> next_child(const YAML::Mark& mark) const {
    if (m_stack.empty()) return {"", mark.line + 1};
    const Frame& top = m_stack.back();
    if (top.value.is_object()) return {top.pointer + "/" + pointer_token(top.key), top.key_line};
    return {top.pointer + "/" + std::to_string(top.next_index), mark.line + 1};
  }

  void set_key(std::string key, int line, const YAML::Mark& mark) {
    Frame& top = m_stack.back();
    // Kubernetes (and kubectl's strict decoding) refuse a repeated key; taking the last one
    // silently would apply something other than what a reviewer read.
    if (top.value.contains(key)) {
      const auto first = lines.find(top.pointer + "/" + pointer_token(key));
      throw InputRefused(mark, fmt::format("duplicate key \"{}\"{}: remove one of them", key,
                                           first != lines.end()
                                               ? fmt::format(" (also at line {})", first->second)
                                               : std::string()));
    }
    top.key = std::move(key);
    top.key_line = line;
    top.key_pending = true;
  }

  void deliver(nlohmann::json value, size_t nodes) {
    if (m_stack.empty()) {
      root = std::move(value);
      return;
    }
    Frame& top = m_stack.back();
    top.nodes += nodes;
    if (top.value.is_object()) {
      top.value[top.key] = std::move(value);
      top.key_pending = false;
    } else {
      top.value.push_back(std::move(value));
      ++top.next_index;
    }
  }

  void add(const YAML::Mark& mark, nlohmann::json value, const std::string& text,
           YAML::anchor_t anchor, size_t nodes = 1) {
    count_nodes(mark, nodes);
    if (anchor != 0) m_anchors[anchor] = {value, value.is_primitive() ? text : "", nodes};
    if (expects_key()) {
      set_key(value.is_null() && text.empty() ? std::string() : text, mark.line + 1, mark);
      return;
    }
    const bool discard = !m_stack.empty() && m_stack.back().discard;
    auto [pointer, line] = next_child(mark);
    if (!discard) lines[pointer] = line;
    if (m_stack.empty()) root_line = line;
    deliver(std::move(value), nodes);
  }

  void open(const YAML::Mark& mark, nlohmann::json value, YAML::anchor_t anchor) {
    // yaml-cpp's parser recurses once per level, before it reports the next one: stopping
    // here bounds its stack too.
    if (m_stack.size() >= k_max_depth) {
      throw InputRefused(mark, fmt::format("nested deeper than {} levels", k_max_depth));
    }
    count_nodes(mark, 1);
    Frame f;
    f.mark = mark;
    f.value = std::move(value);
    f.anchor = anchor;
    if (expects_key()) {
      f.is_key = true;
      f.discard = true;
      f.line = mark.line + 1;
    } else {
      f.discard = !m_stack.empty() && m_stack.back().discard;
      auto [pointer, line] = next_child(mark);
      f.pointer = std::move(pointer);
      f.line = line;
      if (!f.discard) lines[f.pointer] = line;
      if (m_stack.empty()) root_line = line;
    }
    m_stack.push_back(std::move(f));
  }

  void close() {
    if (m_stack.empty()) return;
    Frame f = std::move(m_stack.back());
    m_stack.pop_back();
    if (f.anchor != 0) m_anchors[f.anchor] = {f.value, "", f.nodes};
    if (f.is_key) {
      set_key("", f.line, f.mark);
    } else {
      deliver(std::move(f.value), f.nodes);
    }
  }

  std::vector<Frame> m_stack;
  std::map<YAML::anchor_t, Anchored> m_anchors;
  size_t m_nodes = 0;       // nodes built in this stream, alias copies included
  size_t m_alias_nodes = 0; // nodes built by copying anchored values
};

} // namespace

int YamlDocument::line_of(const std::string& pointer) const {
  std::string p = pointer;
  while (true) {
    if (auto it = lines.find(p); it != lines.end()) return it->second;
    if (p.empty()) return line;
    p = p.substr(0, p.rfind('/'));
  }
}

std::string YamlDocument::where(const std::string& pointer) const {
  return source + ":" + std::to_string(line_of(pointer));
}

Result<std::vector<YamlDocument>>
parse_yaml_documents(std::string_view text, const std::string& source, ErrorCode error_code) {
  // YAML is Unicode text, and Kubernetes stores UTF-8: refuse other bytes here, with their
  // line, rather than carry them into objects that cannot be serialised.
  if (!simdjson::validate_utf8(text.data(), text.size())) {
    int line = 1;
    for (size_t start = 0; start < text.size(); ++line) {
      const size_t end = std::min(text.find('\n', start), text.size());
      if (!simdjson::validate_utf8(text.data() + start, end - start)) break;
      start = end + 1;
    }
    return fail(error_code,
                fmt::format("{}:{}: not valid UTF-8 text (save the file as UTF-8)", source, line));
  }
  // yaml-cpp's scanner queues a flow collection's tokens before the handler sees them, so
  // "[1,1,1,...]" would take memory before the node count below could stop it: every flow
  // node but the last needs a comma, so count those first.
  if (static_cast<size_t>(std::count(text.begin(), text.end(), ',')) > k_max_nodes) {
    return fail(error_code, fmt::format("{}: more than {} nodes: netpol reads files up to that "
                                        "size; split the file",
                                        source, k_max_nodes));
  }
  std::vector<YamlDocument> docs;
  try {
    std::istringstream in{std::string(text)};
    YAML::Parser parser(in);
    JsonBuilder builder;
    int previous = -1;
    while (parser.HandleNextDocument(builder)) {
      // yaml-cpp 0.7 loops forever on some malformed streams, e.g. a lone ',' (jbeder/yaml-cpp
      // #1040, fixed upstream after 0.8): the parser stops consuming input and emits the same
      // empty document again and again.
      if (builder.start.pos == previous) {
        throw YAML::ParserException(builder.start, "unexpected character");
      }
      previous = builder.start.pos;
      YamlDocument doc;
      doc.source = source;
      doc.line = builder.root_line > 0 ? builder.root_line : 1;
      doc.value = std::move(builder.root);
      doc.lines = std::move(builder.lines);
      if (builder.root_line == 0) doc.lines[""] = doc.line;
      docs.push_back(std::move(doc));
    }
  } catch (const InputRefused& e) {
    return fail(error_code,
                fmt::format("{}:{}:{}: {}", source, e.mark.line + 1, e.mark.column + 1, e.what()));
  } catch (const YAML::Exception& e) {
    return fail(error_code, source + ":" + std::to_string(e.mark.line + 1) + ":" +
                                std::to_string(e.mark.column + 1) + ": invalid YAML: " + e.msg);
  }
  return docs;
}

Result<std::vector<YamlDocument>> load_yaml_file(const std::string& path, ErrorCode error_code) {
  auto text = read_input_file(path, error_code);
  if (!text) return fail(text.error());
  return parse_yaml_documents(*text, path, error_code);
}

void emit_yaml(YAML::Emitter& out, const nlohmann::json& value) {
  emit_json(out, value);
}

std::string yaml_scalar(const std::string& text) {
  YAML::Emitter out;
  emit_string(out, text);
  std::string s = emitted(out);
  s.pop_back();
  return s;
}

std::string to_yaml(const nlohmann::json& value) {
  YAML::Emitter out;
  emit_json(out, value);
  return emitted(out);
}

} // namespace netpol
