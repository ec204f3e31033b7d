#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cilium/defaults.hpp"
#include "cilium/values.hpp"

namespace netpol::cilium {
namespace {

using nlohmann::json;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

Platform platform(std::string flavor, std::string provider = "none", bool enforces = false) {
  Platform p;
  p.flavor = std::move(flavor);
  p.provider = ProviderInfo{std::move(provider), enforces};
  return p;
}

json at(const json& values, const std::string& pointer) {
  const json::json_pointer ptr(pointer);
  return values.contains(ptr) ? values.at(ptr) : json();
}

// What every install gets, whatever the platform.
void expect_common(const json& v, bool audit_mode) {
  EXPECT_EQ(at(v, "/policyAuditMode"), audit_mode);
  EXPECT_EQ(at(v, "/hubble/enabled"), true);
  EXPECT_EQ(at(v, "/hubble/relay/enabled"), true);
  EXPECT_EQ(at(v, "/hubble/export/static/enabled"), true);
  EXPECT_EQ(at(v, "/hubble/export/static/filePath"), "stdout");
  EXPECT_EQ(at(v, "/hubble/export/static/allowList"),
            json::array({R"({"verdict":["DROPPED","AUDIT"]})"}));
  EXPECT_EQ(at(v, "/operator/replicas"), 1);
  EXPECT_EQ(at(v, "/rollOutCiliumPods"), true);
}

TEST(CiliumValues, GenericIsTunnelWithAuditModeAndHubbleExport) {
  auto d = decide_values(platform("generic"), {});
  ASSERT_TRUE(d) << d.error().message;
  expect_common(d->values, true);
  EXPECT_EQ(at(d->values, "/routingMode"), "tunnel");
  EXPECT_EQ(at(d->values, "/tunnelProtocol"), "vxlan");
  EXPECT_FALSE(d->upgrade);
  EXPECT_EQ(d->audit_mode_source, "default");
  EXPECT_THAT(d->notes, Contains(HasSubstr("not managed by it until they are restarted")));
}

TEST(CiliumValues, GkeNativeRoutingWithTheGivenCidr) {
  Request r;
  r.native_routing_cidr = "10.4.0.0/14";
  auto d = decide_values(platform("gke"), r);
  ASSERT_TRUE(d) << d.error().message;
  expect_common(d->values, true);
  const json& v = d->values;
  EXPECT_EQ(at(v, "/routingMode"), "native");
  EXPECT_EQ(at(v, "/ipv4NativeRoutingCIDR"), "10.4.0.0/14");
  EXPECT_EQ(at(v, "/ipam/mode"), "kubernetes");
  EXPECT_EQ(at(v, "/gke/enabled"), true);
  EXPECT_EQ(at(v, "/cni/binPath"), "/home/kubernetes/bin");
  EXPECT_EQ(at(v, "/nodeinit/enabled"), true);
  EXPECT_EQ(at(v, "/nodeinit/reconfigureKubelet"), true);
  EXPECT_EQ(at(v, "/nodeinit/removeCbrBridge"), true);
  EXPECT_FALSE(v.contains("tunnelProtocol"));
}

TEST(CiliumValues, GkeTakesTheCidrFromTheValuesFile) {
  Request r;
  r.user_values = {{"ipv4NativeRoutingCIDR", "10.8.0.0/14"}};
  auto d = decide_values(platform("gke"), r);
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(at(d->values, "/ipv4NativeRoutingCIDR"), "10.8.0.0/14");
}

TEST(CiliumValues, GkeWithoutCidrIsRefusedEvenWithForce) {
  Request r;
  r.force = true;
  auto d = decide_values(platform("gke"), r);
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().code, ErrorCode::config);
  EXPECT_THAT(d.error().message, HasSubstr("pod CIDR"));
  EXPECT_THAT(d.error().details, Contains(HasSubstr("--native-routing-cidr")));
  EXPECT_THAT(d.error().details, Contains(HasSubstr("clusterIpv4Cidr")));
}

TEST(CiliumValues, GkeDataplaneV2IsRefusedUnlessForced) {
  Request r;
  r.native_routing_cidr = "10.4.0.0/14";
  auto d = decide_values(platform("gke", "gke-dataplane-v2", true), r);
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().code, ErrorCode::config);
  EXPECT_THAT(d.error().message, HasSubstr("GKE Dataplane V2"));
  EXPECT_THAT(d.error().details, Contains(HasSubstr("--force")));

  r.force = true;
  auto forced = decide_values(platform("gke", "gke-dataplane-v2", true), r);
  ASSERT_TRUE(forced) << forced.error().message;
  EXPECT_THAT(forced->notes, Contains(HasSubstr("--force: installing although GKE Dataplane V2")));
}

TEST(CiliumValues, EksChainsOnAwsCniByDefault) {
  auto d = decide_values(platform("eks", "aws-vpc-cni", false), {});
  ASSERT_TRUE(d) << d.error().message;
  expect_common(d->values, true);
  const json& v = d->values;
  EXPECT_EQ(at(v, "/cni/chainingMode"), "aws-cni");
  EXPECT_EQ(at(v, "/cni/exclusive"), false);
  EXPECT_EQ(at(v, "/enableIPv4Masquerade"), false);
  EXPECT_EQ(at(v, "/routingMode"), "native");
  EXPECT_EQ(at(v, "/endpointRoutes/enabled"), true);
  EXPECT_FALSE(v.contains("eni"));
  EXPECT_THAT(d->datapath, HasSubstr("aws-cni"));
}

TEST(CiliumValues, EksChainingRefusesWhenTheVpcCniEnforcesPolicies) {
  auto d = decide_values(platform("eks", "aws-vpc-cni", true), {});
  ASSERT_FALSE(d);
  EXPECT_THAT(d.error().message, HasSubstr("AWS VPC CNI enforces NetworkPolicy"));
}

TEST(CiliumValues, EksChainingNeedsTheVpcCni) {
  auto d = decide_values(platform("eks", "none"), {});
  ASSERT_FALSE(d);
  EXPECT_THAT(d.error().message, HasSubstr("aws-node"));
  EXPECT_THAT(d.error().details, Contains(HasSubstr("--eks-mode eni")));
}

TEST(CiliumValues, EksEniModeOnRequest) {
  Request r;
  r.eks_mode = EksMode::eni;
  auto d = decide_values(platform("eks", "none"), r);
  ASSERT_TRUE(d) << d.error().message;
  const json& v = d->values;
  EXPECT_EQ(at(v, "/eni/enabled"), true);
  EXPECT_EQ(at(v, "/ipam/mode"), "eni");
  EXPECT_EQ(at(v, "/routingMode"), "native");
  EXPECT_FALSE(v.contains("cni"));
}

TEST(CiliumValues, EksEniModeRefusedWhileAwsNodeRuns) {
  Request r;
  r.eks_mode = EksMode::eni;
  auto d = decide_values(platform("eks", "aws-vpc-cni"), r);
  ASSERT_FALSE(d);
  EXPECT_THAT(d.error().details, Contains(HasSubstr("io.cilium/aws-node-enabled")));
}

TEST(CiliumValues, AksByocniWhenNoProviderRuns) {
  auto d = decide_values(platform("aks", "none"), {});
  ASSERT_TRUE(d) << d.error().message;
  expect_common(d->values, true);
  EXPECT_EQ(at(d->values, "/aksbyocni/enabled"), true);
  EXPECT_THAT(d->notes, Contains(HasSubstr("BYOCNI")));
}

TEST(CiliumValues, AksWithAnotherProviderIsRefused) {
  auto d = decide_values(platform("aks", "azure-npm", true), {});
  ASSERT_FALSE(d);
  EXPECT_THAT(d.error().message, HasSubstr("BYOCNI"));
}

TEST(CiliumValues, AksManagedCiliumIsRefused) {
  auto d = decide_values(platform("aks", "cilium", true), {});
  ASSERT_FALSE(d);
  EXPECT_THAT(d.error().message, HasSubstr("Azure CNI powered by Cilium"));
}

TEST(CiliumValues, KindUsesKubernetesIpamAndRefusesKindnet) {
  auto d = decide_values(platform("kind", "none"), {});
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(at(d->values, "/ipam/mode"), "kubernetes");
  EXPECT_EQ(at(d->values, "/routingMode"), "tunnel");

  auto with_kindnet = decide_values(platform("kind", "kindnet", true), {});
  ASSERT_FALSE(with_kindnet);
  EXPECT_THAT(with_kindnet.error().details, Contains(HasSubstr("disableDefaultCNI")));
}

TEST(CiliumValues, K3sNeedsFlannelOff) {
  auto d = decide_values(platform("k3s", "k3s", true), {});
  ASSERT_FALSE(d);
  EXPECT_THAT(d.error().message, HasSubstr("flannel"));
  EXPECT_THAT(d.error().details, Contains(HasSubstr("--flannel-backend=none")));

  auto off = decide_values(platform("k3s", "none"), {});
  ASSERT_TRUE(off) << off.error().message;
  EXPECT_EQ(at(off->values, "/ipam/mode"), "kubernetes");

  Request forced;
  forced.force = true;
  EXPECT_TRUE(decide_values(platform("k3s", "k3s", true), forced));
}

TEST(CiliumValues, OpenShiftIsRefusedUnlessForced) {
  auto d = decide_values(platform("openshift", "ovn-kubernetes", true), {});
  ASSERT_FALSE(d);
  Request r;
  r.force = true;
  auto forced = decide_values(platform("openshift", "ovn-kubernetes", true), r);
  ASSERT_TRUE(forced) << forced.error().message;
  // Both refusals (OpenShift, and OVN-Kubernetes enforcing) are named in the notes.
  EXPECT_THAT(forced->notes, Contains(HasSubstr("OpenShift")));
  EXPECT_THAT(forced->notes, Contains(HasSubstr("ovn-kubernetes")));
}

TEST(CiliumValues, AnotherEnforcingProviderIsRefused) {
  auto d = decide_values(platform("generic", "calico", true), {});
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().message,
            "refusing to install Cilium: calico already enforces NetworkPolicy here; with "
            "Cilium beside it two providers would enforce (and fight over the CNI "
            "configuration)");
}

TEST(CiliumValues, EnforcersAmongOtherProvidersAreRefusedToo) {
  auto p = platform("generic", "flannel", false);
  p.other_providers.push_back({"weave", false});
  auto d = decide_values(p, {});
  ASSERT_FALSE(d);
  EXPECT_THAT(d.error().message, HasSubstr("weave"));
}

TEST(CiliumValues, FlannelAloneIsReplacedWithANote) {
  auto d = decide_values(platform("generic", "flannel", false), {});
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_THAT(d->notes, Contains(HasSubstr("flannel keeps running")));
}

TEST(CiliumValues, CiliumNotInstalledByHelmIsRefused) {
  auto d = decide_values(platform("generic", "cilium", true), {});
  ASSERT_FALSE(d);
  EXPECT_THAT(d.error().message, HasSubstr("not as Helm release"));
}

TEST(CiliumValues, UpgradeKeepsTheRunningAuditMode) {
  auto p = platform("generic", "cilium", true);
  p.cilium_release = true;
  p.existing_audit_mode = false;
  auto d = decide_values(p, {});
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_TRUE(d->upgrade);
  // The chart's default is off: nothing to write.
  EXPECT_FALSE(d->values.contains("policyAuditMode"));
  EXPECT_FALSE(d->audit_mode);
  EXPECT_EQ(d->audit_mode_source, "kept from the running Cilium");
  EXPECT_THAT(d->notes, Not(Contains(HasSubstr("restarted"))));

  Request r;
  r.audit_mode = true;
  auto asked = decide_values(p, r);
  ASSERT_TRUE(asked);
  EXPECT_EQ(at(asked->values, "/policyAuditMode"), true);
  EXPECT_EQ(asked->audit_mode_source, "requested");

  // Audit mode switched on by hand in cilium-config: the chart would render it off.
  p.existing_audit_mode = true;
  auto running = decide_values(p, {});
  ASSERT_TRUE(running);
  EXPECT_EQ(at(running->values, "/policyAuditMode"), true);
  EXPECT_EQ(running->audit_mode_source, "kept from the running Cilium");
}

// The values an operator gave the release: native routing, cluster-pool IPAM with its CIDR,
// kube-proxy replacement, the bandwidth manager, and keys netpol knows nothing about.
json operator_values() {
  return json::parse(R"({
    "routingMode": "native",
    "ipv4NativeRoutingCIDR": "10.244.0.0/16",
    "autoDirectNodeRoutes": true,
    "ipam": {"mode": "cluster-pool",
             "operator": {"clusterPoolIPv4PodCIDRList": ["10.244.0.0/16"]}},
    "kubeProxyReplacement": true,
    "k8sServiceHost": "api.internal",
    "k8sServicePort": 6443,
    "bandwidthManager": {"enabled": true},
    "hubble": {"relay": {"enabled": false}, "metrics": {"enabled": ["dns", "drop"]}},
    "operator": {"replicas": 2},
    "policyAuditMode": false
  })");
}

// Every leaf of `before` is in `after` with the same value.
void expect_kept(const json& before, const json& after, const std::string& path = "") {
  if (before.is_object()) {
    for (auto it = before.begin(); it != before.end(); ++it) {
      ASSERT_TRUE(after.is_object() && after.contains(it.key())) << path << "/" << it.key();
      expect_kept(it.value(), after[it.key()], path + "/" + it.key());
    }
    return;
  }
  EXPECT_EQ(before, after) << path;
}

TEST(CiliumValues, UpgradeKeepsEveryOperatorValueOnEveryPlatform) {
  struct Case {
    const char* flavor;
    const char* provider;
  };
  // GKE without --native-routing-cidr, EKS without aws-node, AKS: a new install would be
  // refused or choose its own datapath; an upgrade keeps the running one.
  for (const auto& c : {Case{"generic", "cilium"}, Case{"kind", "cilium"},
                        Case{"minikube", "cilium"}, Case{"k3s", "cilium"}, Case{"gke", "cilium"},
                        Case{"eks", "cilium"}, Case{"aks", "cilium"}}) {
    SCOPED_TRACE(c.flavor);
    auto p = platform(c.flavor, c.provider, true);
    p.cilium_release = true;
    p.release_values = operator_values();
    auto d = decide_values(p, {});
    ASSERT_TRUE(d) << d.error().message;
    expect_kept(operator_values(), d->values);
    EXPECT_EQ(d->previous_values, operator_values());
    // Only the export and the agents' restart are added.
    EXPECT_EQ(d->changes,
              (std::vector<std::string>{
                  R"(+ hubble.export.static.allowList: ["{\"verdict\":[\"DROPPED\",\"AUDIT\"]}"])",
                  "+ hubble.export.static.enabled: true",
                  R"(+ hubble.export.static.filePath: "stdout")",
                  "+ rollOutCiliumPods: true",
              }));
    EXPECT_FALSE(d->audit_mode);
    EXPECT_EQ(d->audit_mode_source, "kept from the release");
    EXPECT_TRUE(d->agents_restart);
    EXPECT_THAT(d->datapath, HasSubstr("kept from the release: native, IPAM cluster-pool"));
    EXPECT_THAT(d->datapath, HasSubstr("kube-proxy replacement"));
    for (const auto& key : datapath_keys()) {
      const json::json_pointer ptr(key);
      EXPECT_EQ(operator_values().contains(ptr), d->values.contains(ptr)) << key;
    }
  }
}

TEST(CiliumValues, UpgradeOfAReleaseThatHasTheExportChangesNothing) {
  // What netpol installed earlier, run again: same values, so no roll.
  auto fresh = decide_values(platform("generic"), {});
  ASSERT_TRUE(fresh);
  auto p = platform("generic", "cilium", true);
  p.cilium_release = true;
  p.release_values = fresh->values;
  auto d = decide_values(p, {});
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->values, fresh->values);
  EXPECT_THAT(d->changes, IsEmpty());
  EXPECT_FALSE(d->agents_restart);
  EXPECT_EQ(d->restart_reason, "nothing the agents read changes, so they keep running");

  // An export of every flow to stdout has the drops already; rollOutCiliumPods stays unset.
  p.release_values = json::parse(
      R"({"hubble": {"enabled": true, "export": {"static": {"enabled": true, "filePath": "stdout"}}}})");
  auto all = decide_values(p, {});
  ASSERT_TRUE(all);
  EXPECT_THAT(all->changes, IsEmpty());
  EXPECT_FALSE(all->values.contains("rollOutCiliumPods"));
}

TEST(CiliumValues, UpgradeLeavesTheChartsDefaultHubbleEnabledAlone) {
  // The release exports drops to stdout already but never set hubble.enabled (the chart's
  // default is true): nothing changes, so nothing rolls.
  auto p = platform("generic", "cilium", true);
  p.cilium_release = true;
  p.release_values = json::parse(R"({"hubble": {"export": {"static": {
      "enabled": true, "filePath": "stdout",
      "allowList": ["{\"verdict\":[\"DROPPED\",\"AUDIT\"]}"]}}}})");
  auto d = decide_values(p, {});
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->values, p.release_values);
  EXPECT_THAT(d->changes, IsEmpty());
  EXPECT_FALSE(d->agents_restart);
  EXPECT_FALSE(d->values.contains(json::json_pointer("/hubble/enabled")));
  EXPECT_FALSE(d->values.contains("rollOutCiliumPods"));

  // Said explicitly, true stays as it is; "true" as a string too.
  for (const json& on : {json(true), json("true")}) {
    p.release_values["hubble"]["enabled"] = on;
    auto kept = decide_values(p, {});
    ASSERT_TRUE(kept) << kept.error().message;
    EXPECT_THAT(kept->changes, IsEmpty()) << on;
    EXPECT_FALSE(kept->agents_restart) << on;
  }

  // A release that switched Hubble off gets it on again: a change, and the agents roll.
  p.release_values["hubble"]["enabled"] = false;
  auto off = decide_values(p, {});
  ASSERT_TRUE(off) << off.error().message;
  EXPECT_EQ(at(off->values, "/hubble/enabled"), true);
  EXPECT_THAT(off->changes, Contains("~ hubble.enabled: false -> true"));
  EXPECT_TRUE(off->agents_restart);
}

TEST(CiliumValues, UpgradeAddsTheDropFilterToTheOperatorsAllowlist) {
  auto p = platform("generic", "cilium", true);
  p.cilium_release = true;
  p.release_values = json::parse(R"({"rollOutCiliumPods": false, "hubble": {"export": {"static": {
      "enabled": true, "filePath": "/var/run/cilium/hubble/events.log",
      "allowList": ["{\"source_pod\":[\"shop/\"]}"]}}}})");
  auto d = decide_values(p, {});
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(at(d->values, "/hubble/export/static/allowList"),
            json::array({R"({"source_pod":["shop/"]})", R"({"verdict":["DROPPED","AUDIT"]})"}));
  EXPECT_EQ(at(d->values, "/hubble/export/static/filePath"), "stdout");
  // The operator's rollOutCiliumPods: false stands; netpol says what to do instead.
  EXPECT_EQ(at(d->values, "/rollOutCiliumPods"), false);
  EXPECT_FALSE(d->agents_restart);
  EXPECT_THAT(d->notes, Contains(HasSubstr("rollout restart daemonset/cilium")));
}

TEST(CiliumValues, UpgradeChangesTheAuditModeOnlyWhenAsked) {
  auto p = platform("generic", "cilium", true);
  p.cilium_release = true;
  auto fresh = decide_values(platform("generic"), {});
  ASSERT_TRUE(fresh);
  p.release_values = fresh->values; // audit mode on
  Request r;
  r.audit_mode = false;
  auto d = decide_values(p, r);
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->changes, std::vector<std::string>{"~ policyAuditMode: true -> false"});
  EXPECT_TRUE(d->agents_restart);

  // Asking for "off" where it is off already (no key, nothing in audit mode) changes nothing.
  p.release_values = d->values;
  p.release_values.erase("policyAuditMode");
  auto off = decide_values(p, r);
  ASSERT_TRUE(off) << off.error().message;
  EXPECT_THAT(off->changes, IsEmpty());
  EXPECT_FALSE(off->audit_mode);
  EXPECT_FALSE(off->agents_restart);
}

TEST(CiliumValues, UpgradeReportsAValuesFileThatChangesTheDatapath) {
  auto p = platform("generic", "cilium", true);
  p.cilium_release = true;
  p.release_values = operator_values();
  Request r;
  r.user_values = json::parse(R"({"routingMode": "tunnel", "hubble": {"ui": {"enabled": true}}})");
  auto d = decide_values(p, r);
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(at(d->values, "/routingMode"), "tunnel");
  EXPECT_THAT(d->notes, Contains(HasSubstr("changes the datapath of the running release "
                                           "(routingMode)")));
  EXPECT_THAT(d->changes, Contains("+ hubble.ui.enabled: true"));
}

TEST(CiliumValues, UpgradeRefusesToDowngradeTheChart) {
  auto p = platform("generic", "cilium", true);
  p.cilium_release = true;
  p.release_chart_version = "1.20.2";
  p.chart_version = "1.20.0";
  auto d = decide_values(p, {});
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().code, ErrorCode::config);
  EXPECT_THAT(d.error().message, HasSubstr("the release runs chart 1.20.2, newer than chart "
                                           "1.20.0 that would be installed"));
  Request forced;
  forced.force = true;
  EXPECT_TRUE(decide_values(p, forced));

  p.release_chart_version = "1.18.12";
  auto newer = decide_values(p, {});
  ASSERT_TRUE(newer) << newer.error().message;
  EXPECT_TRUE(newer->agents_restart);
  EXPECT_EQ(newer->restart_reason, "chart 1.18.12 -> 1.20.0: the agents restart with the new "
                                   "version");
  EXPECT_THAT(newer->notes, Contains(HasSubstr("skips a minor version")));
}

TEST(CiliumValues, WarnsAboutLinesOutsideTheSupportedOnes) {
  auto p = platform("generic", "cilium", true);
  p.cilium_release = true;
  p.running_version = "1.17.6";
  p.chart_version = "1.20.0";
  auto d = decide_values(p, {});
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_THAT(d->notes, Contains(HasSubstr("Cilium 1.17.6 runs here, older than the oldest line "
                                           "netpol supports (1.18–1.20")));
  p.running_version = "1.18.12";
  auto supported = decide_values(p, {});
  EXPECT_THAT(supported->notes, Not(Contains(HasSubstr("oldest line"))));

  auto fresh = platform("generic");
  fresh.chart_version = "1.17.18";
  auto old_chart = decide_values(fresh, {});
  ASSERT_TRUE(old_chart);
  EXPECT_THAT(old_chart->notes, Contains(HasSubstr("chart 1.17.18 is outside the Cilium lines")));
}

TEST(CiliumValues, FreshInstallHonoursRequestedAuditMode) {
  Request r;
  r.audit_mode = false;
  auto d = decide_values(platform("generic"), r);
  ASSERT_TRUE(d);
  expect_common(d->values, false);
}

TEST(CiliumValues, UserValuesAreMergedLast) {
  Request r;
  r.user_values = json::parse(R"({
    "policyAuditMode": false,
    "hubble": {"relay": {"enabled": false}, "ui": {"enabled": true}},
    "operator": {"replicas": 2},
    "tunnelProtocol": null
  })");
  auto d = decide_values(platform("generic"), r);
  ASSERT_TRUE(d);
  const json& v = d->values;
  EXPECT_EQ(at(v, "/policyAuditMode"), false);
  EXPECT_FALSE(d->audit_mode);
  EXPECT_EQ(d->audit_mode_source, "values file");
  EXPECT_EQ(at(v, "/hubble/relay/enabled"), false);
  EXPECT_EQ(at(v, "/hubble/ui/enabled"), true);
  EXPECT_EQ(at(v, "/hubble/export/static/filePath"), "stdout"); // siblings survive the merge
  EXPECT_EQ(at(v, "/operator/replicas"), 2);
  EXPECT_FALSE(v.contains("tunnelProtocol"));
}

TEST(CiliumValues, OldChartGetsANoteAboutTheExport) {
  auto p = platform("generic");
  p.chart_version = "1.15.6";
  auto d = decide_values(p, {});
  ASSERT_TRUE(d);
  EXPECT_THAT(d->notes, Contains(HasSubstr("cannot export flows to stdout")));
  p.chart_version = "1.16.0";
  auto recent = decide_values(p, {});
  EXPECT_THAT(recent->notes, Not(Contains(HasSubstr("cannot export"))));
}

json aggregate_fields() {
  json out = json::array();
  for (const char* field : defaults::k_export_aggregate_fields)
    out.push_back(field);
  return out;
}

const json k_drop_and_forwarded =
    json::array({R"({"verdict":["DROPPED","AUDIT"]})", R"({"verdict":["FORWARDED"]})"});

TEST(CiliumValues, ForwardedFlowsAreNotExportedByDefault) {
  for (const char* version : {"1.18.12", "1.19.6", "1.20.0"}) {
    auto p = platform("generic");
    p.chart_version = version;
    auto d = decide_values(p, {});
    ASSERT_TRUE(d) << d.error().message;
    expect_common(d->values, true);
    EXPECT_EQ(at(d->values, "/hubble/export/static/fieldAggregate"), json()) << version;
    EXPECT_EQ(at(d->values, "/hubble/export/static/fieldMask"), json()) << version;
    EXPECT_EQ(at(d->values, "/hubble/export/aggregationInterval"), json()) << version;
  }
}

TEST(CiliumValues, ExportForwardedOn118IsThePlainFilterAndItsCostIsSaid) {
  auto p = platform("generic");
  p.chart_version = "1.18.12";
  Request r;
  r.export_forwarded = true;
  auto d = decide_values(p, r);
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(at(d->values, "/hubble/export/static/allowList"), k_drop_and_forwarded);
  // 1.18's chart has no aggregation keys: nothing of it is written.
  EXPECT_EQ(at(d->values, "/hubble/export/static/fieldAggregate"), json());
  EXPECT_EQ(at(d->values, "/hubble/export/static/fieldMask"), json());
  EXPECT_EQ(at(d->values, "/hubble/export/static/aggregationInterval"), json());
  EXPECT_EQ(at(d->values, "/hubble/export/aggregationInterval"), json());
  EXPECT_THAT(d->notes, Contains(AllOf(HasSubstr("chart 1.18.12"), HasSubstr("1.3 KB"),
                                       HasSubstr("every forwarded flow is one line"))));
}

TEST(CiliumValues, ExportForwardedOn119And120IsAggregatedAndMasked) {
  for (const char* version : {"1.19.6", "1.20.0"}) {
    auto p = platform("generic");
    p.chart_version = version;
    Request r;
    r.export_forwarded = true;
    auto d = decide_values(p, r);
    ASSERT_TRUE(d) << d.error().message;
    EXPECT_EQ(at(d->values, "/hubble/export/static/allowList"), k_drop_and_forwarded) << version;
    EXPECT_EQ(at(d->values, "/hubble/export/static/fieldAggregate"), aggregate_fields());
    json mask = json::array({"time"});
    for (const auto& f : aggregate_fields())
      mask.push_back(f);
    EXPECT_EQ(at(d->values, "/hubble/export/static/fieldMask"), mask);
    EXPECT_EQ(at(d->values, "/hubble/export/static/aggregationInterval"), "10s");
    EXPECT_EQ(at(d->values, "/hubble/export/aggregationInterval"), "10s");
    EXPECT_THAT(d->notes, Not(Contains(HasSubstr("1.3 KB"))));
    // What one line stands for: not a packet (source port, flags, time) but a connection kind.
    const auto fields = aggregate_fields();
    for (const char* left_out : {"time", "l4", "l4.TCP.source_port", "source", "destination"})
      EXPECT_THAT(fields, Not(Contains(left_out)));
    for (const char* kept : {"verdict", "source.pod_name", "destination.pod_name",
                             "l4.TCP.destination_port", "drop_reason_desc", "ingress_denied_by"})
      EXPECT_THAT(fields, Contains(kept));
  }
}

TEST(CiliumValues, UpgradeWithExportForwardedKeepsTheOperatorsExporterValues) {
  auto p = platform("generic", "cilium", true);
  p.chart_version = "1.20.0";
  p.release_chart_version = "1.20.0";
  p.cilium_release = true;
  p.release_values = json::parse(R"({"routingMode": "native",
      "hubble": {"export": {"static": {"enabled": true, "filePath": "stdout",
        "fieldMask": ["time", "verdict", "source", "destination", "l4"],
        "allowList": ["{\"source_pod\":[\"shop/\"]}"]}}}})");
  Request r;
  r.export_forwarded = true;
  auto d = decide_values(p, r);
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(at(d->values, "/routingMode"), "native");
  EXPECT_EQ(at(d->values, "/hubble/export/static/allowList"),
            json::array({R"({"source_pod":["shop/"]})", R"({"verdict":["DROPPED","AUDIT"]})",
                         R"({"verdict":["FORWARDED"]})"}));
  // The operator's field mask stands; what the release does not set is netpol's.
  EXPECT_EQ(at(d->values, "/hubble/export/static/fieldMask"),
            json::array({"time", "verdict", "source", "destination", "l4"}));
  EXPECT_EQ(at(d->values, "/hubble/export/static/fieldAggregate"), aggregate_fields());
  EXPECT_EQ(at(d->values, "/hubble/export/aggregationInterval"), "10s");
  EXPECT_TRUE(d->agents_restart);
  EXPECT_THAT(d->changes, Contains(HasSubstr("hubble.export.static.fieldAggregate")));

  // Run again on the result: nothing left to change.
  p.release_values = d->values;
  auto again = decide_values(p, r);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_THAT(again->changes, IsEmpty());
  EXPECT_FALSE(again->agents_restart);
}

TEST(CiliumValues, UpgradeWithExportForwardedLeavesAnExportOfEveryFlowAlone) {
  auto p = platform("generic", "cilium", true);
  p.chart_version = "1.19.6";
  p.release_chart_version = "1.19.6";
  p.cilium_release = true;
  p.release_values =
      json::parse(R"({"hubble": {"export": {"static": {"enabled": true, "filePath": "stdout"}}}})");
  Request r;
  r.export_forwarded = true;
  auto d = decide_values(p, r);
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->values, p.release_values);
  EXPECT_THAT(d->changes, IsEmpty());
}

TEST(CiliumValues, MergeReplacesListsAndScalars) {
  json base = {{"a", {{"b", 1}, {"c", {1, 2}}}}, {"d", "x"}};
  json overlay = {{"a", {{"c", {3}}}}, {"d", {{"e", true}}}};
  EXPECT_EQ(merge_values(base, overlay), json::parse(R"({"a":{"b":1,"c":[3]},"d":{"e":true}})"));
}

class ValuesFile : public ::testing::Test {
protected:
  std::string write(const std::string& text) {
    const auto path =
        std::filesystem::path(::testing::TempDir()) /
        (std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) + ".yaml");
    std::ofstream(path) << text;
    return path.string();
  }
};

TEST_F(ValuesFile, LoadsAMapping) {
  auto v = load_values_file(write("hubble:\n  ui:\n    enabled: true\n"));
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(at(*v, "/hubble/ui/enabled"), true);
}

TEST_F(ValuesFile, EmptyFileIsNoValues) {
  auto v = load_values_file(write("# nothing\n"));
  ASSERT_TRUE(v);
  EXPECT_THAT(*v, IsEmpty());
}

TEST_F(ValuesFile, ListIsAConfigErrorWithFileAndLine) {
  const auto path = write("# values\n- a\n- b\n");
  auto v = load_values_file(path);
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().code, ErrorCode::config);
  EXPECT_THAT(v.error().message, AllOf(HasSubstr(path + ":2"), HasSubstr("must be a mapping")));
}

TEST_F(ValuesFile, SyntaxErrorIsAConfigError) {
  auto v = load_values_file(write("a: [b\n"));
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().code, ErrorCode::config);
}

TEST_F(ValuesFile, MissingFileIsAConfigError) {
  auto v = load_values_file("/nonexistent/values.yaml");
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().code, ErrorCode::config);
  EXPECT_THAT(v.error().message, HasSubstr("/nonexistent/values.yaml"));
}

} // namespace
} // namespace netpol::cilium
