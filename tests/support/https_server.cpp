#include "support/https_server.hpp"

#include <chrono>
#include <stdexcept>

#include <openssl/pem.h>
#include <openssl/x509.h>

namespace netpol::test {
namespace {

X509* read_cert(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  return cert;
}

EVP_PKEY* read_key(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  return key;
}

} // namespace

HttpsServer::HttpsServer(const std::vector<std::string>& dns_names,
                         const TestCertificate* client_ca) {
  std::vector<std::string> names = {"localhost"};
  names.insert(names.end(), dns_names.begin(), dns_names.end());
  m_ca = make_certificate("netpol test CA");
  m_leaf = make_certificate("netpol test server", names, {"127.0.0.1"}, &m_ca);
  X509* cert = read_cert(m_leaf.cert_pem);
  EVP_PKEY* key = read_key(m_leaf.key_pem);
  X509_STORE* store = nullptr;
  if (client_ca != nullptr) {
    store = X509_STORE_new();
    X509* ca = read_cert(client_ca->cert_pem);
    X509_STORE_add_cert(store, ca);
    X509_free(ca);
  }
  m_server = std::make_unique<httplib::SSLServer>(cert, key, store);
  X509_free(cert);
  EVP_PKEY_free(key);
  if (!m_server->is_valid()) throw std::runtime_error("HttpsServer: invalid TLS setup");
  m_server->set_keep_alive_timeout(1); // stop() waits for idle keep-alive connections
}

HttpsServer::~HttpsServer() {
  stop();
}

void HttpsServer::start() {
  m_port = m_server->bind_to_any_port("127.0.0.1");
  if (m_port <= 0) throw std::runtime_error("HttpsServer: cannot bind");
  m_thread = std::thread([this] { m_server->listen_after_bind(); });
  while (!m_server->is_running())
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

void HttpsServer::stop() {
  if (m_thread.joinable()) {
    m_server->stop();
    m_thread.join();
  }
}

} // namespace netpol::test
