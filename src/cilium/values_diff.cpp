#include "cilium/values_diff.hpp"

#include <algorithm>
#include <cctype>
#include <map>

#include <fmt/format.h>

#include "util/log.hpp"
#include "util/yaml.hpp"

namespace netpol::cilium {
namespace {

using nlohmann::json;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

std::string yaml_text(const json& values) {
  if (values.is_object() && values.empty()) return {};
  return to_yaml(values);
}

struct Edit {
  char op;  // ' ', '-', '+'
  size_t a; // line index in before (for ' ' and '-')
  size_t b; // line index in after (for ' ' and '+')
};

// Longest common subsequence of lines; values files are small, and past this size a diff
// shows every line replaced rather than spending memory.
constexpr size_t k_max_cells = size_t{16} << 20;

std::vector<Edit> edits(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  const size_t n = a.size();
  const size_t m = b.size();
  std::vector<Edit> out;
  if ((n + 1) * (m + 1) > k_max_cells) {
    for (size_t i = 0; i < n; ++i)
      out.push_back({'-', i, 0});
    for (size_t j = 0; j < m; ++j)
      out.push_back({'+', n, j});
    return out;
  }
  // lcs[i][j]: length of the LCS of a[i..] and b[j..].
  std::vector<uint32_t> lcs((n + 1) * (m + 1), 0);
  auto at = [&](size_t i, size_t j) -> uint32_t& { return lcs[i * (m + 1) + j]; };
  for (size_t i = n; i-- > 0;) {
    for (size_t j = m; j-- > 0;) {
      at(i, j) = a[i] == b[j] ? at(i + 1, j + 1) + 1 : std::max(at(i + 1, j), at(i, j + 1));
    }
  }
  size_t i = 0;
  size_t j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] == b[j]) {
      out.push_back({' ', i++, j++});
    } else if (i < n && (j == m || at(i + 1, j) >= at(i, j + 1))) {
      out.push_back({'-', i++, j}); // removals first, as diff(1) shows them
    } else {
      out.push_back({'+', i, j++});
    }
  }
  return out;
}

std::string range(size_t start, size_t count) {
  // Unified diff: an empty range names the line before it.
  if (count == 0) return fmt::format("{},0", start);
  if (count == 1) return fmt::format("{}", start + 1);
  return fmt::format("{},{}", start + 1, count);
}

void flatten(const json& value, const std::string& path, std::map<std::string, json>& out) {
  if (value.is_object() && !value.empty()) {
    for (auto it = value.begin(); it != value.end(); ++it) {
      flatten(it.value(), path.empty() ? it.key() : path + "." + it.key(), out);
    }
    return;
  }
  out[path] = value;
}

bool secret_key(std::string key) {
  std::transform(key.begin(), key.end(), key.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (const char* suffix : {"key", "secret", "password", "token"}) {
    const std::string_view s(suffix);
    if (key.size() >= s.size() && key.compare(key.size() - s.size(), s.size(), s) == 0) {
      return true;
    }
  }
  return false;
}

} // namespace

std::string values_diff(const json& before, const json& after, std::string_view before_label,
                        std::string_view after_label) {
  const auto a = lines_of(yaml_text(before));
  const auto b = lines_of(yaml_text(after));
  if (a == b) return {};
  const auto all = edits(a, b);
  constexpr size_t k_context = 3;
  std::string out = fmt::format("--- {}\n+++ {}\n", before_label, after_label);
  size_t k = 0;
  while (k < all.size()) {
    // Next change.
    size_t first = k;
    while (first < all.size() && all[first].op == ' ')
      ++first;
    if (first == all.size()) break;
    const size_t start = first >= k_context ? std::max(first - k_context, k) : k;
    // Extend the hunk while changes are within 2 * context of each other.
    size_t end = first;
    size_t last_change = first;
    while (end < all.size()) {
      if (all[end].op != ' ') {
        last_change = end;
      } else if (end - last_change > 2 * k_context) {
        break;
      }
      ++end;
    }
    end = std::min(all.size(), last_change + 1 + k_context);
    size_t a_start = all[start].a;
    size_t b_start = all[start].b;
    size_t a_count = 0;
    size_t b_count = 0;
    std::string body;
    for (size_t e = start; e < end; ++e) {
      const auto& ed = all[e];
      if (ed.op == ' ') {
        body += " " + a[ed.a] + "\n";
        ++a_count;
        ++b_count;
      } else if (ed.op == '-') {
        body += "-" + a[ed.a] + "\n";
        ++a_count;
      } else {
        body += "+" + b[ed.b] + "\n";
        ++b_count;
      }
    }
    out += fmt::format("@@ -{} +{} @@\n", range(a_start, a_count), range(b_start, b_count));
    out += body;
    k = end;
  }
  return out;
}

std::vector<std::string> changed_keys(const json& before, const json& after) {
  std::map<std::string, json> a;
  std::map<std::string, json> b;
  flatten(before, "", a);
  flatten(after, "", b);
  a.erase("");
  b.erase("");
  std::vector<std::string> out;
  for (const auto& [path, value] : a) {
    auto it = b.find(path);
    if (it == b.end()) {
      out.push_back(fmt::format("- {}: {}", path, value.dump()));
    } else if (it->second != value) {
      out.push_back(fmt::format("~ {}: {} -> {}", path, value.dump(), it->second.dump()));
    }
  }
  for (const auto& [path, value] : b) {
    if (!a.count(path)) out.push_back(fmt::format("+ {}: {}", path, value.dump()));
  }
  std::sort(out.begin(), out.end(),
            [](const std::string& x, const std::string& y) { return x.substr(2) < y.substr(2); });
  return out;
}

json redact_secret_values(json values) {
  if (values.is_object()) {
    for (auto it = values.begin(); it != values.end(); ++it) {
      if (secret_key(it.key()) && it.value().is_string() &&
          !it.value().get<std::string>().empty()) {
        it.value() = std::string(log::k_redacted);
      } else {
        it.value() = redact_secret_values(std::move(it.value()));
      }
    }
  } else if (values.is_array()) {
    for (auto& item : values)
      item = redact_secret_values(std::move(item));
  }
  return values;
}

} // namespace netpol::cilium
