#include "support/fault_proxy.hpp"

#include <fstream>
#include <regex>
#include <stdexcept>

#include <fmt/format.h>

namespace netpol::test {
namespace {

// Headers that describe one hop (or that httplib adds to a Request for its handlers); the
// rest are forwarded as they came, Authorization included.
bool hop_header(const std::string& name) {
  static const char* k_hop[] = {"host",
                                "content-length",
                                "connection",
                                "keep-alive",
                                "transfer-encoding",
                                "accept-encoding",
                                "content-encoding",
                                "remote_addr",
                                "remote_port",
                                "local_addr",
                                "local_port"};
  std::string lower;
  for (char c : name)
    lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const char* h : k_hop)
    if (lower == h) return true;
  return false;
}

std::pair<std::string, int> host_port(const std::string& url) {
  const auto scheme = url.find("://");
  const auto rest = scheme == std::string::npos ? url : url.substr(scheme + 3);
  const auto colon = rest.rfind(':');
  if (colon == std::string::npos) throw std::runtime_error("FaultProxy: no port in " + url);
  return {rest.substr(0, colon), std::stoi(rest.substr(colon + 1))};
}

} // namespace

FaultProxy::FaultProxy(const TestCluster& cluster) : m_cluster(cluster) {
  auto handler = [this](const httplib::Request& req, httplib::Response& res) { handle(req, res); };
  auto& routes = m_server.routes();
  routes.Get(".*", handler);
  routes.Post(".*", handler);
  routes.Put(".*", handler);
  routes.Patch(".*", handler);
  routes.Delete(".*", handler);
  routes.Options(".*", handler);
}

FaultProxy::~FaultProxy() {
  stop();
}

void FaultProxy::add(Rule rule) {
  std::lock_guard lock(m_mutex);
  const int times = rule.times;
  m_rules.emplace_back(std::move(rule), times);
}

void FaultProxy::start() {
  m_server.start();
}

void FaultProxy::stop() {
  {
    std::lock_guard lock(m_mutex);
    m_stopped = true;
  }
  m_stopped_cv.notify_all(); // hung handlers return, so the server can stop
  m_server.stop();
}

std::string FaultProxy::write_kubeconfig(const std::string& path, const std::string& token,
                                         const std::string& namespace_name) const {
  const std::string ca_file = path + ".ca.crt";
  std::ofstream(ca_file, std::ios::trunc) << ca_pem();
  std::ofstream(path, std::ios::trunc) << fmt::format(
      "apiVersion: v1\nkind: Config\n"
      "clusters:\n- name: proxy\n  cluster:\n    server: {}\n    certificate-authority: {}\n"
      "users:\n- name: proxy\n  user:\n    token: {}\n"
      "contexts:\n- name: proxy\n  context:\n    cluster: proxy\n    user: proxy\n"
      "    namespace: {}\n"
      "current-context: proxy\n",
      url(), ca_file, token, namespace_name.empty() ? "default" : namespace_name);
  return path;
}

std::vector<std::string> FaultProxy::log() const {
  std::lock_guard lock(m_mutex);
  return m_log;
}

int FaultProxy::count(const std::string& method, const std::string& path) const {
  const std::regex re(path);
  int n = 0;
  for (const auto& line : log()) {
    const auto space = line.find(' ');
    const auto arrow = line.find(" -> ");
    if (line.substr(0, space) != method || arrow == std::string::npos) continue;
    if (line.find(" -> delaying") != std::string::npos) continue; // counted when answered
    const auto target = line.substr(space + 1, arrow - space - 1);
    if (std::regex_match(target.substr(0, target.find('?')), re)) ++n;
  }
  return n;
}

void FaultProxy::record(const std::string& line) {
  std::lock_guard lock(m_mutex);
  m_log.push_back(line);
}

void FaultProxy::handle(const httplib::Request& req, httplib::Response& res) {
  const auto mark = req.target.find('?');
  const std::string query = mark == std::string::npos ? "" : req.target.substr(mark + 1);
  std::optional<Rule> rule;
  {
    std::lock_guard lock(m_mutex);
    for (auto& [r, left] : m_rules) {
      if (left == 0) continue;
      if (!r.method.empty() && r.method != req.method) continue;
      if (!std::regex_match(req.path, std::regex(r.path))) continue;
      if (!r.query.empty() && !std::regex_match(query, std::regex(r.query))) continue;
      if (left > 0) --left;
      rule = r;
      break;
    }
  }
  const std::string what = req.method + " " + req.path + (query.empty() ? "" : "?" + query);
  if (!rule) {
    forward(req, res);
    record(fmt::format("{} -> {}", what, res.status));
    return;
  }
  switch (rule->fault) {
  case Fault::status:
    res.status = rule->status;
    for (const auto& [name, value] : rule->headers)
      res.set_header(name, value);
    res.set_content(rule->body, "application/json");
    record(fmt::format("{} -> {} (injected)", what, rule->status));
    return;
  case Fault::reset:
    record(fmt::format("{} -> reset (injected)", what));
    res.set_content_provider(100, "application/json",
                             [](size_t, size_t, httplib::DataSink&) { return false; });
    return;
  case Fault::hang: {
    record(fmt::format("{} -> hang (injected)", what));
    std::unique_lock lock(m_mutex);
    m_stopped_cv.wait(lock, [this] { return m_stopped; });
    res.status = 503;
    return;
  }
  case Fault::delay: {
    record(fmt::format("{} -> delaying (injected)", what));
    {
      std::unique_lock lock(m_mutex);
      m_stopped_cv.wait_for(lock, rule->delay, [this] { return m_stopped; });
    }
    forward(req, res);
    record(fmt::format("{} -> {} (delayed {} ms)", what, res.status, rule->delay.count()));
    return;
  }
  case Fault::lose: {
    forward(req, res);
    const int answered = res.status;
    res.headers.clear(); // the server's reply is dropped whole
    res.status = rule->status;
    for (const auto& [name, value] : rule->headers)
      res.set_header(name, value);
    res.set_content(rule->body, "application/json");
    record(
        fmt::format("{} -> {} (injected; the server answered {})", what, rule->status, answered));
    return;
  }
  }
}

void FaultProxy::forward(const httplib::Request& req, httplib::Response& res) {
  const auto [host, port] = host_port(m_cluster.server);
  httplib::SSLClient upstream(host, port);
  upstream.set_ca_cert_path(m_cluster.ca_file.c_str());
  upstream.enable_server_certificate_verification(true);
  upstream.set_read_timeout(std::chrono::seconds(60));
  httplib::Request out;
  out.method = req.method;
  out.path = req.target;
  for (const auto& [name, value] : req.headers)
    if (!hop_header(name)) out.headers.emplace(name, value);
  out.body = req.body;
  httplib::Response answer;
  httplib::Error error = httplib::Error::Success;
  if (!upstream.send(out, answer, error)) {
    res.status = 502;
    res.set_content(fmt::format("proxy: {}", httplib::to_string(error)), "text/plain");
    return;
  }
  res.status = answer.status;
  for (const auto& [name, value] : answer.headers)
    if (!hop_header(name) && name != "Content-Type") res.set_header(name, value);
  res.set_content(answer.body, answer.get_header_value("Content-Type"));
}

} // namespace netpol::test
