// The process environment behind an interface, so every command can run in-process in
// tests with an environment of the test's choosing.
#pragma once

#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace netpol {

class Environment {
public:
  virtual ~Environment() = default;
  // The variable's value; nullopt when unset. An empty value is returned as "".
  virtual std::optional<std::string> get(const std::string& name) const = 0;
  // Every variable's name (for registering the values of secret ones with log::redact).
  virtual std::vector<std::string> names() const = 0;
};

// Reads the real process environment.
class ProcessEnvironment final : public Environment {
public:
  std::optional<std::string> get(const std::string& name) const override;
  std::vector<std::string> names() const override;
};

// A fixed map, for tests.
class MapEnvironment final : public Environment {
public:
  MapEnvironment() = default;
  MapEnvironment(std::initializer_list<std::pair<const std::string, std::string>> vars)
      : m_vars(vars) {}
  std::optional<std::string> get(const std::string& name) const override;
  std::vector<std::string> names() const override;
  void set(const std::string& name, std::string value) { m_vars[name] = std::move(value); }

private:
  std::map<std::string, std::string> m_vars;
};

// Variables over another environment (`--var NAME=VALUE` over the process environment, for
// rendering policy templates). `base` must outlive the overlay.
class OverlayEnvironment final : public Environment {
public:
  OverlayEnvironment(const Environment& base, std::map<std::string, std::string> vars)
      : m_base(base), m_vars(std::move(vars)) {}
  std::optional<std::string> get(const std::string& name) const override {
    if (auto it = m_vars.find(name); it != m_vars.end()) return it->second;
    return m_base.get(name);
  }
  std::vector<std::string> names() const override {
    std::vector<std::string> out = m_base.names();
    for (const auto& entry : m_vars)
      out.push_back(entry.first);
    return out;
  }

private:
  const Environment& m_base;
  std::map<std::string, std::string> m_vars;
};

} // namespace netpol
