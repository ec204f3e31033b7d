// Faults between netpol and the real kube-apiserver (tests/support/fault_proxy): throttling
// and server errors with Retry-After on each kind of request, a lost answer to a DELETE, a
// dropped connection, a server that never answers, a job cancelled (SIGTERM, SIGINT) in the
// dry run, in the writes and in `run`, an object the server refuses. For each: the exit code,
// how long it took, the reports written and what the cluster holds afterwards.
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>

#include "detect/detection.hpp"
#include "support/child_process.hpp"
#include "support/fault_proxy.hpp"
#include "support/https_server.hpp"
#include "support/paths.hpp"
#include "support/real_charts.hpp"
#include "support/run_cli.hpp"
#include "support/run_reports.hpp"
#include "support/temp_dir.hpp"
#include "support/test_cluster.hpp"

namespace netpol::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;
using Clock = std::chrono::steady_clock;
using Fault = FaultProxy::Fault;

const char* const k_policies = "/apis/networking.k8s.io/v1/namespaces/[^/]+/networkpolicies.*";
const char* const k_policy_list = "/apis/networking.k8s.io/v1/namespaces/[^/]+/networkpolicies";
// A query without dryRun: the real writes, not the server-side dry run before them.
const char* const k_not_dry_run = "(?!.*dryRun).*";

std::string policy(const std::string& name, int port) {
  return fmt::format(
      "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
      "metadata: {{name: {0}}}\nspec:\n  podSelector: {{matchLabels: {{app: {0}}}}}\n"
      "  ingress:\n  - ports: [{{port: {1}}}]\n",
      name, port);
}

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// The answers the proxy gave to requests of `method` whose path matches `path` and whose query
// matches `query`, in order ("429 (injected)", "200").
std::vector<std::string> answers(const FaultProxy& proxy, const std::string& method,
                                 const std::string& path, const std::string& query = ".*") {
  const std::regex path_re(path), query_re(query);
  std::vector<std::string> out;
  for (const auto& line : proxy.log()) {
    const auto space = line.find(' ');
    const auto arrow = line.find(" -> ");
    if (line.substr(0, space) != method || arrow == std::string::npos) continue;
    const auto target = line.substr(space + 1, arrow - space - 1);
    const auto mark = target.find('?');
    const auto q = mark == std::string::npos ? std::string() : target.substr(mark + 1);
    if (!std::regex_match(target.substr(0, mark), path_re) || !std::regex_match(q, query_re))
      continue;
    const auto answer = line.substr(arrow + 4);
    if (answer.rfind("delaying", 0) != 0) out.push_back(answer);
  }
  return out;
}

// Waits until the proxy's log has a line starting with `prefix` and containing `part` (a
// request netpol sent has reached it), while `child` runs; at most 30 s.
::testing::AssertionResult reached(const FaultProxy& proxy, ChildProcess& child,
                                   const std::string& prefix, const std::string& part = "") {
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  while (Clock::now() < deadline) {
    for (const auto& line : proxy.log()) {
      if (line.rfind(prefix, 0) == 0 && line.find(part) != std::string::npos)
        return ::testing::AssertionSuccess();
    }
    if (auto done = child.wait(std::chrono::milliseconds(50)))
      return ::testing::AssertionFailure() << "ended (" << *done << ") first: " << child.err();
  }
  return ::testing::AssertionFailure() << "no request " << prefix << "… " << part << " in 30 s";
}

// A namespace with policies web and db applied directly; then db leaves the repository and
// web changes, so the next apply (through the proxy) updates web and prunes db.
class Faults : public ::testing::Test {
protected:
  void SetUp() override {
    m_cluster = TestCluster::find();
    if (m_cluster == nullptr)
      NETPOL_SKIP_OR_FAIL("NETPOL_TEST_CLUSTER_DIR is not set (run through ctest)");
    m_ns = m_cluster->create_namespace("faults");
    m_api = m_cluster->admin();
    detect::Detection d;
    d.provider.name = detect::ProviderName::cilium;
    d.provider.enforces_network_policy = true;
    std::ofstream(m_dir.file("provider.json")) << d.to_json().dump();
    m_dir.write("policies/web.yaml", policy("web", 80));
    m_dir.write("policies/db.yaml", policy("db", 5432));
    auto first = apply(m_cluster->kubeconfig);
    ASSERT_EQ(first.exit_code, 0) << first.err;
    fs::remove_all(m_dir.path() / "out"); // each test reads only what its own command wrote
    fs::remove(m_dir.path() / "policies/db.yaml");
    m_dir.write("policies/web.yaml", policy("web", 8080));
    m_versions = versions();
  }

  std::vector<std::string> apply_args(const std::string& kubeconfig,
                                      std::vector<std::string> extra = {}) const {
    std::vector<std::string> args = {"--kubeconfig",
                                     kubeconfig,
                                     "-n",
                                     m_ns,
                                     "--output-dir",
                                     m_dir.file("out"),
                                     "apply",
                                     "--mode",
                                     "enforce",
                                     "--policies",
                                     m_dir.file("policies"),
                                     "--provider-file",
                                     m_dir.file("provider.json")};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }
  CliResult apply(const std::string& kubeconfig, std::vector<std::string> extra = {}) const {
    return run_cli(apply_args(kubeconfig, std::move(extra)), env());
  }
  static MapEnvironment env() {
    return MapEnvironment{{"CI_PROJECT_ID", "7"}, {"CI_ENVIRONMENT_SLUG", "faults"}};
  }
  std::string proxy_kubeconfig(const FaultProxy& proxy) const {
    return proxy.write_kubeconfig(m_dir.file("proxy.kubeconfig"), m_cluster->admin_token, m_ns);
  }
  std::map<std::string, std::string> versions() const {
    std::map<std::string, std::string> out;
    auto items = m_api->list(kube::resources::network_policies, m_ns);
    EXPECT_TRUE(items.has_value());
    if (items) {
      for (const auto& i : *items)
        out[i["metadata"]["name"]] = i["metadata"]["resourceVersion"];
    }
    return out;
  }
  int web_port() const {
    auto web = m_api->get(kube::resources::network_policies, m_ns, "web");
    EXPECT_TRUE(web.has_value());
    return web ? (*web)["spec"]["ingress"][0]["ports"][0]["port"].get<int>() : -1;
  }
  // The apply as the binary (to signal), with the test's project and environment.
  std::unique_ptr<ChildProcess> start_apply(const FaultProxy& proxy) const {
    auto args = apply_args(proxy_kubeconfig(proxy));
    args.insert(args.begin(), NETPOL_BINARY);
    return std::make_unique<ChildProcess>(
        args,
        std::map<std::string, std::string>{{"CI_PROJECT_ID", "7"},
                                           {"CI_ENVIRONMENT_SLUG", "faults"}},
        m_dir.path().string());
  }
  std::string report(const std::string& name) const { return m_dir.read("out/" + name); }
  void cancel_during_the_dry_run(int signal) const;
  std::vector<std::string> leftovers(const std::string& dir = "out") const {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(m_dir.path() / dir))
      if (e.path().filename().string().find(".tmp-") != std::string::npos)
        out.push_back(e.path().filename());
    return out;
  }

  const TestCluster* m_cluster = nullptr;
  std::string m_ns;
  std::unique_ptr<kube::KubeApi> m_api;
  TempDir m_dir;
  std::map<std::string, std::string> m_versions;
};

// A job cancelled while the server-side dry run is in flight: `signal` (SIGTERM from GitLab,
// SIGINT from a terminal) ends it with 128 + the signal within 5 s, every report written with
// the cancellation, nothing written to the cluster.
void Faults::cancel_during_the_dry_run(int signal) const {
  FaultProxy proxy(*m_cluster);
  // Every PATCH waits 4 s: the job is cancelled while the dry run is in flight.
  proxy.add({.method = "PATCH",
             .path = k_policies,
             .fault = Fault::delay,
             .times = -1,
             .delay = std::chrono::seconds(4)});
  proxy.start();
  auto child = start_apply(proxy);
  ASSERT_TRUE(reached(proxy, *child, "PATCH "));
  const auto signalled = Clock::now();
  child->signal(signal);
  const auto code = child->wait(std::chrono::seconds(10));
  const double took = seconds_since(signalled);
  const std::string name = signal == SIGINT ? "SIGINT" : "SIGTERM";
  ASSERT_TRUE(code.has_value()) << "still running 10 s after " << name;
  EXPECT_EQ(*code, 128 + signal) << child->err();
  EXPECT_LT(took, 5.0);
  EXPECT_THAT(child->err(), HasSubstr("cancelled (" + name + ")"));
  const auto junit = report("junit-apply.xml");
  EXPECT_THAT(junit, HasSubstr("name=\"cancelled\""));
  EXPECT_THAT(junit, HasSubstr("cancelled (" + name + ")"));
  EXPECT_THAT(junit, HasSubstr("<failure message=\"PATCH "));
  EXPECT_THAT(report("plan.txt"), HasSubstr("prune"));
  EXPECT_THAT(leftovers(), ::testing::IsEmpty());
  proxy.stop(); // the dry runs in flight end
  EXPECT_EQ(versions().count("db"), 1U) << "nothing pruned after a cancel";
  EXPECT_EQ(web_port(), 80) << "the dry run was in flight: no real write had started";
  EXPECT_EQ(answers(proxy, "PATCH", k_policies, k_not_dry_run).size(), 0U);
}

// Retry-After as an HTTP date (RFC 9110), as some proxies send it, on a DELETE.
TEST_F(Faults, ARetryAfterDateIsWaitedFor) {
  FaultProxy proxy(*m_cluster);
  // Two seconds ahead, so at least one second is left when netpol reads it.
  const auto when = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now()) + 2;
  char date[64];
  std::tm tm{};
  gmtime_r(&when, &tm);
  std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  proxy.add({.method = "DELETE",
             .path = k_policies,
             .fault = Fault::status,
             .status = 503,
             .headers = {{"Retry-After", date}}});
  proxy.start();
  const auto started = Clock::now();
  auto r = apply(proxy_kubeconfig(proxy));
  const double took = seconds_since(started);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("1 applied, 0 unchanged, 1 pruned"));
  EXPECT_EQ(versions().count("db"), 0U);
  EXPECT_THAT(answers(proxy, "DELETE", k_policies),
              ::testing::ElementsAre("503 (injected)", "200"));
  EXPECT_GE(took, 1.0) << "the date was waited for";
  EXPECT_LT(took, 15.0);
  EXPECT_THAT(report("junit-apply.xml"), Not(HasSubstr("<failure")));
}

// 429 and 503 (with Retry-After: 1) once on each kind of request an apply sends: the list of
// what is live, a real server-side apply (idempotent, so a 5xx is retried too) and the
// prune's DELETE. Each is sent again after a second and the apply ends as if nothing happened.
struct RetryCase {
  int status;
  const char* method;
  const char* path;
  const char* query;
  const char* name;
};

void PrintTo(const RetryCase& c, std::ostream* out) {
  *out << c.status << " on " << c.method << " " << c.path;
}

class FaultsRetried : public Faults, public ::testing::WithParamInterface<RetryCase> {};

TEST_P(FaultsRetried, OnceAndTheApplyEndsAsIfNothingHappened) {
  const auto& c = GetParam();
  FaultProxy proxy(*m_cluster);
  proxy.add({.method = c.method,
             .path = c.path,
             .query = c.query,
             .fault = Fault::status,
             .status = c.status,
             .headers = {{"Retry-After", "1"}}});
  proxy.start();
  const auto started = Clock::now();
  auto r = apply(proxy_kubeconfig(proxy));
  const double took = seconds_since(started);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("1 applied, 0 unchanged, 1 pruned"));
  EXPECT_EQ(web_port(), 8080);
  EXPECT_EQ(versions().count("db"), 0U);
  EXPECT_THAT(answers(proxy, c.method, c.path, c.query),
              ::testing::ElementsAre(fmt::format("{} (injected)", c.status), "200"));
  EXPECT_GE(took, 1.0) << "Retry-After was waited for";
  EXPECT_LT(took, 15.0);
  EXPECT_THAT(report("junit-apply.xml"), Not(HasSubstr("<failure")));
}

INSTANTIATE_TEST_SUITE_P(
    Faults, FaultsRetried,
    ::testing::Values(RetryCase{429, "PATCH", k_policies, k_not_dry_run, "Status429OnPatch"},
                      RetryCase{503, "PATCH", k_policies, k_not_dry_run, "Status503OnPatch"},
                      RetryCase{429, "GET", k_policy_list, ".*", "Status429OnList"},
                      RetryCase{503, "GET", k_policy_list, ".*", "Status503OnList"},
                      RetryCase{429, "DELETE", k_policies, ".*", "Status429OnDelete"},
                      RetryCase{503, "DELETE", k_policies, ".*", "Status503OnDelete"}),
    [](const ::testing::TestParamInfo<RetryCase>& param) { return std::string(param.param.name); });

// The server deleted the object, but its answer was lost (a 503 from a proxy on the way back):
// the DELETE is sent again, the server answers 404, and that counts as deleted — for the
// prune of an apply and for remove.
TEST_F(Faults, ALostAnswerToAPruneIsRetriedAndItsNotFoundCountsAsDeleted) {
  FaultProxy proxy(*m_cluster);
  proxy.add({.method = "DELETE",
             .path = k_policies,
             .fault = Fault::lose,
             .status = 503,
             .headers = {{"Retry-After", "1"}}});
  proxy.start();
  const auto started = Clock::now();
  auto r = apply(proxy_kubeconfig(proxy));
  const double took = seconds_since(started);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("1 applied, 0 unchanged, 1 pruned"));
  EXPECT_THAT(answers(proxy, "DELETE", k_policies),
              ::testing::ElementsAre("503 (injected; the server answered 200)", "404"));
  EXPECT_EQ(versions().count("db"), 0U);
  EXPECT_LT(took, 15.0);
  const auto junit = report("junit-apply.xml");
  EXPECT_THAT(junit, Not(HasSubstr("<failure")));
  EXPECT_THAT(junit, HasSubstr("name=\"prune NetworkPolicy/" + m_ns + "/db\""));
}

TEST_F(Faults, ALostAnswerToARemoveIsRetriedAndItsNotFoundCountsAsDeleted) {
  FaultProxy proxy(*m_cluster);
  proxy.add({.method = "DELETE",
             .path = k_policies,
             .fault = Fault::lose,
             .status = 503,
             .headers = {{"Retry-After", "1"}}});
  proxy.start();
  const auto started = Clock::now();
  auto r = run_cli({"--kubeconfig", proxy_kubeconfig(proxy), "-n", m_ns, "--output-dir",
                    m_dir.file("out"), "remove"},
                   env());
  const double took = seconds_since(started);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("deleted NetworkPolicy/" + m_ns + "/web"));
  EXPECT_THAT(r.out, HasSubstr("deleted NetworkPolicy/" + m_ns + "/db"));
  const auto deletes = answers(proxy, "DELETE", k_policies);
  EXPECT_THAT(deletes, ::testing::Contains("503 (injected; the server answered 200)"));
  EXPECT_THAT(deletes, ::testing::Contains("404"));
  EXPECT_EQ(deletes.size(), 3U) << "two objects, one DELETE sent twice";
  EXPECT_TRUE(versions().empty());
  EXPECT_LT(took, 15.0);
  EXPECT_THAT(report("junit-remove.xml"), Not(HasSubstr("<failure")));
  EXPECT_THAT(report("metrics.txt"), HasSubstr("netpol_policies_removed 2"));
}

// The round trips of an apply, counted where every request takes 100 ms, so requests sent
// together overlap whatever the scheduling: a change that adds one fails here. (Requests of
// two steps may overlap too — the permission checks still in flight when the analysis starts
// — which makes one fewer: the bounds are upper ones.)
TEST_F(Faults, AnApplyTakesFiveRoundTripsAndAnUnchangedOneTakesOne) {
  FaultProxy proxy(*m_cluster);
  proxy.add({.method = "",
             .path = ".*",
             .fault = Fault::delay,
             .times = -1,
             .delay = std::chrono::milliseconds(100)});
  proxy.start();
  auto round_trips = [](const std::string& err) {
    const std::regex line("traffic: (\\d+) request\\(s\\) in (\\d+) round trip\\(s\\)");
    std::smatch m;
    return std::regex_search(err, m, line) ? std::stoi(m[2]) : -1;
  };
  // Lists with the likely permission checks; the connectivity analysis' lists; the dry run;
  // the applies; the prune.
  auto changed = apply(proxy_kubeconfig(proxy), {"--log-level", "debug"});
  ASSERT_EQ(changed.exit_code, 0) << changed.err;
  EXPECT_THAT(changed.out, HasSubstr("1 applied, 0 unchanged, 1 pruned"));
  EXPECT_LE(round_trips(changed.err), 5) << changed.err;
  EXPECT_GE(round_trips(changed.err), 4) << changed.err;
  // Nothing to change: the lists and the permission checks, together.
  auto unchanged = apply(proxy_kubeconfig(proxy), {"--log-level", "debug"});
  ASSERT_EQ(unchanged.exit_code, 0) << unchanged.err;
  EXPECT_THAT(unchanged.out, HasSubstr("0 applied, 1 unchanged, 0 pruned"));
  EXPECT_EQ(round_trips(unchanged.err), 1) << unchanged.err; // with or without Cilium's kinds
}

TEST_F(Faults, AConnectionDroppedDuringDiscoveryIsRetried) {
  FaultProxy proxy(*m_cluster);
  proxy.add({.method = "GET", .path = "/api", .fault = Fault::reset});
  proxy.add({.method = "GET", .path = "/apis", .fault = Fault::reset});
  proxy.start();
  const auto started = Clock::now();
  auto r = run_cli(
      {"--kubeconfig", proxy_kubeconfig(proxy), "--output-dir", m_dir.file("out"), "detect"});
  const double took = seconds_since(started);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  // Backoff before each retry is at most 250 ms (no Retry-After): far below the request
  // timeout a reset that is waited out, instead of retried, would take.
  EXPECT_LT(took, 10.0);
  const auto log = proxy.log();
  EXPECT_THAT(log, ::testing::Contains("GET /apis -> reset (injected)"));
  EXPECT_THAT(log, ::testing::Contains("GET /apis -> 200"));
  EXPECT_TRUE(json::parse(report("provider.json")).contains("provider"));
}

TEST_F(Faults, AServerThatNeverAnswersEndsTheCommandWithinItsTimeout) {
  FaultProxy proxy(*m_cluster);
  proxy.add({.method = "",
             .path = "/apis/networking.k8s.io/v1/namespaces/.*",
             .fault = Fault::hang,
             .times = -1});
  proxy.start();
  const auto started = Clock::now();
  auto r = apply(proxy_kubeconfig(proxy), {"--request-timeout", "2s"});
  const double took = seconds_since(started);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_LT(took, 3 * 2.0 + 1.5) << "about three times the timeout at most, retries included";
  EXPECT_THAT(r.err, HasSubstr("netpol: error: GET " + proxy.url() +
                               "/apis/networking.k8s.io/v1/namespaces/" + m_ns +
                               "/networkpolicies: no complete answer within 2s"));
  EXPECT_THAT(report("junit-apply.xml"), HasSubstr("no complete answer within 2s"));
  EXPECT_THAT(report("plan.txt"), HasSubstr("not written: netpol apply ended before it"));
  EXPECT_EQ(versions(), m_versions) << "nothing written, nothing pruned";
}

TEST_F(Faults, TheDefaultTimeoutAppliesWithoutTheFlag) {
  FaultProxy proxy(*m_cluster);
  proxy.add({.method = "GET", .path = "/version", .fault = Fault::hang, .times = -1});
  proxy.start();
  const auto started = Clock::now();
  auto r = run_cli(
      {"--kubeconfig", proxy_kubeconfig(proxy), "--output-dir", m_dir.file("out"), "detect"});
  const double took = seconds_since(started);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr("/version: no complete answer within 30s (--request-timeout"));
  EXPECT_GE(took, 29.0);
  EXPECT_LT(took, 40.0);
  EXPECT_THAT(report("junit-detect.xml"), HasSubstr("no complete answer within 30s"));
}

TEST_F(Faults, SigtermWhileApplyingWritesTheReportsAndPrunesNothing) {
  cancel_during_the_dry_run(SIGTERM);
}

TEST_F(Faults, SigintWhileApplyingIsExit130AndWritesTheReports) {
  cancel_during_the_dry_run(SIGINT);
}

// Cancelled once the real writes are on the wire (the dry run passed): what was sent may land
// or not, each object whole (a server-side apply is one transaction), and nothing is pruned.
TEST_F(Faults, SigtermWhileTheWritesAreInFlightPrunesNothingAndLeavesNoHalfObject) {
  m_dir.write("policies/cache.yaml", policy("cache", 6379)); // a create beside web's update
  FaultProxy proxy(*m_cluster);
  // The real writes (not the dry run) wait 4 s: the job is cancelled while they are in flight.
  proxy.add({.method = "PATCH",
             .path = k_policies,
             .query = k_not_dry_run,
             .fault = Fault::delay,
             .times = -1,
             .delay = std::chrono::seconds(4)});
  proxy.start();
  auto child = start_apply(proxy);
  ASSERT_TRUE(reached(proxy, *child, "PATCH ", "-> delaying"));
  ASSERT_EQ(answers(proxy, "PATCH", k_policies, ".*dryRun.*").size(), 2U)
      << "the dry run of both objects passed before the writes";
  const auto signalled = Clock::now();
  child->signal(SIGTERM);
  const auto code = child->wait(std::chrono::seconds(10));
  const double took = seconds_since(signalled);
  ASSERT_TRUE(code.has_value()) << "still running 10 s after SIGTERM";
  EXPECT_EQ(*code, 143) << child->err();
  EXPECT_LT(took, 5.0);
  EXPECT_THAT(child->err(), HasSubstr("cancelled (SIGTERM)"));
  const auto junit = report("junit-apply.xml");
  EXPECT_THAT(junit, HasSubstr("name=\"cancelled\""));
  EXPECT_THAT(junit, HasSubstr("it may or may not have been applied"));
  EXPECT_THAT(junit, HasSubstr("name=\"prune NetworkPolicy/" + m_ns + "/db\""));
  EXPECT_THAT(junit, HasSubstr("<skipped message=\"not pruned: the run was cancelled\""));
  EXPECT_THAT(report("plan.txt"), HasSubstr("prune"));
  EXPECT_THAT(leftovers(), ::testing::IsEmpty());
  EXPECT_EQ(answers(proxy, "DELETE", k_policies).size(), 0U) << "no DELETE was sent";

  proxy.stop(); // the delayed writes reach the server now, or have already
  EXPECT_EQ(versions().count("db"), 1U) << "nothing pruned after a cancel";
  // Each object is as it was or as declared, never between: labels, annotation and spec come
  // in one server-side apply.
  auto whole = [&](const std::string& name, int port) {
    auto object = m_api->get(kube::resources::network_policies, m_ns, name);
    ASSERT_TRUE(object.has_value()) << name;
    const json labels = (*object)["metadata"].value("labels", json::object());
    const json annotations = (*object)["metadata"].value("annotations", json::object());
    EXPECT_EQ(labels.value("app.kubernetes.io/managed-by", ""), "netpol") << name;
    EXPECT_EQ(labels.value("app.gitlab.com/env", ""), "faults") << name;
    EXPECT_THAT(annotations.value("netpol.gitlab.io/source", ""), HasSubstr(name + ".yaml"))
        << name;
    EXPECT_EQ((*object)["spec"]["ingress"][0]["ports"][0]["port"], port) << name;
  };
  const int port = web_port();
  EXPECT_TRUE(port == 80 || port == 8080) << port;
  whole("web", port);
  if (versions().count("cache") != 0) whole("cache", 6379);
}

// A cancelled install-cilium stops helm — its whole process group — within the grace period
// and says where the release may be left; helm's temporary values file goes too.
TEST_F(Faults, SigtermWhileHelmRunsStopsItAndSaysWhereTheReleaseIs) {
  std::string why;
  const auto helm = real_helm(3, &why);
  NETPOL_REQUIRE_TOOL(helm ? std::string() : why);
  FaultProxy proxy(*m_cluster);
  // Every request (netpol's and helm's: they share the kubeconfig) takes 400 ms, so helm is
  // still at work when the job is cancelled.
  proxy.add({.method = "",
             .path = ".*",
             .fault = Fault::delay,
             .times = -1,
             .delay = std::chrono::milliseconds(400)});
  proxy.start();
  const std::string cilium_ns = m_ns + "-cilium";
  const auto tmp = m_dir.path() / "tmp";
  fs::create_directories(tmp);
  const std::vector<std::string> args = {
      NETPOL_BINARY,        "--kubeconfig",    proxy_kubeconfig(proxy),
      "--output-dir",       m_dir.file("out"), "install-cilium",
      "--cilium-namespace", cilium_ns,         "--force",
      "--test-cluster",     "--chart",         (source_dir() / "charts/cilium-test").string()};
  ChildProcess child(args, {{"NETPOL_HELM", *helm}, {"NO_COLOR", "1"}, {"TMPDIR", tmp.string()}},
                     m_dir.path().string());
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  while (child.err().find("Cilium with Helm") == std::string::npos && Clock::now() < deadline) {
    auto done = child.wait(std::chrono::milliseconds(100));
    ASSERT_FALSE(done.has_value()) << "ended before helm started: " << child.err();
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(1500)); // helm is talking to the server
  ASSERT_FALSE(child.wait(std::chrono::milliseconds(0)).has_value()) << child.err();
  const auto signalled = Clock::now();
  child.signal(SIGTERM);
  const auto code = child.wait(std::chrono::seconds(10));
  ASSERT_TRUE(code.has_value()) << "still running 10 s after SIGTERM";
  EXPECT_LT(seconds_since(signalled), 5.0);
  EXPECT_EQ(*code, 143) << child.err();
  EXPECT_THAT(child.err(), HasSubstr("helm stopped: cancelled (SIGTERM)"));
  EXPECT_THAT(child.err(), HasSubstr("may be left pending-"));
  const auto junit = report("junit-install-cilium.xml");
  EXPECT_THAT(junit, HasSubstr("name=\"cancelled\""));
  EXPECT_THAT(junit, HasSubstr("pending-"));
  EXPECT_TRUE(fs::exists(m_dir.path() / "out/metrics.txt"));
  EXPECT_TRUE(fs::is_empty(tmp)) << "helm's values file is removed";
  // No helm of this test is left running.
  for (const auto& p : fs::directory_iterator("/proc")) {
    std::ifstream cmdline(p.path() / "cmdline");
    std::string text((std::istreambuf_iterator<char>(cmdline)), {});
    if (text.find(cilium_ns) != std::string::npos && text.find("helm") != std::string::npos &&
        text.find("netpol") == std::string::npos) {
      std::ifstream stat(p.path() / "stat");
      std::string pid, comm, state;
      stat >> pid >> comm >> state;
      EXPECT_EQ(state, "Z") << "helm still runs: " << text;
    }
  }
}

TEST_F(Faults, SigtermDuringRunWritesEveryReportOfEveryStep) {
  FaultProxy proxy(*m_cluster);
  // Every read takes 2 s: the run is still detecting when the job is cancelled.
  proxy.add({.method = "GET",
             .path = ".*",
             .fault = Fault::delay,
             .times = -1,
             .delay = std::chrono::seconds(2)});
  proxy.start();
  const std::vector<std::string> args = {NETPOL_BINARY,
                                         "--kubeconfig",
                                         proxy_kubeconfig(proxy),
                                         "-n",
                                         m_ns,
                                         "--output-dir",
                                         m_dir.file("run-out"),
                                         "run",
                                         "--mode",
                                         "enforce",
                                         "--policies",
                                         m_dir.file("policies")};
  ChildProcess child(args, {{"CI_PROJECT_ID", "7"}, {"CI_ENVIRONMENT_SLUG", "faults"}},
                     m_dir.path().string());
  // Once the first read is on its way: the run is detecting.
  ASSERT_TRUE(reached(proxy, child, "GET "));
  child.signal(SIGTERM);
  const auto signalled = Clock::now();
  const auto code = child.wait(std::chrono::seconds(10));
  ASSERT_TRUE(code.has_value()) << "still running 10 s after SIGTERM";
  EXPECT_LT(seconds_since(signalled), 5.0);
  EXPECT_EQ(*code, 143) << child.err();
  const auto junit = m_dir.read("run-out/junit-run.xml");
  EXPECT_THAT(junit, HasSubstr("name=\"cancelled\""));
  EXPECT_THAT(junit, HasSubstr("cancelled (SIGTERM)"));
  // Every report of every step, each saying the run was cancelled (the empty flow log and
  // dotenv claim nothing; metrics.txt counts nothing done).
  std::vector<std::string> written;
  for (const auto& e : fs::directory_iterator(m_dir.path() / "run-out"))
    written.push_back(e.path().filename());
  EXPECT_THAT(written, ::testing::UnorderedElementsAreArray(k_every_run_report));
  for (const auto& name : k_every_run_report) {
    const auto text = m_dir.read("run-out/" + name);
    if (name.rfind("junit-", 0) == 0) {
      EXPECT_THAT(text, HasSubstr("name=\"cancelled\"")) << name;
      EXPECT_THAT(text, HasSubstr("cancelled (SIGTERM)")) << name;
    } else {
      expect_run_stand_in(name, text, "cancelled (SIGTERM)");
    }
  }

  EXPECT_THAT(leftovers("run-out"), ::testing::IsEmpty());
  EXPECT_EQ(versions(), m_versions);
}

// A validating admission webhook, as a policy engine (Kyverno, Gatekeeper) runs one: it
// refuses NetworkPolicies named "api" in the namespaces labelled for it, for dry runs too
// (sideEffects None). Registered for the life of the object.
class RefusingWebhook {
public:
  RefusingWebhook(kube::KubeApi& api, const std::string& ns) : m_api(api) {
    m_server.routes().Post("/validate", [](const httplib::Request& req, httplib::Response& res) {
      const auto review = json::parse(req.body);
      const auto& request = review["request"];
      const bool refuse = request["object"]["metadata"].value("name", "") == "api";
      json response = {{"uid", request["uid"]}, {"allowed", !refuse}};
      if (refuse) {
        response["status"] = {{"code", 403},
                              {"message", "policy engine: NetworkPolicy api needs an owner label"}};
      }
      res.set_content(json{{"apiVersion", "admission.k8s.io/v1"},
                           {"kind", "AdmissionReview"},
                           {"response", response}}
                          .dump(),
                      "application/json");
    });
    m_server.start();
    m_name = "netpol-test-" + ns;
    const json label = {{"apiVersion", "v1"},
                        {"kind", "Namespace"},
                        {"metadata", {{"name", ns}, {"labels", {{"netpol-test-webhook", ns}}}}}};
    EXPECT_TRUE(api.apply(label, {"netpol-test", true, false}).has_value());
    const json config = {
        {"apiVersion", "admissionregistration.k8s.io/v1"},
        {"kind", "ValidatingWebhookConfiguration"},
        {"metadata", {{"name", m_name}}},
        {"webhooks",
         {{{"name", "refuse.netpol.test"},
           {"clientConfig",
            {{"url", m_server.url() + "/validate"}, {"caBundle", base64(m_server.ca_pem())}}},
           {"rules",
            {{{"apiGroups", {"networking.k8s.io"}},
              {"apiVersions", {"v1"}},
              {"operations", {"CREATE", "UPDATE"}},
              {"resources", {"networkpolicies"}}}}},
           {"namespaceSelector", {{"matchLabels", {{"netpol-test-webhook", ns}}}}},
           {"failurePolicy", "Ignore"},
           {"sideEffects", "None"},
           {"admissionReviewVersions", {"v1"}},
           {"timeoutSeconds", 5}}}}};
    auto created = api.create(config);
    EXPECT_TRUE(created.has_value()) << created.error().message;
  }
  ~RefusingWebhook() {
    auto info = m_api.resolve("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration");
    if (info && *info) (void)m_api.remove(**info, "", m_name, {});
  }

private:
  static std::string base64(const std::string& text) {
    std::string out(4 * ((text.size() + 2) / 3) + 1, '\0');
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(text.data()),
                                  static_cast<int>(text.size()));
    out.resize(static_cast<size_t>(n));
    return out;
  }

  kube::KubeApi& m_api;
  HttpsServer m_server;
  std::string m_name;
};

TEST_F(Faults, AnObjectTheServerRefusesMeansExit3AndZeroWrites) {
  RefusingWebhook webhook(*m_api, m_ns);
  // The server calls the webhook once its configuration is loaded: wait until a dry run of
  // "api" is refused.
  const json probe = json::parse(
      R"({"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy","metadata":{"name":"api"},"spec":{"podSelector":{}}})");
  json in_ns = probe;
  in_ns["metadata"]["namespace"] = m_ns;
  bool refusing = false;
  for (int i = 0; i < 100 && !refusing; ++i) {
    refusing = !m_api->apply(in_ns, {"netpol-test", false, true}).has_value();
    if (!refusing) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(refusing) << "the webhook never took effect";

  m_dir.write("policies/api.yaml", policy("api", 8000));
  const auto started = Clock::now();
  auto r = apply(m_cluster->kubeconfig);
  const double took = seconds_since(started);
  EXPECT_EQ(r.exit_code, 3) << r.err;
  // A refusal is an answer, not a fault: it is not retried, so the apply ends at once (the
  // bound leaves room for a loaded machine, not for retries).
  EXPECT_LT(took, 10.0);
  EXPECT_THAT(r.err, HasSubstr("api.yaml:1: apply NetworkPolicy/" + m_ns + "/api: "));
  EXPECT_THAT(r.err, HasSubstr("policy engine: NetworkPolicy api needs an owner label"));
  EXPECT_THAT(r.err, HasSubstr("nothing was applied"));
  EXPECT_EQ(versions(), m_versions) << "web not updated, db not pruned, api not created";
  const auto junit = report("junit-apply.xml");
  EXPECT_THAT(junit, HasSubstr("name=\"dry run NetworkPolicy/" + m_ns + "/api\""));
  EXPECT_THAT(junit, HasSubstr("not applied: the server-side dry run failed"));
  EXPECT_THAT(junit, HasSubstr("not pruned: the server-side dry run failed"));
}

} // namespace
} // namespace netpol::test
