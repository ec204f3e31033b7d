#include "util/hash.hpp"

#include <array>

#include <fmt/format.h>
#include <openssl/evp.h>

namespace netpol {

std::string sha256_hex(std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  // EVP_Digest fails only when OpenSSL cannot allocate; an empty digest then fails every
  // comparison with a pinned one, which is the safe side.
  if (EVP_Digest(data.data(), data.size(), digest.data(), &length, EVP_sha256(), nullptr) != 1)
    return {};
  std::string out;
  out.reserve(2 * length);
  for (unsigned int i = 0; i < length; ++i)
    out += fmt::format("{:02x}", digest[i]);
  return out;
}

} // namespace netpol
