// libFuzzer target: a --pods-from file (Namespaces and Pods, multi-document YAML or a List,
// also JSON) must give an inventory or an error, never a crash, an exception or a hang.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "analyze/input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace netpol;
  auto docs = parse_yaml_documents(std::string_view(reinterpret_cast<const char*>(data), size),
                                   "pods.yaml", ErrorCode::config);
  if (!docs) return 0;
  analyze::Cluster cluster;
  for (const auto& doc : *docs) {
    (void)analyze::add_cluster_object(
        cluster, doc.value, "default",
        [&doc](const std::string& pointer) { return doc.where(pointer); });
  }
  return 0;
}
