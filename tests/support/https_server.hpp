// An in-process HTTPS server (cpp-httplib) with a certificate made at test time. Used where a
// real API server cannot be made to misbehave (429, 5xx, dropped connections, stalls) and as
// the base of the test kubelet.
//
//   HttpsServer server;                        // CA + leaf for 127.0.0.1 and localhost
//   server.routes().Get("/version", handler);  // register routes first
//   server.start();                            // then serve on a free port
//   client config: server.url(), server.ca_pem()
#pragma once

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>

#include "support/tls.hpp"

namespace netpol::test {

class HttpsServer {
public:
  // `dns_names` are added to the certificate's names; with `client_ca`, clients must present
  // a certificate it signed.
  explicit HttpsServer(const std::vector<std::string>& dns_names = {},
                       const TestCertificate* client_ca = nullptr);
  ~HttpsServer();
  HttpsServer(const HttpsServer&) = delete;
  HttpsServer& operator=(const HttpsServer&) = delete;

  httplib::Server& routes() { return *m_server; }
  void start();
  void stop();

  int port() const { return m_port; }
  std::string url() const { return "https://127.0.0.1:" + std::to_string(m_port); }
  const std::string& ca_pem() const { return m_ca.cert_pem; }

private:
  TestCertificate m_ca;
  TestCertificate m_leaf;
  std::unique_ptr<httplib::SSLServer> m_server;
  std::thread m_thread;
  int m_port = 0;
};

} // namespace netpol::test
