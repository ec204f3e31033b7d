// A fresh private folder for one test's files, removed with everything in it at the end.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>

namespace netpol::test {

class TempDir {
public:
  // mkdtemp: a new folder with mode 0700 that no other test (or test process) shares.
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "netpol-test-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    m_path = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(m_path, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return m_path; }
  // The path of `name` inside the folder (which need not exist).
  std::string file(const std::string& name) const { return (m_path / name).string(); }
  // Writes `text` to `name` (creating its folders), mode 0600 unless `perms` say otherwise, as
  // kubeconfigs and token files are; returns its path.
  std::string write(const std::string& name, const std::string& text,
                    std::filesystem::perms perms = std::filesystem::perms::owner_read |
                                                   std::filesystem::perms::owner_write) const {
    const auto p = m_path / name;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary | std::ios::trunc) << text;
    std::filesystem::permissions(p, perms);
    return p.string();
  }
  // What `name` holds ("" when it cannot be read).
  std::string read(const std::string& name) const {
    std::ifstream in(m_path / name, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

private:
  std::filesystem::path m_path;
};

} // namespace netpol::test
