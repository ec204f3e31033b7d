#!/usr/bin/env bash
# Runs every test: installs missing packages, builds with the `ci` preset, runs the unit
# tests and the end-to-end tests (ctest starts and stops the local test cluster, building
# the kube-apiserver once into ~/.cache/netpol), then each libFuzzer target for about a
# minute over its seed corpus, then the unit tests under ASan+UBSan.
# Usage: scripts/test.sh [--no-asan] [ctest args...]
set -euo pipefail
cd "$(dirname "$0")/.."

asan=1
if [ "${1:-}" = "--no-asan" ]; then asan=0; shift; fi

scripts/install-deps.sh
# Build the cluster binary first so its one-time build shows up as its own step.
scripts/test-cluster/build-apiserver.sh >/dev/null

cmake --preset ci >/dev/null
cmake --build --preset ci
ctest --preset ci "$@"

# The fuzzers (fuzz preset: clang-14, libFuzzer, ASan+UBSan): ctest runs each for 60 s. Run
# only without ctest arguments, which select tests of the ci preset.
if [ "$#" = 0 ]; then
  cmake --preset fuzz >/dev/null
  cmake --build --preset fuzz --target netpol_fuzzers
  ctest --preset fuzz
fi

if [ "$asan" = 1 ]; then
  cmake --preset asan >/dev/null
  cmake --build --preset asan
  ctest --preset asan -L unit "$@"
fi
