// libFuzzer target: any bytes as one or two kubeconfig files, merged and resolved. Loading
// must return a config or an Error; it must never crash, throw, hang or leak.
#include <cstddef>
#include <cstdint>
#include <string>

#include "kube/kubeconfig.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  // A form feed splits the input into two files, so merging is exercised too.
  const auto split = text.find('\f');
  std::vector<netpol::kube::KubeconfigText> files;
  files.push_back({text.substr(0, split), "/nonexistent/fuzz/a.yaml"});
  if (split != std::string::npos)
    files.push_back({text.substr(split + 1), "/nonexistent/fuzz/b.yaml"});
  (void)netpol::kube::resolve_kubeconfigs(files, "");
  (void)netpol::kube::resolve_kubeconfigs(files, "ctx");
  return 0;
}
