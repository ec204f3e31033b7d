// What a test does when something it needs (the test cluster, helm, kubectl) cannot be had:
// on a developer's machine it skips, saying why; under CI=true it fails, so that CI never
// passes by running less.
#pragma once

#include <cstdlib>
#include <string_view>

#include <gtest/gtest.h>

namespace netpol::test {

// CI is set (and not "false" or "0"), as GitLab CI and the project's CI entry point set it.
inline bool in_ci() {
  const char* ci = std::getenv("CI");
  if (ci == nullptr) return false;
  const std::string_view v(ci);
  return !v.empty() && v != "false" && v != "0";
}

} // namespace netpol::test

// Skips the test with `why`, or fails it under CI=true. Use where a GTEST_SKIP would go.
#define NETPOL_SKIP_OR_FAIL(why)                                                                   \
  do {                                                                                             \
    if (::netpol::test::in_ci()) {                                                                 \
      GTEST_FAIL() << why << " (CI is set: what a test needs must be there)";                      \
    } else {                                                                                       \
      GTEST_SKIP() << why;                                                                         \
    }                                                                                              \
  } while (false)
