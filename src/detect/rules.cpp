#include "detect/rules.hpp"

#include <algorithm>
#include <cctype>

namespace netpol::detect {

using nlohmann::json;

std::string str_at(const json& object, const char* pointer) {
  const json::json_pointer ptr(pointer);
  if (!object.contains(ptr)) return {};
  const auto& v = object.at(ptr);
  return v.is_string() ? v.get<std::string>() : std::string();
}

std::string label(const json& object, const std::string& key) {
  const auto it = object.find("metadata");
  if (it == object.end() || !it->is_object()) return {};
  const auto labels = it->find("labels");
  if (labels == it->end() || !labels->is_object()) return {};
  const auto v = labels->find(key);
  return v != labels->end() && v->is_string() ? v->get<std::string>() : std::string();
}

bool has_label(const json& object, const std::string& key) {
  const json::json_pointer ptr("/metadata/labels");
  return object.contains(ptr) && object.at(ptr).is_object() && object.at(ptr).contains(key);
}

std::string annotation(const json& object, const std::string& key) {
  const json::json_pointer ptr("/metadata/annotations");
  if (!object.contains(ptr) || !object.at(ptr).is_object()) return {};
  const auto& a = object.at(ptr);
  const auto v = a.find(key);
  return v != a.end() && v->is_string() ? v->get<std::string>() : std::string();
}

std::string ns_name(const json& object) {
  return str_at(object, "/metadata/namespace") + "/" + str_at(object, "/metadata/name");
}

int64_t int_at(const json& object, const char* pointer) {
  const json::json_pointer ptr(pointer);
  if (!object.contains(ptr) || !object.at(ptr).is_number_integer()) return 0;
  return object.at(ptr).get<int64_t>();
}

std::vector<json> containers_of(const json& daemon_set) {
  const json::json_pointer ptr("/spec/template/spec/containers");
  if (!daemon_set.contains(ptr) || !daemon_set.at(ptr).is_array()) return {};
  return daemon_set.at(ptr).get<std::vector<json>>();
}

const json* container_named(const std::vector<json>& containers, std::string_view name) {
  for (const auto& c : containers) {
    if (str_at(c, "/name") == name) return &c;
  }
  return nullptr;
}

std::string lower(std::string s) {
  for (auto& c : s)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool is_true(const std::string& value) {
  return lower(value) == "true";
}

std::optional<std::string> version_from_image(const std::string& image) {
  auto tag = image_tag(image);
  if (!tag) return std::nullopt;
  if (!tag->empty() && (tag->front() == 'v' || tag->front() == 'V') && tag->size() > 1 &&
      std::isdigit(static_cast<unsigned char>((*tag)[1]))) {
    tag->erase(0, 1);
  }
  return tag;
}

std::optional<std::string> flag_value(const json& container, std::string_view flag) {
  std::vector<std::string> argv;
  for (const char* key : {"command", "args"}) {
    const auto it = container.find(key);
    if (it != container.end() && it->is_array()) {
      for (const auto& a : *it) {
        if (a.is_string()) argv.push_back(a.get<std::string>());
      }
    }
  }
  for (size_t i = 0; i < argv.size(); ++i) {
    const auto& a = argv[i];
    if (a == flag) {
      if (i + 1 < argv.size() && !argv[i + 1].starts_with("-")) return argv[i + 1];
      return std::string();
    }
    if (a.starts_with(std::string(flag) + "=")) return a.substr(flag.size() + 1);
  }
  return std::nullopt;
}

std::optional<std::string> env_value(const json& container, std::string_view name) {
  const auto it = container.find("env");
  if (it == container.end() || !it->is_array()) return std::nullopt;
  for (const auto& e : *it) {
    if (str_at(e, "/name") == name && e.contains("value") && e["value"].is_string()) {
      return e["value"].get<std::string>();
    }
  }
  return std::nullopt;
}

Confidence lowest(Confidence a, Confidence b) {
  return static_cast<int>(a) > static_cast<int>(b) ? a : b;
}

std::string_view read_word(ReadStatus s) {
  switch (s) {
  case ReadStatus::ok: return "ok";
  case ReadStatus::not_found: return "not found";
  case ReadStatus::forbidden: return "forbidden";
  case ReadStatus::failed: return "failed";
  }
  return "failed";
}

std::optional<std::string> image_tag(std::string_view image) {
  if (auto at = image.find('@'); at != std::string_view::npos) image = image.substr(0, at);
  const auto slash = image.rfind('/');
  const auto colon = image.rfind(':');
  if (colon == std::string_view::npos || (slash != std::string_view::npos && colon < slash)) {
    return std::nullopt;
  }
  return std::string(image.substr(colon + 1));
}

void add_evidence(Detection& detection, std::string line) {
  auto& lines = detection.evidence;
  if (std::find(lines.begin(), lines.end(), line) == lines.end()) lines.push_back(std::move(line));
}

} // namespace netpol::detect
