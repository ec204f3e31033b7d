#include "report/output_dir.hpp"

#include "report/atomic_file.hpp"

namespace netpol::report {

Result<std::filesystem::path> OutputDir::write(std::string_view name,
                                               std::string_view content) const {
  auto target = m_dir / std::string(name);
  // Redacted by the writer, as every report is (cilium-values.yaml may hold keys from a values
  // file; JUnit messages may quote a plugin's or helm's stderr).
  if (auto ok = write_file_atomic(target, content); !ok) {
    return fail(ok.error());
  }
  note_written(name);
  return target;
}

void OutputDir::note_written(std::string_view name) const {
  std::lock_guard lock(m_mutex);
  m_written.emplace(name);
}

bool OutputDir::written(std::string_view name) const {
  std::lock_guard lock(m_mutex);
  return m_written.find(name) != m_written.end();
}

} // namespace netpol::report
