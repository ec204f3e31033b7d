// Checks beyond API validity: policies that are valid but probably not what the author
// meant (DNS blocked, rules ignored, selectors matching nothing). Checks that need to know
// the workloads run only when an inventory is given; the pod-CIDR check only when the pod
// CIDRs are known.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "model/ip.hpp"
#include "policy/inventory.hpp"
#include "policy/policy_object.hpp"

namespace netpol::policy {

enum class Severity { error, warning, info };
const char* to_string(Severity severity);

struct Finding {
  Severity severity = Severity::warning;
  std::string check;   // stable id: "egress-blocks-dns"
  std::string object;  // "NetworkPolicy/ns/name" or "Deployment/ns/name"
  std::string where;   // "file:line"
  std::string message; // one line

  // "file:line: warning: NetworkPolicy/ns/name: message [check]"
  std::string text() const;
};

struct LintOptions {
  std::string default_namespace = "default"; // for objects that name none
  std::optional<Inventory> inventory;        // workloads and namespaces, when known
  std::vector<model::Cidr> pod_cidrs;        // the cluster's pod CIDRs, when known
};

// The ids of every check, for docs and --help.
//   duplicate-name (error)            two objects with the same kind, namespace and name
//   generate-name (error)             metadata.generateName without a name (apply needs one)
//   egress-blocks-dns (warning)       egress restricted and no rule allows port 53 UDP/TCP
//   rules-ignored-by-policy-types (warning) rules for a direction policyTypes leaves out
//   named-port-to-ipblock (warning)   a named port towards an ipBlock peer never matches
//   selects-no-pods (warning)         spec.podSelector matches no workload (inventory)
//   peer-selects-no-pods (warning)    a rule's podSelector matches no workload (inventory)
//   named-port-not-exposed (warning)  no selected workload has the named port (inventory)
//   ipblock-covers-pod-cidr (warning) an ipBlock overlaps the pod network (pod CIDRs)
//   denies-all-traffic (info)         specific pods get no traffic in a direction
//   pod-not-isolated (info)           a workload no policy selects (inventory)
//   namespace-without-default-deny (info) a namespace whose policies include no default deny
std::vector<Finding> lint(const std::vector<PolicyObject>& policies, const LintOptions& options);

} // namespace netpol::policy
