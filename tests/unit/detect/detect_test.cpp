#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "detect/detect.hpp"
#include "detect/rules.hpp"
#include "support/fake_kube_api.hpp"
#include "unit/detect/scenario.hpp"

namespace netpol::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class DetectScenarioTest : public ::testing::TestWithParam<std::string> {};

// Every fixture cluster yields exactly its provider.json (or its expected error), within the
// request budget.
TEST_P(DetectScenarioTest, YieldsExpectedProviderJson) {
  const auto scenario = load_detect_scenario(GetParam());
  ASSERT_FALSE(scenario.objects.empty()) << scenario.dir;
  EXPECT_NE(scenario.expected.is_null(), scenario.expected_error.empty())
      << "one of provider.json and expected-error.txt in " << scenario.dir;
  FakeKubeApi api(scenario);

  auto detection = detect::detect(api, scenario.hints);
  if (!scenario.expected_error.empty()) {
    ASSERT_FALSE(detection.has_value()) << detection->to_json().dump(2);
    EXPECT_THAT(detection.error().message, ::testing::StartsWith(scenario.expected_error));
    EXPECT_LE(api.request_count(), 12u);
    return;
  }

  ASSERT_TRUE(detection.has_value()) << detection.error().message;
  const auto actual = nlohmann::json::parse(detection->to_json().dump());
  EXPECT_EQ(actual, scenario.expected) << "actual provider.json:\n" << actual.dump(2) << "\n";
  EXPECT_LE(detection->api_requests, 12u);
  EXPECT_EQ(detection->api_requests, api.request_count());
}

// provider.json read back gives the same Detection (run/apply consume a stored one).
TEST_P(DetectScenarioTest, ProviderJsonRoundTrips) {
  const auto scenario = load_detect_scenario(GetParam());
  FakeKubeApi api(scenario);
  auto detection = detect::detect(api, scenario.hints);
  ASSERT_EQ(detection.has_value(), scenario.expected_error.empty());
  if (!detection) return; // no provider.json to read back (checked above)
  auto back = detect::Detection::from_json(nlohmann::json::parse(detection->to_json().dump()));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->to_json(), detection->to_json());
}

INSTANTIATE_TEST_SUITE_P(Fixtures, DetectScenarioTest, ::testing::ValuesIn(detect_scenario_names()),
                         [](const auto& param_info) {
                           std::string name = param_info.param;
                           for (auto& c : name)
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return name;
                         });

TEST(Detect, CoversEveryFlavorAndTheRequiredScenarios) {
  std::set<std::string> flavors, providers;
  for (const auto& name : detect_scenario_names()) {
    const auto s = load_detect_scenario(name);
    if (s.expected.is_null()) continue; // an expected error
    flavors.insert(s.expected.value("flavor", ""));
    providers.insert(s.expected["provider"].value("name", ""));
  }
  EXPECT_GE(detect_scenario_names().size(), 14u);
  for (const char* f : {"gke", "eks", "aks", "openshift", "k3s", "kind", "generic"}) {
    EXPECT_EQ(flavors.count(f), 1u) << f;
  }
  for (const char* p : {"cilium", "gke-dataplane-v2", "calico", "canal", "aws-vpc-cni", "azure-npm",
                        "flannel", "ovn-kubernetes", "kindnet", "k3s", "none"}) {
    EXPECT_EQ(providers.count(p), 1u) << p;
  }
}

TEST(Detect, UnreachableClusterIsAnErrorNamingTheServer) {
  FakeKubeApi api(load_detect_scenario("gke-dataplane-v2"));
  api.set_unreachable(true);
  auto detection = detect::detect(api, {});
  ASSERT_FALSE(detection.has_value());
  EXPECT_EQ(detection.error().code, ErrorCode::unreachable);
  EXPECT_THAT(detection.error().message, HasSubstr("https://fake.invalid:6443"));
  EXPECT_EQ(api.request_count(), 1u); // gives up at the first request
}

TEST(Detect, ForbiddenReadsAreEvidenceUntilNothingIsLeftToConcludeFrom) {
  // Nodes forbidden, DaemonSets readable in kube-system only: a conclusion, low on evidence.
  const auto some = load_detect_scenario("rbac-kube-system-only");
  FakeKubeApi limited(some);
  auto detection = detect::detect(limited, some.hints);
  ASSERT_TRUE(detection.has_value()) << detection.error().message;
  EXPECT_THAT(detection->evidence, ::testing::Contains("list nodes: forbidden"));
  // The rights to grant: the cluster-wide list, not the per-namespace ones standing in for it.
  EXPECT_THAT(detection->forbidden_reads,
              ::testing::ElementsAre("list nodes", "list daemonsets (all namespaces)"));
  // No DaemonSet readable anywhere: "provider none" would be a guess, so it is an error that
  // names the missing right, after each well-known namespace was tried once.
  const auto none = load_detect_scenario("rbac-nobody");
  FakeKubeApi nobody(none);
  auto failed = detect::detect(nobody, none.hints);
  ASSERT_FALSE(failed.has_value());
  EXPECT_EQ(failed.error().http_status, 403);
  EXPECT_THAT(failed.error().message, HasSubstr("grant `list daemonsets` cluster-wide or in "
                                                "kube-system"));
  EXPECT_THAT(nobody.requests(), ::testing::Contains("list daemonsets in kube-system"));
  EXPECT_LE(nobody.request_count(), 12u);
}

TEST(Detect, FailuresThatAreNotTheServersAnswerEndDetection) {
  // A read that was cancelled, timed out, or could not get credentials (an exec plugin that
  // failed) says nothing about the cluster: detection ends with it instead of concluding
  // "provider none" from what it could not read.
  const auto s = load_detect_scenario("cilium-audit-hubble");
  for (auto code : {ErrorCode::cancelled, ErrorCode::timeout, ErrorCode::config, ErrorCode::io}) {
    FakeKubeApi api(s);
    api.set_failure(Error(code, "the fourth read failed"), 3);
    auto failed = detect::detect(api, s.hints);
    ASSERT_FALSE(failed.has_value()) << to_string(code);
    EXPECT_EQ(failed.error().code, code);
    EXPECT_EQ(api.request_count(), 4u) << "nothing more is read";
  }
  // The server's answer about one read is evidence, unless it refuses who we are.
  FakeKubeApi unauthorized(s);
  Error e(ErrorCode::api, "list nodes: Unauthorized");
  e.http_status = 401;
  unauthorized.set_failure(e, 2);
  EXPECT_FALSE(detect::detect(unauthorized, s.hints).has_value());
}

TEST(Detect, AnObjectOfAnUnexpectedShapeIsTheServersError) {
  auto s = load_detect_scenario("flannel-only");
  s.objects.push_back(nlohmann::json::parse(R"({"apiVersion":"apps/v1","kind":"DaemonSet",
      "metadata":{"name":"odd","namespace":"kube-system","labels":"not-a-map"},
      "spec":{"template":{"spec":{"containers":"not-a-list"}}},"status":[]})"));
  FakeKubeApi api(s);
  auto detection = detect::detect(api, s.hints);
  // Either the classifier reads past it, or it says whose the fault is: never an exception.
  if (!detection) {
    EXPECT_EQ(detection.error().code, ErrorCode::api);
    EXPECT_THAT(detection.error().message, HasSubstr("unexpected shape"));
  }
}

TEST(Detect, OnlyTheConfigMapsTheDaemonSetsCallForAreRead) {
  const auto s = load_detect_scenario("flannel-only");
  FakeKubeApi api(s);
  ASSERT_TRUE(detect::detect(api, s.hints).has_value());
  for (const auto& r : api.requests()) {
    EXPECT_THAT(r, Not(HasSubstr("configmaps"))) << "flannel needs no ConfigMap";
  }
  EXPECT_EQ(api.request_count(), 4u); // version, groups, nodes, daemonsets
}

TEST(ImageTag, StripsRegistryPortAndDigest) {
  EXPECT_EQ(detect::image_tag("quay.io/cilium/cilium:v1.18.2@sha256:abc"), "v1.18.2");
  EXPECT_EQ(detect::image_tag("localhost:5000/cilium/cilium:v1.17.0"), "v1.17.0");
  EXPECT_EQ(detect::image_tag("localhost:5000/cilium/cilium"), std::nullopt);
  EXPECT_EQ(detect::image_tag("quay.io/openshift/x@sha256:abc"), std::nullopt);
  EXPECT_EQ(detect::image_tag("cilium:1.16"), "1.16");
}

detect::Detection detection_of(const std::string& scenario) {
  const auto s = load_detect_scenario(scenario);
  FakeKubeApi api(s);
  return *detect::detect(api, s.hints);
}

TEST(Dotenv, HasTheSixVariablesOnePerLineWithoutQuotes) {
  const auto env = detection_of("cilium-audit-hubble").to_dotenv();
  EXPECT_EQ(env, "NETPOL_FLAVOR=generic\n"
                 "NETPOL_PROVIDER=cilium\n"
                 "NETPOL_PROVIDER_VERSION=1.18.2\n"
                 "NETPOL_ENFORCES=true\n"
                 "NETPOL_AUDIT_MODE=true\n"
                 "NETPOL_DROP_LOG_SOURCE=hubble-export-stdout\n");
  EXPECT_LT(env.size(), 5u * 1024);
}

TEST(Dotenv, UnknownVersionIsEmptyAndHostileTagsAreSanitised) {
  detect::Detection d;
  d.provider.version = "1.2\"3\n$(rm)=x";
  EXPECT_THAT(d.to_dotenv(), HasSubstr("NETPOL_PROVIDER_VERSION=1.23rmx\n"));
  d.provider.version.reset();
  EXPECT_THAT(d.to_dotenv(), HasSubstr("NETPOL_PROVIDER_VERSION=\n"));
}

TEST(Text, NamesProviderEnforcementAndEvidence) {
  const auto text = detection_of("eks-cilium-chaining").to_text();
  EXPECT_THAT(text, HasSubstr("Provider     cilium 1.17.6 in kube-system\n"));
  EXPECT_THAT(text, HasSubstr("Enforces     yes\n"));
  EXPECT_THAT(text, HasSubstr("Also         aws-vpc-cni 1.18.5-eksbuild.1 in kube-system\n"));
  EXPECT_THAT(text, HasSubstr("  - configmap kube-system/cilium-config cni-chaining-mode=aws-cni"));
}

} // namespace
} // namespace netpol::test
