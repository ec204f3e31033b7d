#include "analyze/input.hpp"

#include <algorithm>
#include <filesystem>
#include <system_error>

namespace netpol::analyze {
namespace {

namespace fs = std::filesystem;

// The string at `key`, or `fallback` when it is absent or not a string (input is untrusted).
std::string text_field(const nlohmann::json& object, const char* key, const std::string& fallback) {
  if (!object.is_object()) return fallback;
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : fallback;
}

std::string object_id(const nlohmann::json& object, const std::string& default_namespace) {
  const std::string kind = text_field(object, "kind", "object");
  const auto it = object.find("metadata");
  const nlohmann::json metadata = it != object.end() ? *it : nlohmann::json();
  const std::string name = text_field(metadata, "name", "?");
  if (kind == "CiliumClusterwideNetworkPolicy" || kind == "Namespace") {
    return kind + "/" + name;
  }
  return kind + "/" + text_field(metadata, "namespace", default_namespace) + "/" + name;
}

std::string located(const Locator& where, const std::string& pointer, const std::string& rest) {
  const std::string at = where ? where(pointer) : std::string();
  return at.empty() ? rest : at + ": " + rest;
}

Locator document_locator(const YamlDocument& doc, const std::string& prefix) {
  return [&doc, prefix](const std::string& pointer) { return doc.where(prefix + pointer); };
}

bool is_list(const nlohmann::json& object) {
  const std::string kind = text_field(object, "kind", "");
  return kind == "List" || (kind.size() > 4 && kind.compare(kind.size() - 4, 4, "List") == 0);
}

Result<std::vector<std::string>> expand(const std::vector<std::string>& paths) {
  std::vector<std::string> files;
  for (const auto& path : paths) {
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
      std::vector<std::string> found;
      for (auto it = fs::recursive_directory_iterator(path, ec);
           !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        const auto ext = it->path().extension().string();
        if (it->is_regular_file() && (ext == ".yaml" || ext == ".yml" || ext == ".json")) {
          found.push_back(it->path().string());
        }
      }
      if (ec) {
        return fail(ErrorCode::io, "reading directory " + path + ": " + ec.message());
      }
      std::sort(found.begin(), found.end());
      files.insert(files.end(), found.begin(), found.end());
    } else if (fs::exists(path, ec)) {
      files.push_back(path);
    } else {
      return fail(ErrorCode::config, path + ": no such file or directory");
    }
  }
  return files;
}

} // namespace

Result<void> add_policy_object(PolicySet& set, const nlohmann::json& object,
                               const std::string& default_namespace, const Locator& where) {
  if (!object.is_object()) {
    if (!object.is_null()) ++set.ignored_objects;
    return {};
  }
  if (is_list(object)) {
    const auto it = object.find("items");
    if (it == object.end() || !it->is_array()) {
      return {};
    }
    const auto& items = *it;
    for (size_t i = 0; i < items.size(); ++i) {
      const std::string prefix = "/items/" + std::to_string(i);
      Locator item_where = [&where, prefix](const std::string& p) {
        return where ? where(prefix + p) : std::string();
      };
      auto ok = add_policy_object(set, items[i], default_namespace, item_where);
      if (!ok) return ok;
    }
    return {};
  }
  if (!model::policy_kind(text_field(object, "kind", ""))) {
    ++set.ignored_objects;
    return {};
  }
  auto parsed = parse_policy(object, default_namespace);
  const std::string id = object_id(object, default_namespace);
  if (!parsed) {
    return fail(ErrorCode::invalid_policy,
                located(where, parsed.error().pointer, id + ": " + parsed.error().message));
  }
  for (auto& policy : *parsed) {
    for (const auto& w : policy.warnings) {
      set.warnings.push_back(located(where, w.pointer, policy.id() + ": " + w.message));
    }
    set.policies.push_back(std::move(policy));
  }
  return {};
}

Result<PolicySet> load_policies(const std::vector<std::string>& paths,
                                const std::string& default_namespace) {
  auto files = expand(paths);
  if (!files) return fail(files.error());
  PolicySet set;
  for (const auto& file : *files) {
    auto docs = load_yaml_file(file, ErrorCode::invalid_policy);
    if (!docs) return fail(docs.error());
    for (const auto& doc : *docs) {
      auto ok = add_policy_object(set, doc.value, default_namespace, document_locator(doc, ""));
      if (!ok) return fail(ok.error());
    }
  }
  return set;
}

Result<void> add_cluster_object(Cluster& cluster, const nlohmann::json& object,
                                const std::string& default_namespace, const Locator& where) {
  auto added = cluster.add_object(object, default_namespace);
  if (!added) {
    return fail(ErrorCode::config,
                located(where, added.error().pointer,
                        object_id(object, default_namespace) + ": " + added.error().message));
  }
  return {};
}

Result<Cluster> load_cluster(const std::string& path, const std::string& default_namespace) {
  auto docs = load_yaml_file(path, ErrorCode::config);
  if (!docs) return fail(docs.error());
  Cluster cluster;
  for (const auto& doc : *docs) {
    auto ok = add_cluster_object(cluster, doc.value, default_namespace, document_locator(doc, ""));
    if (!ok) return fail(ok.error());
  }
  return cluster;
}

} // namespace netpol::analyze
