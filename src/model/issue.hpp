// What a reader of one object says about it: a problem located by JSON pointer, so the caller
// (who knows the file and line of every pointer) can print `file:line: ...`.
#pragma once

#include <string>

#include <tl/expected.hpp>

namespace netpol::model {

struct Issue {
  std::string pointer; // JSON pointer inside the object, e.g. "/spec/ingress/0/from/1"
  std::string message; // one line, without location
};

// A parse result: the value, or the first problem that makes the object unusable.
template <class T> using Parsed = tl::expected<T, Issue>;

inline tl::unexpected<Issue> problem(std::string pointer, std::string message) {
  return tl::unexpected<Issue>(Issue{std::move(pointer), std::move(message)});
}

} // namespace netpol::model
