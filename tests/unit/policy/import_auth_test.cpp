// Which import requests carry the job token (policy/loader.hpp: sends_job_token,
// fetch_settings): the GitLab instance's own host and port, over https://, nothing else.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "policy/loader.hpp"

namespace netpol::policy {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

FetchSettings gitlab(const std::string& server_url = "https://gitlab.example.com") {
  MapEnvironment env{{"CI_JOB_TOKEN", "job-token-value"}, {"CI_SERVER_URL", server_url}};
  return fetch_settings(env);
}

TEST(FetchSettings, ReadsTheInstanceFromTheJobsVariables) {
  MapEnvironment env{{"CI_JOB_TOKEN", "t"},
                     {"CI_SERVER_URL", "https://GitLab.Example.com"},
                     {"CI_SERVER_HOST", "gitlab.example.com"},
                     {"CI_SERVER_PORT", "8443"},
                     {"CI_API_V4_URL", "https://gitlab.example.com/api/v4"},
                     {"SSL_CERT_FILE", "/etc/ca.pem"},
                     {"CI_SERVER_TLS_CA_FILE", "/builds/ca.pem"}};
  const auto s = fetch_settings(env);
  EXPECT_EQ(s.job_token, "t");
  EXPECT_THAT(s.instance, ElementsAre("gitlab.example.com:443", "gitlab.example.com:8443"));
  EXPECT_EQ(s.ca_file, "/etc/ca.pem");
  EXPECT_EQ(s.instance_ca_file, "/builds/ca.pem");
}

TEST(FetchSettings, NothingSetNamesNoInstanceAndNoToken) {
  const auto s = fetch_settings(MapEnvironment{});
  EXPECT_TRUE(s.job_token.empty());
  EXPECT_THAT(s.instance, IsEmpty());
  EXPECT_FALSE(sends_job_token("https://gitlab.example.com/x", s));
}

TEST(FetchSettings, AHostWithAPathOrUserInItNamesNoHost) {
  MapEnvironment env{{"CI_JOB_TOKEN", "t"},
                     {"CI_SERVER_HOST", "evil.example/x@gitlab.example.com"}};
  EXPECT_THAT(fetch_settings(env).instance, IsEmpty());
}

TEST(SendsJobToken, OnlyToTheInstanceOverHttps) {
  const auto s = gitlab();
  EXPECT_TRUE(sends_job_token("https://gitlab.example.com/api/v4/projects/1/repository/files/"
                              "p.yaml/raw?ref=main",
                              s));
  EXPECT_TRUE(sends_job_token("https://GITLAB.example.com:443/x", s));
  EXPECT_TRUE(sends_job_token("HTTPS://gitlab.example.com/x", s));
}

TEST(SendsJobToken, NeverOverHttp) {
  EXPECT_FALSE(sends_job_token("http://gitlab.example.com/x", gitlab()));
  EXPECT_FALSE(sends_job_token("http://gitlab.example.com:443/x", gitlab()));
  // An instance that itself speaks http gets no token either.
  EXPECT_FALSE(sends_job_token("http://gitlab.example.com/x", gitlab("http://gitlab.example.com")));
}

TEST(SendsJobToken, NeverToAnotherHostOrPort) {
  const auto s = gitlab();
  for (const std::string url : {
           "https://evil.example/x",
           "https://gitlab.example.com.evil.example/x",
           "https://evil.example/gitlab.example.com/x",
           "https://gitlab.example.com@evil.example/x", // userinfo, then the real host
           "https://gitlab.example.com:8443/x",         // another port is another server
           "https://sub.gitlab.example.com/x",
           "https://evil.example/?u=https://gitlab.example.com/",
           "https://evil.example#@gitlab.example.com/",
       }) {
    EXPECT_FALSE(sends_job_token(url, s)) << url;
  }
}

TEST(SendsJobToken, NotWithoutAToken) {
  MapEnvironment env{{"CI_SERVER_URL", "https://gitlab.example.com"}};
  EXPECT_FALSE(sends_job_token("https://gitlab.example.com/x", fetch_settings(env)));
}

TEST(SendsJobToken, NotForWhatCannotBeParsed) {
  const auto s = gitlab();
  EXPECT_FALSE(sends_job_token("", s));
  EXPECT_FALSE(sends_job_token("gitlab.example.com/x", s));
  EXPECT_FALSE(sends_job_token("https://", s));
  EXPECT_FALSE(sends_job_token("file:///etc/passwd", s));
}

TEST(SendsJobToken, ASelfManagedInstanceOnItsOwnPort) {
  const auto s = gitlab("https://git.corp.example:8443/gitlab");
  EXPECT_TRUE(sends_job_token("https://git.corp.example:8443/gitlab/api/v4/x", s));
  EXPECT_FALSE(sends_job_token("https://git.corp.example/gitlab/api/v4/x", s));
}

} // namespace
} // namespace netpol::policy
