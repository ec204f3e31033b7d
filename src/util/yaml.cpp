#include "util/yaml.hpp"

#include <cctype>
#include <cmath>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <simdjson.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/parser.h>
#include <yaml-cpp/yaml.h>

namespace netpol {
namespace {

std::string escape_pointer_token(const std::string& token) {
  std::string out;
  for (char c : token) {
    if (c == '~')
      out += "~0";
    else if (c == '/')
      out += "~1";
    else
      out += c;
  }
  return out;
}

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

bool needs_quotes(const std::string& s) {
  if (s.empty()) return true;
  if (!plain_scalar(s).is_string()) return true; // would read back as bool/number/null
  static const std::string specials = ":#{}[],&*!|>'\"%@`";
  if (specials.find(s.front()) != std::string::npos || s.front() == '-' || s.front() == '?' ||
      s.front() == ' ' || s.back() == ' ') {
    return true;
  }
  return s.find(": ") != std::string::npos || s.find(" #") != std::string::npos ||
         s.find('\n') != std::string::npos || s == "yes" || s == "no" || s == "on" || s == "off" ||
         s == "y" || s == "n";
}

std::string scalar_text(const nlohmann::json& v) {
  if (v.is_string()) {
    const auto& s = v.get_ref<const std::string&>();
    return needs_quotes(s) ? nlohmann::json(s).dump() : s;
  }
  if (v.is_null()) return "null";
  return v.dump();
}

void emit(const nlohmann::json& v, int indent, std::string& out);

void emit_value_after_key(const nlohmann::json& v, int indent, std::string& out) {
  if (v.is_object() && !v.empty()) {
    out += "\n";
    emit(v, indent + 2, out);
  } else if (v.is_array() && !v.empty()) {
    out += "\n";
    emit(v, indent, out); // sequences under a key are not indented further (kubectl style)
  } else if (v.is_object()) {
    out += " {}\n";
  } else if (v.is_array()) {
    out += " []\n";
  } else {
    // Appended piecewise: GCC 12 reports a false -Wrestrict for " " + std::string + "\n".
    out += ' ';
    out += scalar_text(v);
    out += '\n';
  }
}

void emit(const nlohmann::json& v, int indent, std::string& out) {
  const std::string pad(static_cast<size_t>(indent), ' ');
  if (v.is_object()) {
    for (const auto& [key, value] : v.items()) {
      out += pad + scalar_text(key) + ":";
      emit_value_after_key(value, indent, out);
    }
  } else if (v.is_array()) {
    for (const auto& item : v) {
      if (item.is_object() && !item.empty()) {
        std::string nested;
        emit(item, indent + 2, nested);
        // Replace the first line's indentation with "- ".
        out += pad + "- " + nested.substr(static_cast<size_t>(indent) + 2);
      } else if (item.is_array() && !item.empty()) {
        out += pad + "-\n";
        emit(item, indent + 2, out);
      } else {
        out += pad + "- " +
               (item.is_object()  ? "{}"
                : item.is_array() ? "[]"
                                  : scalar_text(item)) +
               "\n";
      }
    }
  } else {
    out += pad + scalar_text(v) + "\n";
  }
}

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
      add(mark, it->second.first, it->second.second, 0);
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
  };

  bool expects_key() const {
    return !m_stack.empty() && m_stack.back().value.is_object() && !m_stack.back().key_pending;
  }

  // Pointer and line of the next child of the innermost collection (or of the root).
  std::pair<std::string, int> next_child(const YAML::Mark& mark) const {
    if (m_stack.empty()) return {"", mark.line + 1};
    const Frame& top = m_stack.back();
    if (top.value.is_object())
      return {top.pointer + "/" + escape_pointer_token(top.key), top.key_line};
    return {top.pointer + "/" + std::to_string(top.next_index), mark.line + 1};
  }

  void set_key(std::string key, int line) {
    Frame& top = m_stack.back();
    top.key = std::move(key);
    top.key_line = line;
    top.key_pending = true;
  }

  void deliver(nlohmann::json value) {
    if (m_stack.empty()) {
      root = std::move(value);
      return;
    }
    Frame& top = m_stack.back();
    if (top.value.is_object()) {
      top.value[top.key] = std::move(value);
      top.key_pending = false;
    } else {
      top.value.push_back(std::move(value));
      ++top.next_index;
    }
  }

  void add(const YAML::Mark& mark, nlohmann::json value, const std::string& text,
           YAML::anchor_t anchor) {
    if (anchor != 0) m_anchors[anchor] = {value, value.is_primitive() ? text : ""};
    if (expects_key()) {
      set_key(value.is_null() && text.empty() ? std::string() : text, mark.line + 1);
      return;
    }
    const bool discard = !m_stack.empty() && m_stack.back().discard;
    auto [pointer, line] = next_child(mark);
    if (!discard) lines[pointer] = line;
    if (m_stack.empty()) root_line = line;
    deliver(std::move(value));
  }

  void open(const YAML::Mark& mark, nlohmann::json value, YAML::anchor_t anchor) {
    Frame f;
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
    if (f.anchor != 0) m_anchors[f.anchor] = {f.value, ""};
    if (f.is_key) {
      set_key("", f.line);
    } else {
      deliver(std::move(f.value));
    }
  }

  std::vector<Frame> m_stack;
  // Anchored values, with their scalar text for an alias used as a key.
  std::map<YAML::anchor_t, std::pair<nlohmann::json, std::string>> m_anchors;
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
  } catch (const YAML::Exception& e) {
    return fail(error_code, source + ":" + std::to_string(e.mark.line + 1) + ":" +
                                std::to_string(e.mark.column + 1) + ": invalid YAML: " + e.msg);
  }
  return docs;
}

Result<std::vector<YamlDocument>> load_yaml_file(const std::string& path, ErrorCode error_code) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return fail(error_code, path + ": cannot read file: " + std::strerror(errno));
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  return parse_yaml_documents(buffer.str(), path, error_code);
}

std::string yaml_scalar(const std::string& text) {
  return needs_quotes(text) ? nlohmann::json(text).dump() : text;
}

std::string to_yaml(const nlohmann::json& value) {
  std::string out;
  emit(value, 0, out);
  return out;
}

} // namespace netpol
