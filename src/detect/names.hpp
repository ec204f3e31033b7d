// Well-known names detection looks for, in one place (sources: docs/detect.md).
#pragma once

namespace netpol::detect::names {

// Node labels that name a platform.
inline constexpr const char* k_gke_nodepool_label = "cloud.google.com/gke-nodepool";
inline constexpr const char* k_gke_os_label = "cloud.google.com/gke-os-distribution";
inline constexpr const char* k_eks_nodegroup_label = "eks.amazonaws.com/nodegroup";
inline constexpr const char* k_eks_compute_type_label = "eks.amazonaws.com/compute-type";
inline constexpr const char* k_aks_cluster_label = "kubernetes.azure.com/cluster";
inline constexpr const char* k_aks_agentpool_label = "kubernetes.azure.com/agentpool";
inline constexpr const char* k_minikube_label = "minikube.k8s.io/name";
inline constexpr const char* k_openshift_os_label = "node.openshift.io/os_id";
inline constexpr const char* k_k3s_node_args_annotation = "k3s.io/node-args";

// Provider objects.
inline constexpr const char* k_cilium_config = "cilium-config";
inline constexpr const char* k_cilium_flowlog_config = "cilium-flowlog-config";
inline constexpr const char* k_amazon_vpc_cni_config = "amazon-vpc-cni";
inline constexpr const char* k_kube_network_policies_ds = "kube-network-policies";
inline constexpr const char* k_calico_operator_namespace = "calico-system";

// kindnetd image date from which kind enforces NetworkPolicy (kind v0.24.0).
inline constexpr const char* k_kindnet_policy_date = "20240813";

// Namespaces whose DaemonSets are listed one by one when the token may not list DaemonSets
// cluster-wide (kube-system first: most providers live there).
inline constexpr const char* k_fallback_namespaces[] = {
    "kube-system", "calico-system", "kube-flannel", "openshift-ovn-kubernetes", "cilium",
};

// The Network Policy API's cluster-wide policies (kubernetes-sigs/network-policy-api):
// ClusterNetworkPolicy (v1beta1 since v0.3.0, v1alpha2 in v0.2.0) replaced AdminNetworkPolicy
// and BaselineAdminNetworkPolicy (v1alpha1). One version per kind is listed: the first served.
inline constexpr const char* k_policy_api_group = "policy.networking.k8s.io";
struct ClusterPolicyType {
  const char* api_version;
  const char* kind;
  const char* resource;
};
inline constexpr ClusterPolicyType k_cluster_policy_types[] = {
    {"policy.networking.k8s.io/v1beta1", "ClusterNetworkPolicy", "clusternetworkpolicies"},
    {"policy.networking.k8s.io/v1alpha2", "ClusterNetworkPolicy", "clusternetworkpolicies"},
    {"policy.networking.k8s.io/v1alpha1", "AdminNetworkPolicy", "adminnetworkpolicies"},
    {"policy.networking.k8s.io/v1alpha1", "BaselineAdminNetworkPolicy",
     "baselineadminnetworkpolicies"},
};

// Calico's API groups: the native v3 API (served by its API server, or since Calico 3.32 as
// CRDs of that group) and the v1 CRDs Calico stores its data in.
inline constexpr const char* k_calico_v3_group = "projectcalico.org";
inline constexpr const char* k_calico_crd_group = "crd.projectcalico.org";

} // namespace netpol::detect::names
