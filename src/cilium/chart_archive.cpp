#include "cilium/chart_archive.hpp"

#include <algorithm>
#include <array>
#include <string_view>

#include <fmt/format.h>
#include <zlib.h>

#include "util/file.hpp"
#include "util/hash.hpp"

namespace netpol::cilium {
namespace {

constexpr size_t k_block = 512;
// A packaged Cilium chart is a few MB uncompressed; past this much, it is not a chart.
constexpr size_t k_max_scan = size_t{64} << 20;
// The .tgz itself is well under 1 MiB; it is read whole, through util/file (no FIFO, no
// device, bounded).
constexpr size_t k_max_archive = size_t{64} << 20;
// One file taken out of the archive (Chart.yaml, values.schema.json): a size in a tar header
// may say anything up to 8 GiB.
constexpr size_t k_max_member = k_max_input_file_bytes;

Result<std::string> read_archive(const std::string& path, ErrorCode code) {
  auto bytes = read_input_file(path, code, k_max_archive);
  if (!bytes) return fail(bytes.error().wrap("chart"));
  return bytes;
}

// Streams the uncompressed bytes of gzip data held in memory.
class GunzipReader {
public:
  explicit GunzipReader(std::string_view in) : m_in(in) {
    m_stream.zalloc = Z_NULL;
    m_stream.zfree = Z_NULL;
    m_stream.opaque = Z_NULL;
    m_initialised = inflateInit2(&m_stream, 16 + MAX_WBITS) == Z_OK;
    m_ok = m_initialised;
  }
  GunzipReader(const GunzipReader&) = delete;
  GunzipReader& operator=(const GunzipReader&) = delete;
  // A stream that failed half-way still holds zlib's state: free it whatever happened.
  ~GunzipReader() {
    if (m_initialised) inflateEnd(&m_stream);
  }

  // Appends exactly `n` bytes to `out`; false at the end of the data or on a gzip error.
  bool read(size_t n, std::string& out) {
    while (m_buffer.size() - m_pos < n) {
      if (!fill()) return false;
    }
    out.append(m_buffer, m_pos, n);
    m_pos += n;
    return true;
  }
  bool skip(size_t n) {
    while (n > 0) {
      if (m_pos == m_buffer.size() && !fill()) return false;
      const size_t step = std::min(n, m_buffer.size() - m_pos);
      m_pos += step;
      n -= step;
    }
    return true;
  }
  const std::string& error() const { return m_error; }

private:
  bool fill() {
    if (!m_ok || m_done) return false;
    m_buffer.erase(0, m_pos);
    m_pos = 0;
    char out[16384];
    while (true) {
      if (m_stream.avail_in == 0) {
        const size_t got = std::min(m_in.size(), size_t{1} << 20);
        if (got == 0) {
          m_error = "truncated gzip data";
          return false;
        }
        m_stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(m_in.data()));
        m_stream.avail_in = static_cast<uInt>(got);
        m_in.remove_prefix(got);
      }
      m_stream.next_out = reinterpret_cast<Bytef*>(out);
      m_stream.avail_out = sizeof out;
      const int rc = inflate(&m_stream, Z_NO_FLUSH);
      if (rc != Z_OK && rc != Z_STREAM_END) {
        m_error = m_stream.msg != nullptr ? m_stream.msg : "not gzip data";
        m_ok = false;
        return false;
      }
      const size_t produced = sizeof out - m_stream.avail_out;
      m_buffer.append(out, produced);
      if (rc == Z_STREAM_END) m_done = true;
      if (produced > 0 || m_done) return produced > 0;
    }
  }

  std::string_view m_in; // not yet handed to zlib
  z_stream m_stream{};
  bool m_initialised = false;
  bool m_ok = false;
  bool m_done = false;
  std::string m_buffer;
  size_t m_pos = 0;
  std::string m_error;
};

std::string field(const std::string& header, size_t offset, size_t length) {
  std::string s = header.substr(offset, length);
  if (auto nul = s.find('\0'); nul != std::string::npos) s.resize(nul);
  return s;
}

bool octal(const std::string& text, size_t& out) {
  out = 0;
  bool any = false;
  for (char c : text) {
    if (c == ' ' || c == '\0') {
      if (any) break;
      continue;
    }
    if (c < '0' || c > '7') return false;
    out = out * 8 + static_cast<size_t>(c - '0');
    any = true;
  }
  return any;
}

// "cilium/Chart.yaml", not "cilium/charts/sub/Chart.yaml".
bool is_top_file(std::string_view name, std::string_view file) {
  if (name.rfind("./", 0) == 0) name.remove_prefix(2);
  const auto slash = name.find('/');
  return slash != std::string_view::npos && slash > 0 && name.substr(slash + 1) == file;
}

} // namespace

Result<std::string> read_chart_yaml(const std::string& path) {
  return read_chart_file(path, "Chart.yaml");
}

Result<std::string> read_chart_file(const std::string& path, std::string_view file) {
  auto archive = read_archive(path, ErrorCode::config);
  if (!archive) return fail(archive.error());
  GunzipReader gz(*archive);
  const auto bad = [&](std::string_view why) {
    Error e(ErrorCode::config, fmt::format("chart {}: not a packaged Helm chart ({})", path, why));
    e.details.push_back("--chart takes a chart directory or a .tgz made by helm package/pull.");
    return fail(std::move(e));
  };
  size_t scanned = 0;
  std::string long_name;
  while (scanned < k_max_scan) {
    std::string header;
    if (!gz.read(k_block, header)) {
      return bad(gz.error().empty() ? fmt::format("no {} in the archive", file) : gz.error());
    }
    scanned += k_block;
    if (header.find_first_not_of('\0') == std::string::npos) {
      return bad(fmt::format("no {} in the archive", file));
    }
    size_t size = 0;
    if (!octal(header.substr(124, 12), size)) return bad("bad tar header");
    const char type = header[156];
    std::string name = field(header, 0, 100);
    if (header.compare(257, 5, "ustar") == 0) {
      const std::string prefix = field(header, 345, 155);
      if (!prefix.empty()) name = prefix + "/" + name;
    }
    if (!long_name.empty()) {
      name = long_name;
      long_name.clear();
    }
    const size_t padded = (size + k_block - 1) / k_block * k_block;
    if (type == 'L' && size > 64 * 1024) return bad("a GNU long name of more than 64 KiB");
    if (type == 'L') { // GNU long name: the data is the next member's name
      std::string data;
      if (!gz.read(padded, data)) return bad("truncated archive");
      long_name = data.substr(0, size);
      if (auto nul = long_name.find('\0'); nul != std::string::npos) long_name.resize(nul);
      scanned += padded;
      continue;
    }
    if ((type == '0' || type == '\0') && is_top_file(name, file)) {
      if (size > k_max_member) {
        return bad(fmt::format("{} is {} bytes, more than the {} netpol reads", name, size,
                               format_size(k_max_member)));
      }
      std::string data;
      if (!gz.read(padded, data)) return bad("truncated archive");
      data.resize(size);
      return data;
    }
    // A member's size may say anything up to 8 GiB: unpacking it only to skip it is held to
    // the same 64 MiB.
    if (padded > k_max_scan - scanned) {
      return bad(fmt::format("no {} in the first 64 MiB of the archive", file));
    }
    if (!gz.skip(padded)) return bad("truncated archive");
    scanned += padded;
  }
  return bad(fmt::format("no {} in the first 64 MiB of the archive", file));
}

Result<std::string> sha256_file(const std::string& path) {
  auto bytes = read_archive(path, ErrorCode::io);
  if (!bytes) return fail(bytes.error());
  std::string hex = sha256_hex(*bytes);
  if (hex.empty()) return fail(ErrorCode::io, "sha256: OpenSSL could not compute a digest");
  return hex;
}

} // namespace netpol::cilium
