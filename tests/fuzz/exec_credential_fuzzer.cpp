// libFuzzer target: whatever an exec credential plugin prints on stdout must give a
// credential or an error, never a crash, an exception or a hang.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "kube/credentials.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace netpol;
  static const kube::ExecConfig exec = [] {
    kube::ExecConfig e;
    e.command = "fuzz-plugin";
    e.api_version = "client.authentication.k8s.io/v1";
    e.where = "fuzz:1";
    return e;
  }();
  (void)kube::parse_exec_credential(std::string_view(reinterpret_cast<const char*>(data), size),
                                    exec);
  return 0;
}
