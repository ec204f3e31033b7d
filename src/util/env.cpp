#include "util/env.hpp"

#include <cstdlib>

extern char** environ; // NOLINT: POSIX

namespace netpol {

std::optional<std::string> ProcessEnvironment::get(const std::string& name) const {
  const char* value = std::getenv(name.c_str());
  if (value == nullptr) {
    return std::nullopt;
  }
  return std::string(value);
}

std::vector<std::string> ProcessEnvironment::names() const {
  std::vector<std::string> out;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string_view text(*entry);
    out.emplace_back(text.substr(0, text.find('=')));
  }
  return out;
}

std::vector<std::string> MapEnvironment::names() const {
  std::vector<std::string> out;
  for (const auto& entry : m_vars)
    out.push_back(entry.first);
  return out;
}

std::optional<std::string> MapEnvironment::get(const std::string& name) const {
  auto it = m_vars.find(name);
  if (it == m_vars.end()) {
    return std::nullopt;
  }
  return it->second;
}

} // namespace netpol
