// Files the build embeds into the binary (cmake/embed_files.cmake): the default profiles and
// the Cilium CRD schemas. Each list is in file name order.
#pragma once

#include <span>
#include <string_view>

namespace netpol {

struct EmbeddedFile {
  std::string_view name; // file name without extension: "gitlab"
  std::string_view text;
};

std::span<const EmbeddedFile> embedded_profiles();       // profiles/*.yaml
std::span<const EmbeddedFile> embedded_cilium_schemas(); // schemas/cilium/*.yaml

} // namespace netpol
