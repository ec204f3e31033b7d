#include "util/json.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "util/log.hpp"

namespace netpol {
namespace {

using json = nlohmann::json;

// The 1-based line of the `index`-th object key (0-based, in text order) of JSON text that
// is valid at least up to that key. A string followed by ':' is a key; a JSON string holds no
// raw newline, so its line is the line of its opening quote.
int line_of_key(std::string_view text, size_t index) {
  int line = 1;
  size_t keys = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      continue;
    }
    if (text[i] != '"') continue;
    const int string_line = line;
    for (++i; i < text.size() && text[i] != '"'; ++i) {
      if (text[i] == '\\') ++i;
    }
    size_t next = i + 1;
    while (next < text.size() &&
           (text[next] == ' ' || text[next] == '\t' || text[next] == '\r' || text[next] == '\n'))
      ++next;
    if (next < text.size() && text[next] == ':') {
      if (keys == index) return string_line;
      ++keys;
    }
  }
  return line;
}

// Line and column (1-based) of byte offset `byte` (1-based, as nlohmann counts).
std::pair<size_t, size_t> position_of(std::string_view text, size_t byte) {
  size_t line = 1;
  size_t column = 1;
  const size_t end = std::min(byte == 0 ? 0 : byte - 1, text.size());
  for (size_t i = 0; i < end; ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return {line, column};
}

} // namespace

Result<json> parse_json_strict(std::string_view text, const std::string& source, ErrorCode code) {
  // Keys seen in every object still open, each with its index among all keys of the text.
  std::vector<std::map<std::string, size_t>> open_objects;
  size_t key_count = 0;
  struct Duplicate {
    std::string key;
    size_t first = 0;
    size_t again = 0;
  };
  std::optional<Duplicate> duplicate;
  const json::parser_callback_t on_event = [&](int, json::parse_event_t event, json& parsed) {
    switch (event) {
    case json::parse_event_t::object_start: open_objects.emplace_back(); break;
    case json::parse_event_t::object_end:
      if (!open_objects.empty()) open_objects.pop_back();
      break;
    case json::parse_event_t::key: {
      const size_t index = key_count++;
      if (duplicate || open_objects.empty()) break;
      auto key = parsed.get<std::string>();
      auto [it, inserted] = open_objects.back().emplace(key, index);
      if (!inserted) duplicate = Duplicate{std::move(key), it->second, index};
      break;
    }
    default: break;
    }
    return true;
  };
  json value;
  try {
    value = json::parse(text.begin(), text.end(), on_event, true);
  } catch (const json::parse_error& e) {
    const auto [line, column] = position_of(text, e.byte);
    return fail(code, fmt::format("{}:{}:{}: not valid JSON", source, line, column));
  } catch (const json::exception&) {
    return fail(code, fmt::format("{}: not valid JSON", source));
  }
  if (duplicate) {
    return fail(code,
                fmt::format("{}:{}: duplicate key \"{}\" (also at line {}): remove one of "
                            "them",
                            source, line_of_key(text, duplicate->again),
                            log::printable(duplicate->key), line_of_key(text, duplicate->first)));
  }
  return value;
}

} // namespace netpol
