#include "policy/policy_object.hpp"

#include <algorithm>

namespace netpol::policy {

std::string PolicyObject::where(const std::string& pointer) const {
  if (!document) return origin;
  return document->where(base_pointer + pointer);
}

namespace {
std::string metadata_string(const nlohmann::json& value, const char* key) {
  if (!value.is_object()) return {};
  auto meta = value.find("metadata");
  if (meta == value.end() || !meta->is_object()) return {};
  auto it = meta->find(key);
  if (it == meta->end() || !it->is_string()) return {};
  return it->get<std::string>();
}
} // namespace

std::string PolicyObject::name() const {
  return metadata_string(value, "name");
}
std::string PolicyObject::namespace_name() const {
  return metadata_string(value, "namespace");
}

std::string PolicyObject::describe() const {
  const std::string ns = namespace_name();
  const std::string n = name().empty() ? "<unnamed>" : name();
  return std::string(to_string(kind)) + "/" + (ns.empty() ? "" : ns + "/") + n;
}

const nlohmann::json& field_at(const nlohmann::json& value,
                               std::initializer_list<const char*> path) {
  static const nlohmann::json null_value;
  const nlohmann::json* cur = &value;
  for (const char* key : path) {
    if (!cur->is_object()) return null_value;
    auto it = cur->find(key);
    if (it == cur->end()) return null_value;
    cur = &*it;
  }
  return *cur;
}

std::vector<std::string> pointer_tokens(const std::string& pointer) {
  std::vector<std::string> out;
  size_t i = 1;
  while (!pointer.empty() && i <= pointer.size()) {
    size_t next = pointer.find('/', i);
    if (next == std::string::npos) next = pointer.size();
    std::string token = pointer.substr(i, next - i);
    size_t pos;
    while ((pos = token.find("~1")) != std::string::npos)
      token.replace(pos, 2, "/");
    while ((pos = token.find("~0")) != std::string::npos)
      token.replace(pos, 2, "~");
    out.push_back(std::move(token));
    i = next + 1;
  }
  return out;
}

std::string field_path(const std::string& pointer) {
  std::string out;
  for (const auto& token : pointer_tokens(pointer)) {
    if (!token.empty() && std::all_of(token.begin(), token.end(), ::isdigit)) {
      out += '[';
      out += token;
      out += ']';
    } else {
      if (!out.empty()) out += '.';
      out += token;
    }
  }
  return out;
}

} // namespace netpol::policy
