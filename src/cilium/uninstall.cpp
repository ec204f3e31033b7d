#include "cilium/uninstall.hpp"

#include "cilium/helm.hpp"

namespace netpol::cilium {

using report::CaseStatus;

Result<bool> uninstall_release(const UninstallOptions& options, const Site& site,
                               report::Session session, report::JUnitReport& junit,
                               const std::string& classname) {
  HelmOptions helm;
  helm.kubeconfig_paths = site.kubeconfig_paths;
  helm.kube_context = site.context;
  helm.namespace_name = options.namespace_name;
  const std::string release = helm.namespace_name + "/" + helm.release;
  report::TestCase c{classname, "uninstall Cilium release " + release, CaseStatus::passed, "", "",
                     0};
  if (options.dry_run) {
    c.status = CaseStatus::skipped;
    c.message = "dry run: helm was not run";
    junit.add(std::move(c));
    session.out << "would uninstall the Cilium release " << release << " (dry run)\n";
    return false;
  }
  auto found = find_helm(options.helm, site.search_path);
  if (!found) return fail(found.error());
  helm.helm = *found;
  auto phase = session.reporter.phase("Uninstalling the Cilium release " + release);
  auto removed = uninstall(helm);
  if (!removed) {
    phase.failed(removed.error().message);
    c.status = CaseStatus::failed;
    c.message = removed.error().message;
    junit.add(std::move(c));
    return fail(removed.error());
  }
  if (!*removed) {
    phase.skipped("no such release");
    c.status = CaseStatus::skipped;
    c.message = "no release " + release + " (another namespace? --cilium-namespace)";
    session.out << "no Cilium release " << release << " to uninstall\n";
  } else {
    phase.done();
    session.out << "uninstalled the Cilium release " << release << "\n";
  }
  junit.add(std::move(c));
  return *removed;
}

} // namespace netpol::cilium
