#include "util/yaml.hpp"

#include <cmath>
#include <fstream>
#include <regex>
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

nlohmann::json plain_scalar(const std::string& s) {
  static const std::regex int_re("[-+]?[0-9]+");
  static const std::regex hex_re("0x[0-9a-fA-F]+");
  static const std::regex oct_re("0o[0-7]+");
  static const std::regex float_re("[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?");
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  // Every number form starts with a digit, a sign or a dot; the regexes are slow, and most
  // scalars are names.
  const char c = s.front();
  if (!((c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.')) return s;
  try {
    if (std::regex_match(s, int_re)) {
      if (s[0] == '-') return std::stoll(s);
      return std::stoull(s[0] == '+' ? s.substr(1) : s);
    }
    if (std::regex_match(s, hex_re)) return std::stoull(s.substr(2), nullptr, 16);
    if (std::regex_match(s, oct_re)) return std::stoull(s.substr(2), nullptr, 8);
    if (std::regex_match(s, float_re)) return std::stod(s);
  } catch (const std::out_of_range&) {
    return s; // too large for a number: keep the text
  }
  if (s == ".inf" || s == ".Inf" || s == "+.inf") return std::numeric_limits<double>::infinity();
  if (s == "-.inf" || s == "-.Inf") return -std::numeric_limits<double>::infinity();
  return s;
}

// `line` is where the node is named: its key's line for a mapping value (a nested mapping's
// own mark is its first key), else the node's own line.
nlohmann::json convert(const YAML::Node& node, const std::string& pointer, int line,
                       std::map<std::string, int>& lines) {
  lines[pointer] = line;
  switch (node.Type()) {
  case YAML::NodeType::Null:
  case YAML::NodeType::Undefined: return nullptr;
  case YAML::NodeType::Scalar:
    // Tag "!" marks a quoted (non-plain) scalar: always a string.
    if (node.Tag() == "!" || node.Tag() == "tag:yaml.org,2002:str") return node.Scalar();
    return plain_scalar(node.Scalar());
  case YAML::NodeType::Sequence: {
    auto out = nlohmann::json::array();
    size_t i = 0;
    for (const auto& item : node) {
      out.push_back(
          convert(item, pointer + "/" + std::to_string(i++), item.Mark().line + 1, lines));
    }
    return out;
  }
  case YAML::NodeType::Map: {
    auto out = nlohmann::json::object();
    for (const auto& kv : node) {
      const std::string key = kv.first.Scalar();
      out[key] = convert(kv.second, pointer + "/" + escape_pointer_token(key),
                         kv.first.Mark().line + 1, lines);
    }
    return out;
  }
  }
  return nullptr;
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

// yaml-cpp 0.7 loops forever on some malformed streams, e.g. a lone ',' (jbeder/yaml-cpp#1040,
// fixed upstream after 0.8): the parser stops consuming input and emits the same empty
// document again and again. A first pass with a handler that only records where each document
// starts finds that case, so LoadAll is never called on such a stream.
class DocumentStarts final : public YAML::EventHandler {
public:
  void OnDocumentStart(const YAML::Mark& mark) override { last = mark; }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}

  YAML::Mark last = YAML::Mark::null_mark();
};

// Throws YAML::ParserException where the parser stops making progress.
void check_parser_progresses(const std::string& text) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  DocumentStarts starts;
  int previous = -1;
  while (parser.HandleNextDocument(starts)) {
    if (starts.last.pos == previous) {
      throw YAML::ParserException(starts.last, "unexpected character");
    }
    previous = starts.last.pos;
  }
}

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
    const std::string input(text);
    check_parser_progresses(input);
    for (const auto& node : YAML::LoadAll(input)) {
      YamlDocument doc;
      doc.source = source;
      doc.line = node.Mark().line >= 0 ? node.Mark().line + 1 : 1;
      doc.value = convert(node, "", doc.line, doc.lines);
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

std::string to_yaml(const nlohmann::json& value) {
  std::string out;
  emit(value, 0, out);
  return out;
}

} // namespace netpol
