// The real API server, with Cilium's CRDs (schemas/cilium/) installed, judges every file of
// tests/data/cilium-policies as netpol's offline validation does: accepted or rejected, and
// rejected about the same field.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "policy/loader.hpp"
#include "policy/validate.hpp"
#include "support/paths.hpp"
#include "support/test_cluster.hpp"
#include "util/yaml.hpp"

namespace netpol::test {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

// Installs the CRDs unless another test did, and waits until discovery serves them.
void install_cilium_crds(const TestCluster& cluster) {
  auto api = cluster.admin();
  for (const char* name : {"ciliumnetworkpolicies", "ciliumclusterwidenetworkpolicies"}) {
    auto docs =
        load_yaml_file((source_dir() / "schemas/cilium" / (std::string(name) + ".yaml")).string(),
                       ErrorCode::internal);
    ASSERT_TRUE(docs && !docs->empty());
    auto created = api->create(docs->front().value);
    if (!created) {
      ASSERT_EQ(created.error().http_status, 409) << created.error().message;
    }
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    auto fresh = cluster.admin(); // discovery answers are cached per client
    auto a = fresh->resolve("cilium.io/v2", "CiliumNetworkPolicy");
    auto b = fresh->resolve("cilium.io/v2", "CiliumClusterwideNetworkPolicy");
    if (a && *a && b && *b) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  FAIL() << "the Cilium CRDs were not served within 60 s";
}

TEST(CiliumValidation, TheServerAgreesWithOfflineValidation) {
  NETPOL_REQUIRE_TEST_CLUSTER(cluster);
  install_cilium_crds(*cluster);
  auto api = cluster->admin();
  const auto ns = cluster->create_namespace("cnp");
  kube::ApplyOptions dry_run;
  dry_run.field_manager = "netpol-test";
  dry_run.dry_run = true;
  int checked = 0;
  for (const char* kind : {"valid", "invalid"}) {
    for (const auto& entry : fs::directory_iterator(testdata("cilium-policies") / kind)) {
      SCOPED_TRACE(entry.path().string());
      auto loaded = policy::load_policies({entry.path().string()}, {});
      ASSERT_EQ(loaded.policies.size(), 1u);
      const auto& object = loaded.policies[0];
      const auto ours = policy::validate(object);
      auto sent = object.value;
      if (object.kind == policy::PolicyKind::cilium_network_policy)
        sent["metadata"]["namespace"] = ns;
      auto server = api->apply(sent, dry_run);
      EXPECT_EQ(server.has_value(), ours.ok())
          << (server ? "server accepted" : "server: " + server.error().message)
          << (ours.ok() ? "; netpol accepted" : "; netpol: " + ours.errors[0].text());
      if (!server && !ours.ok()) {
        // The server names CRD fields without list indices: spec.ingress.fromEntities.
        const std::string field =
            std::regex_replace(ours.errors[0].field, std::regex(R"(\[\d+\])"), "");
        EXPECT_THAT(server.error().message, HasSubstr(field));
      }
      ++checked;
    }
  }
  EXPECT_EQ(checked, 12);
}

} // namespace
} // namespace netpol::test
