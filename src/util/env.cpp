#include "util/env.hpp"

#include <cstdlib>

namespace netpol {

std::optional<std::string> ProcessEnvironment::get(const std::string& name) const {
  const char* value = std::getenv(name.c_str());
  if (value == nullptr) {
    return std::nullopt;
  }
  return std::string(value);
}

std::optional<std::string> MapEnvironment::get(const std::string& name) const {
  auto it = m_vars.find(name);
  if (it == m_vars.end()) {
    return std::nullopt;
  }
  return it->second;
}

} // namespace netpol
