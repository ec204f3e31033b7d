// What analyze says about its input: a problem in one object, located by JSON pointer so the
// caller (who knows the file and line of every pointer) can print `file:line: ...`.
#pragma once

#include <string>

#include <tl/expected.hpp>

namespace netpol::analyze {

struct Issue {
  std::string pointer; // JSON pointer inside the object, e.g. "/spec/ingress/0/from/1"
  std::string message; // one line, without location
};

// A parse result: the value, or the first problem that makes the object unusable.
template <class T> using Parsed = tl::expected<T, Issue>;

// Escapes a map key for use as one JSON pointer token ("a/b" -> "a~1b").
inline std::string pointer_token(const std::string& key) {
  std::string out;
  for (char c : key) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

inline tl::unexpected<Issue> problem(std::string pointer, std::string message) {
  return tl::unexpected<Issue>(Issue{std::move(pointer), std::move(message)});
}

} // namespace netpol::analyze
