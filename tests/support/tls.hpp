// Certificates made at test time (OpenSSL), so no key material lives in the repository.
#pragma once

#include <string>
#include <vector>

namespace netpol::test {

struct TestCertificate {
  std::string cert_pem;
  std::string key_pem;
};

// A certificate for `common_name` with subjectAltNames `dns_names` and `ip_addresses`, valid
// for a day. Without an issuer it is self-signed and a CA (so it can sign others and be
// trusted directly); with one, it is a leaf signed by `issuer`. `organizations` are subject O
// entries (a Kubernetes API server takes them as the client's groups). Aborts the test on
// failure.
TestCertificate make_certificate(const std::string& common_name,
                                 const std::vector<std::string>& dns_names = {},
                                 const std::vector<std::string>& ip_addresses = {},
                                 const TestCertificate* issuer = nullptr,
                                 const std::vector<std::string>& organizations = {});

} // namespace netpol::test
