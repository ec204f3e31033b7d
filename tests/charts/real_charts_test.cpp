// netpol's Helm values for every platform it supports, rendered by the real Cilium charts
// 1.18.12, 1.19.6 and 1.20.0 (`helm template`, helm 3 as in the image, and helm 4): each
// chart's values.schema.json accepts them, the rendered cilium-config carries the keys netpol
// relies on (audit mode, the Hubble export to stdout with the DROPPED/AUDIT allowlist, the
// platform's datapath), and `detect` run on the rendered objects finds that Cilium.
#include <filesystem>
#include <map>

#include <fmt/format.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include "cilium/chart_archive.hpp"
#include "cilium/defaults.hpp"
#include "cilium/values.hpp"
#include "cilium/wait.hpp"
#include "detect/detect.hpp"
#include "support/fake_kube_api.hpp"
#include "support/real_charts.hpp"
#include "support/run_cli.hpp"
#include "unit/detect/scenario.hpp"

namespace netpol::test {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

// One platform netpol installs on: what detection would hand the decision, what the user
// asks for, and the cilium-config datapath keys the chart must render from netpol's values.
struct PlatformCase {
  std::string name;
  cilium::Platform platform;
  cilium::Request request;
  std::map<std::string, std::string> config; // cilium-config key -> value
  std::vector<std::string> absent;           // cilium-config keys that must not be there
  bool audit_mode = true;
};

cilium::Platform platform(const std::string& flavor, const std::string& provider = "none") {
  cilium::Platform p;
  p.flavor = flavor;
  p.provider = {provider, provider != "none" && provider != "aws-vpc-cni"};
  return p;
}

// The release an operator set up by hand, as the upgrade test on the API server has it.
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
    "policyAuditMode": false
  })");
}

std::vector<PlatformCase> platform_cases() {
  std::vector<PlatformCase> cases;
  const std::map<std::string, std::string> tunnel = {{"routing-mode", "tunnel"},
                                                     {"tunnel-protocol", "vxlan"}};
  {
    PlatformCase c{"gke", platform("gke"), {}, {}, {}};
    c.request.native_routing_cidr = "10.84.0.0/14";
    c.config = {{"routing-mode", "native"},
                {"ipv4-native-routing-cidr", "10.84.0.0/14"},
                {"ipam", "kubernetes"},
                {"enable-endpoint-routes", "true"}};
    cases.push_back(c);
  }
  {
    PlatformCase c{"eks-chaining", platform("eks", "aws-vpc-cni"), {}, {}, {}};
    c.config = {{"cni-chaining-mode", "aws-cni"},
                {"routing-mode", "native"},
                {"enable-ipv4-masquerade", "false"},
                {"enable-endpoint-routes", "true"}};
    cases.push_back(c);
  }
  {
    PlatformCase c{"eks-eni", platform("eks"), {}, {}, {}};
    c.request.eks_mode = cilium::EksMode::eni;
    c.config = {{"ipam", "eni"}, {"routing-mode", "native"}, {"enable-endpoint-routes", "true"}};
    c.absent = {"cni-chaining-mode"};
    cases.push_back(c);
  }
  {
    PlatformCase c{"aks-byocni", platform("aks"), {}, tunnel, {}};
    cases.push_back(c);
  }
  for (const char* flavor : {"kind", "minikube", "k3s"}) {
    PlatformCase c{flavor, platform(flavor), {}, tunnel, {}};
    c.config["ipam"] = "kubernetes";
    cases.push_back(c);
  }
  {
    // Refused by default (OpenShift takes Cilium through its OLM operator); with --force
    // netpol's values still have to render.
    PlatformCase c{"openshift-forced", platform("openshift"), {}, tunnel, {}};
    c.request.force = true;
    cases.push_back(c);
  }
  {
    PlatformCase c{"generic", platform("generic"), {}, tunnel, {}};
    c.config["ipam"] = "cluster-pool";
    c.absent = {"cni-chaining-mode"};
    cases.push_back(c);
  }
  {
    // An upgrade of the operator's release: every datapath setting survives.
    PlatformCase c{"generic-upgrade", platform("generic", "cilium"), {}, {}, {}};
    c.platform.cilium_release = true;
    c.platform.release_values = operator_values();
    c.config = {{"routing-mode", "native"},
                {"ipv4-native-routing-cidr", "10.244.0.0/16"},
                {"ipam", "cluster-pool"},
                {"kube-proxy-replacement", "true"},
                {"enable-bandwidth-manager", "true"},
                {"auto-direct-node-routes", "true"}};
    c.audit_mode = false;
    cases.push_back(c);
  }
  return cases;
}

// valijson over a chart's values.schema.json (draft-07, as helm applies it).
class ChartSchema {
public:
  explicit ChartSchema(const json& schema) : m_schema_json(schema) {
    valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
    valijson::adapters::NlohmannJsonAdapter adapter(m_schema_json);
    parser.populateSchema(adapter, m_schema);
  }
  // Empty when `values` is valid; else the first errors, one per line.
  std::string errors(const json& values) const {
    valijson::Validator validator;
    valijson::ValidationResults results;
    valijson::adapters::NlohmannJsonAdapter target(values);
    if (validator.validate(m_schema, target, &results)) return {};
    std::string out;
    valijson::ValidationResults::Error e;
    for (int i = 0; i < 5 && results.popError(e); ++i) {
      std::string where;
      for (const auto& c : e.context)
        where += c;
      out += where + ": " + e.description + "\n";
    }
    return out;
  }

private:
  json m_schema_json;
  valijson::Schema m_schema;
};

const ChartSchema& schema_of(const RealChart& chart) {
  static std::map<std::string, std::unique_ptr<ChartSchema>> cache;
  auto& entry = cache[chart.version];
  if (!entry) {
    auto text = cilium::read_chart_file(chart.path.string(), "values.schema.json");
    EXPECT_TRUE(text) << text.error().message;
    entry = std::make_unique<ChartSchema>(text ? json::parse(*text) : json::object());
  }
  return *entry;
}

std::string cm_value(const json& cm, const std::string& key) {
  if (!cm.contains("data") || !cm["data"].contains(key)) return "<absent>";
  const auto& v = cm["data"][key];
  return v.is_string() ? v.get<std::string>() : v.dump();
}

struct Rendered {
  std::vector<json> objects;
  json config_map;
};

class RealCharts : public ::testing::TestWithParam<std::tuple<size_t, size_t>> {
protected:
  void SetUp() override {
    const auto charts = pinned_charts();
    ASSERT_EQ(charts.size(), 3u) << "charts/cilium-charts.sha256 pins 1.18, 1.19 and 1.20";
    m_chart = charts[std::get<0>(GetParam())];
    m_case = platform_cases()[std::get<1>(GetParam())];
    NETPOL_REQUIRE_TOOL(check_chart(m_chart));
    std::string why;
    auto helm = real_helm(3, &why);
    NETPOL_REQUIRE_TOOL(helm ? std::string() : why);
    m_helm = *helm;
    m_case.platform.chart_version = m_chart.version;
  }

  cilium::Decision decide() {
    auto d = cilium::decide_values(m_case.platform, m_case.request);
    EXPECT_TRUE(d) << d.error().message;
    return d ? *d : cilium::Decision{};
  }

  // Each (helm, chart, platform) is rendered once for all the tests that read it.
  Rendered render(const std::string& helm, const json& values) {
    static std::map<std::string, Rendered> cache;
    const auto key = helm + "\n" + m_chart.file + "\n" + values.dump();
    if (auto it = cache.find(key); it != cache.end()) return it->second;
    Rendered r = render_once(helm, values);
    if (!r.config_map.is_null()) cache[key] = r;
    return r;
  }
  Rendered render_once(const std::string& helm, const json& values) {
    std::string error;
    auto objects = helm_template(helm, m_chart.path, values, "kube-system", &error);
    EXPECT_TRUE(objects) << "helm template " << m_chart.file << ": " << error;
    Rendered r;
    if (!objects) return r;
    r.objects = std::move(*objects);
    r.config_map = find_object(r.objects, "ConfigMap", "cilium-config");
    EXPECT_FALSE(r.config_map.is_null()) << "no ConfigMap cilium-config";
    return r;
  }

  RealChart m_chart;
  PlatformCase m_case;
  std::string m_helm;
};

TEST_P(RealCharts, SchemaAcceptsNetpolsValues) {
  const auto d = decide();
  EXPECT_EQ(schema_of(m_chart).errors(d.values), "")
      << m_case.name << " values rejected by " << m_chart.file << " values.schema.json:\n"
      << d.values.dump(2);
}

TEST_P(RealCharts, RendersTheConfigNetpolReliesOn) {
  const auto d = decide();
  const auto r = render(m_helm, d.values);
  const json& cm = r.config_map;
  ASSERT_FALSE(cm.is_null());
  EXPECT_EQ(cm_value(cm, "policy-audit-mode"), m_case.audit_mode ? "true" : "false");
  EXPECT_EQ(cm_value(cm, "enable-hubble"), "true");
  EXPECT_EQ(cm_value(cm, "hubble-export-file-path"), "stdout");
  EXPECT_EQ(cm_value(cm, "hubble-export-allowlist"), cilium::defaults::k_export_allowlist);
  // 1.19 brought flow aggregation to the exporter (cilium/cilium#42011).
  const bool aggregation = m_chart.version.rfind("1.18.", 0) != 0;
  EXPECT_EQ(cm_value(cm, "hubble-export-aggregation-interval") != "<absent>", aggregation);
  EXPECT_EQ(cm_value(cm, "hubble-export-fieldaggregate") != "<absent>", aggregation);
  for (const auto& [key, value] : m_case.config) {
    EXPECT_EQ(cm_value(cm, key), value) << key;
  }
  for (const auto& key : m_case.absent) {
    EXPECT_EQ(cm_value(cm, key), "<absent>") << key;
  }

  // The agent DaemonSet as detection and the wait read it.
  const json ds = find_object(r.objects, "DaemonSet", cilium::defaults::k_agent_daemonset);
  ASSERT_FALSE(ds.is_null());
  EXPECT_EQ(ds["metadata"]["labels"].value("k8s-app", ""), "cilium");
  const auto& pod = ds["spec"]["template"];
  bool agent = false;
  for (const auto& c : pod["spec"]["containers"]) {
    if (c.value("name", "") == cilium::defaults::k_agent_container) {
      agent = true;
      EXPECT_THAT(c.value("image", ""), HasSubstr(":v" + m_chart.version));
    }
  }
  EXPECT_TRUE(agent) << "no container cilium-agent";
  // rollOutCiliumPods: the agents restart exactly when cilium-config changes.
  EXPECT_TRUE(pod["metadata"].contains("annotations") &&
              pod["metadata"]["annotations"].contains("cilium.io/cilium-configmap-checksum"));
  EXPECT_FALSE(
      find_object(r.objects, "Deployment", cilium::defaults::k_operator_deployment).is_null());
}

// `detect` on the objects the chart renders, served by a fake API: Cilium, its version, the
// audit mode and the export.
TEST_P(RealCharts, DetectionFindsTheRenderedCilium) {
  const auto d = decide();
  const auto r = render(m_helm, d.values);
  ASSERT_FALSE(r.objects.empty());
  DetectScenario s;
  s.name = m_case.name;
  s.version = json::parse(R"({"major": "1", "minor": "30", "gitVersion": "v1.30.4"})");
  for (auto o : r.objects) {
    if (!o.contains("metadata") || !o["metadata"].is_object()) continue;
    s.objects.push_back(std::move(o));
  }
  FakeKubeApi api(s);
  auto detection = detect::detect(api, {});
  ASSERT_TRUE(detection) << detection.error().message;
  EXPECT_EQ(detection->provider.name, detect::ProviderName::cilium);
  EXPECT_EQ(detection->provider.version, m_chart.version);
  EXPECT_EQ(detection->provider.namespace_name, "kube-system");
  EXPECT_EQ(detection->provider.audit_mode, m_case.audit_mode);
  EXPECT_EQ(detection->provider.drop_log_source, detect::DropLogSource::hubble_export_stdout);
}

// helm 4 renders netpol's values into the same cilium-config as helm 3.
TEST_P(RealCharts, Helm4RendersTheSameConfig) {
  std::string why;
  auto helm4 = real_helm(4, &why);
  NETPOL_REQUIRE_TOOL(helm4 ? std::string() : why);
  const auto d = decide();
  const auto three = render(m_helm, d.values);
  const auto four = render(*helm4, d.values);
  ASSERT_FALSE(three.config_map.is_null());
  ASSERT_FALSE(four.config_map.is_null());
  EXPECT_EQ(three.config_map["data"], four.config_map["data"]);
}

std::string case_name(const ::testing::TestParamInfo<std::tuple<size_t, size_t>>& info) {
  const auto charts = pinned_charts();
  const auto idx = std::get<0>(info.param);
  std::string chart = idx < charts.size() ? charts[idx].version : std::to_string(idx);
  std::string name = "cilium_" + chart + "_" + platform_cases()[std::get<1>(info.param)].name;
  for (auto& c : name)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return name;
}

INSTANTIATE_TEST_SUITE_P(AllPlatforms, RealCharts,
                         ::testing::Combine(::testing::Range<size_t>(0, 3),
                                            ::testing::Range<size_t>(0, platform_cases().size())),
                         case_name);

// The schema checks are real: a value of the wrong type is refused by the schema and by helm.
class RealChartSchemas : public ::testing::TestWithParam<size_t> {};

TEST_P(RealChartSchemas, WrongTypeIsRejectedByTheSchemaAndByHelm) {
  const auto chart = pinned_charts().at(GetParam());
  NETPOL_REQUIRE_TOOL(check_chart(chart));
  std::string why;
  auto helm = real_helm(3, &why);
  NETPOL_REQUIRE_TOOL(helm ? std::string() : why);
  const json bad = {{"rollOutCiliumPods", "yes"}};
  EXPECT_THAT(schema_of(chart).errors(bad), HasSubstr("rollOutCiliumPods"));
  std::string error;
  EXPECT_FALSE(helm_template(*helm, chart.path, bad, "kube-system", &error));
  EXPECT_THAT(error, HasSubstr("values don't meet the specifications of the schema"));
  // policyAuditMode is not in any of the three schemas (values.yaml has it commented out):
  // the chart quotes whatever it is given, so netpol always gives a boolean.
  EXPECT_FALSE(
      json::parse(*cilium::read_chart_file(chart.path.string(), "values.schema.json"))["properties"]
          .contains("policyAuditMode"));
}

std::string chart_name(const ::testing::TestParamInfo<size_t>& param) {
  std::string v = pinned_charts().at(param.param).version;
  for (auto& c : v)
    if (c == '.') c = '_';
  return "cilium_" + v;
}

INSTANTIATE_TEST_SUITE_P(Pinned, RealChartSchemas, ::testing::Range<size_t>(0, 3), chart_name);

// --export-forwarded rendered by each real chart: FORWARDED joins the allowlist; on 1.19 and
// 1.20 the aggregation keys, the field mask and a non-zero interval reach cilium-config (the
// interval only through hubble.export.aggregationInterval), and the agents still pass the
// check of cilium-config netpol runs after the install.
class RealChartsExportForwarded : public ::testing::TestWithParam<size_t> {};

TEST_P(RealChartsExportForwarded, RendersTheFilterAndOnNewerChartsTheAggregation) {
  const auto chart = pinned_charts().at(GetParam());
  NETPOL_REQUIRE_TOOL(check_chart(chart));
  std::string why;
  auto helm = real_helm(3, &why);
  NETPOL_REQUIRE_TOOL(helm ? std::string() : why);
  cilium::Platform p = platform("generic");
  p.chart_version = chart.version;
  cilium::Request r;
  r.export_forwarded = true;
  const auto d = cilium::decide_values(p, r);
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(schema_of(chart).errors(d->values), "") << d->values.dump(2);
  std::string error;
  const auto objects = helm_template(*helm, chart.path, d->values, "kube-system", &error);
  ASSERT_TRUE(objects) << error;
  const json cm = find_object(*objects, "ConfigMap", "cilium-config");
  ASSERT_FALSE(cm.is_null());
  EXPECT_EQ(cm_value(cm, "hubble-export-allowlist"),
            std::string(cilium::defaults::k_export_allowlist) + " " +
                cilium::defaults::k_export_forwarded_filter);
  std::string fields;
  for (const char* f : cilium::defaults::k_export_aggregate_fields)
    fields += (fields.empty() ? "" : " ") + std::string(f);
  if (chart.version.rfind("1.18.", 0) == 0) {
    EXPECT_EQ(cm_value(cm, "hubble-export-fieldmask"), "");
    EXPECT_EQ(cm_value(cm, "hubble-export-fieldaggregate"), "<absent>");
    EXPECT_EQ(cm_value(cm, "hubble-export-aggregation-interval"), "<absent>");
  } else {
    EXPECT_EQ(cm_value(cm, "hubble-export-fieldaggregate"), fields);
    EXPECT_EQ(cm_value(cm, "hubble-export-fieldmask"), "time " + fields);
    EXPECT_EQ(cm_value(cm, "hubble-export-aggregation-interval"),
              cilium::defaults::k_export_aggregation_interval);
  }
  // The drop log still reads this export, and the check after the install passes.
  DetectScenario scenario;
  scenario.name = "export-forwarded";
  scenario.version = json::parse(R"({"major": "1", "minor": "30", "gitVersion": "v1.30.4"})");
  for (auto o : *objects) {
    if (!o.contains("metadata") || !o["metadata"].is_object()) continue;
    scenario.objects.push_back(std::move(o));
  }
  FakeKubeApi api(scenario);
  auto detection = detect::detect(api, {});
  ASSERT_TRUE(detection) << detection.error().message;
  EXPECT_EQ(detection->provider.drop_log_source, detect::DropLogSource::hubble_export_stdout);
  auto verified = cilium::verify_config(api, "kube-system", d->values);
  EXPECT_TRUE(verified) << verified.error().message;

  // Without the option nothing of it is rendered.
  const auto off = cilium::decide_values(p, {});
  ASSERT_TRUE(off);
  const auto plain = helm_template(*helm, chart.path, off->values, "kube-system", &error);
  ASSERT_TRUE(plain) << error;
  const json plain_cm = find_object(*plain, "ConfigMap", "cilium-config");
  EXPECT_EQ(cm_value(plain_cm, "hubble-export-allowlist"), cilium::defaults::k_export_allowlist);
  EXPECT_EQ(cm_value(plain_cm, "hubble-export-fieldmask"), "");
}

INSTANTIATE_TEST_SUITE_P(Pinned, RealChartsExportForwarded, ::testing::Range<size_t>(0, 3),
                         chart_name);

// The image's default chart is the newest pinned one, and resolve_chart reads it as helm does.
TEST(RealChartArchive, NewestPinnedChartIsTheDefaultAndReadsWithoutHelm) {
  const auto charts = pinned_charts();
  ASSERT_FALSE(charts.empty());
  const auto& newest = charts.back();
  EXPECT_EQ(newest.version, cilium::defaults::k_chart_version);
  NETPOL_REQUIRE_TOOL(check_chart(newest));
  auto text = cilium::read_chart_yaml(newest.path.string());
  ASSERT_TRUE(text) << text.error().message;
  EXPECT_THAT(*text, HasSubstr("version: " + newest.version));
  auto digest = cilium::sha256_file(newest.path.string());
  ASSERT_TRUE(digest);
  EXPECT_EQ(*digest, newest.sha256);
}

// What the image says it carries: the chart's version and the digest Cilium publishes.
TEST(RealChartArchive, VersionNamesTheChartAndItsDigest) {
  const auto newest = pinned_charts().back();
  NETPOL_REQUIRE_TOOL(check_chart(newest));
  MapEnvironment env({{"NETPOL_CILIUM_CHART", newest.path.string()}});
  auto r = run_cli({"version"}, env);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr(fmt::format("cilium chart {} ({}, sha256 {})\n", newest.version,
                                           newest.path.string(), newest.sha256)));
  auto j = run_cli({"--format", "json", "version"}, env);
  ASSERT_EQ(j.exit_code, 0) << j.err;
  const auto info = json::parse(j.out)["cilium_chart"];
  EXPECT_EQ(info["version"], newest.version);
  EXPECT_EQ(info["sha256"], newest.sha256);
  EXPECT_EQ(info["test_build"], false);
}

} // namespace
} // namespace netpol::test
