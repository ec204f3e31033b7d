#!/usr/bin/env bash
# Prints (last line of stdout) the path of a kube-apiserver v1.20.2 binary for the local test
# cluster, building it on first use.
#
# Why build: these machines have no Docker engine and no route to upstream release downloads,
# so kind/k3s cannot run and no prebuilt binary can be fetched. Debian's source package
# `kubernetes` (1.20.2 with its full vendor/ tree) builds offline with Debian's Go, and a real
# API server proves what a fake cannot (server-side apply, validation, RBAC, discovery).
#
# The build takes 4-9 minutes on 2 cores, so the binary is cached under
# ${NETPOL_CACHE_DIR:-~/.cache/netpol}/kube-apiserver-v1.20.2/ and later calls return at once.
# Concurrent callers serialise on a lock so only one of them builds.
#
# Environment:
#   NETPOL_CACHE_DIR      cache root (default ~/.cache/netpol)
#   NETPOL_DEBIAN_MIRROR  Debian mirror for the source package (default deb.debian.org)
# Needs: apt-get, dpkg-query, golang-go, make, rsync, golang-github-modern-go-reflect2-dev
# (scripts/install-deps.sh installs them).
set -euo pipefail

readonly k8s_version=1.20.2
# Debian went back from 1.20.5 to 1.20.2, so its upstream tarball is versioned
# "1.20.5+really1.20.2".
readonly debian_upstream_version="1.20.5+really${k8s_version}"
readonly debian_suite=bookworm
readonly mirror=${NETPOL_DEBIAN_MIRROR:-http://deb.debian.org/debian}

cache_root=${NETPOL_CACHE_DIR:-$HOME/.cache/netpol}
dest_dir="$cache_root/kube-apiserver-v$k8s_version"
dest_bin="$dest_dir/kube-apiserver"

log() { printf 'build-apiserver: %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

# Fast path without taking the lock: the binary only ever appears through an atomic rename,
# so if it is there it is complete.
if [ -x "$dest_bin" ]; then
  printf '%s\n' "$dest_bin"
  exit 0
fi

for tool in apt-get dpkg-query go make rsync tar flock; do
  command -v "$tool" >/dev/null 2>&1 ||
    die "'$tool' not found; run scripts/install-deps.sh first"
done

mkdir -p "$dest_dir"

# flock on a file descriptor: the kernel drops the lock when this process dies, so a killed
# build never leaves a stale lock behind.
exec 9>"$dest_dir.lock"
if ! flock -n 9; then
  log "another process is building kube-apiserver; waiting for it"
  flock 9
fi
if [ -x "$dest_bin" ]; then
  log "built by the other process"
  printf '%s\n' "$dest_bin"
  exit 0
fi

# A build killed with SIGKILL (or a lost machine) cannot run its cleanup; holding the lock,
# we know no other build is active, so any leftover work dir is garbage.
for stale in "$cache_root"/.build-apiserver.*; do
  [ -d "$stale" ] || continue
  log "removing leftover work dir $stale"
  chmod -R u+w "$stale" 2>/dev/null || true
  rm -rf "$stale"
done

# The work dir lives inside the cache root (not /tmp) so the final rename is on one file
# system and therefore atomic. It holds the large source tree and Go build cache.
work=$(mktemp -d "$cache_root/.build-apiserver.XXXXXX")
cleanup() {
  # Go writes its module/build caches read-only; make them writable so rm can remove them.
  chmod -R u+w "$work" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

start_s=$(date +%s)
log "building kube-apiserver v$k8s_version from Debian's source package (takes 4-9 min)"
log "work dir: $work"

# --- 1. Download the source package -----------------------------------------------------
# `apt-get source` needs deb-src lines, which the system sources usually lack. A private
# source list, list dir and cache dir let apt fetch it without touching the system's apt
# configuration or package caches. Signatures are still checked against the system keyring.
apt_dir="$work/apt"
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/sources.list.d"
printf 'deb-src %s %s main\n' "$mirror" "$debian_suite" >"$apt_dir/sources.list"
apt_opts=(
  -o "Dir::Etc::SourceList=$apt_dir/sources.list"
  -o "Dir::Etc::SourceParts=$apt_dir/sources.list.d"
  -o "Dir::State::Lists=$apt_dir/lists"
  -o "Dir::Cache=$apt_dir/cache"
  # apt drops to the _apt user for downloads, which cannot write into a private dir under
  # $HOME; downloading as the calling user avoids that (and the warning it prints).
  -o "APT::Sandbox::User=$(id -un)"
)
log "fetching the source index for $debian_suite from $mirror"
apt-get "${apt_opts[@]}" -q update >&2
log "downloading source package 'kubernetes'"
(cd "$work" && apt-get "${apt_opts[@]}" -q source --download-only kubernetes >&2)

orig="$work/kubernetes_${debian_upstream_version}.orig.tar.gz"
[ -f "$orig" ] ||
  die "expected $(basename "$orig") but the archive offers: $(cd "$work" && printf '%s ' kubernetes_*)"

# --- 2. Unpack the upstream tarball -------------------------------------------------------
# Only the orig tarball is used: Debian's patches touch kubectl printing, not the server.
log "unpacking $(basename "$orig")"
mkdir "$work/src"
tar -xzf "$orig" -C "$work/src" --strip-components=1
src="$work/src"
[ -f "$src/Makefile" ] || die "unexpected tarball layout: no Makefile at its top level"

# --- 3. Replace the vendored reflect2 ------------------------------------------------------
# The vendored github.com/modern-go/reflect2 v1.0.1 relies on runtime internals that changed
# in Go 1.18; with Debian's Go the server dies at run time (`fatal error: fault` in
# mapiterinit). Debian's v1.0.2 supports new Go versions and is API-compatible. Its go.mod
# must go: a go.mod inside vendor/ would confuse the GOPATH-mode build.
reflect2_src=$(dpkg-query -L golang-github-modern-go-reflect2-dev 2>/dev/null |
  sed -n 's|/reflect2\.go$||p' | grep '/github.com/modern-go/reflect2$' | head -n1) || true
if [ -z "$reflect2_src" ] || [ ! -d "$reflect2_src" ]; then
  die "golang-github-modern-go-reflect2-dev is not installed; run scripts/install-deps.sh"
fi
log "replacing vendored modern-go/reflect2 with Debian's copy from the Debian package"
rm -rf "$src/vendor/github.com/modern-go/reflect2"
rsync -a --exclude=go.mod "$reflect2_src/" "$src/vendor/github.com/modern-go/reflect2/"

# --- 4. Build ------------------------------------------------------------------------------
# GOPATH mode the way Debian's debian/rules builds it: Kubernetes 1.20's build scripts
# predate modules and need the tree at k8s.io/kubernetes inside a GOPATH. `make` (not a plain
# `go build`) is required because it first generates the OpenAPI definitions.
# CGO_ENABLED=0 gives a static binary; a throwaway HOME keeps Go's build cache out of the
# caller's home; GOPROXY=off makes any attempt to reach the network fail loudly.
mkdir -p "$src/.go/src/k8s.io" "$work/home"
ln -s ../../.. "$src/.go/src/k8s.io/kubernetes"
log "running make WHAT=cmd/kube-apiserver (the slow part)"
(
  cd "$src"
  unset GOFLAGS GOROOT GOBIN
  env HOME="$work/home" GOPATH="$src/.go" CGO_ENABLED=0 GOPROXY=off \
    make WHAT=cmd/kube-apiserver >&2
)

built="$src/_output/bin/kube-apiserver"
[ -x "$built" ] || die "make succeeded but $built is missing"
built=$(readlink -f "$built")

# --- 5. Install atomically -----------------------------------------------------------------
# Same file system, so mv is a rename: readers see either no binary or the complete one.
mv -f "$built" "$dest_bin.tmp"
chmod 0755 "$dest_bin.tmp"
mv -f "$dest_bin.tmp" "$dest_bin"

elapsed=$(($(date +%s) - start_s))
printf 'version=v%s\nsource=kubernetes_%s.orig.tar.gz\nbuilt_at=%s\nbuild_seconds=%s\n' \
  "$k8s_version" "$debian_upstream_version" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$elapsed" \
  >"$dest_dir/build-info"
log "built in $((elapsed / 60))m$((elapsed % 60))s; removing the source tree"
# The EXIT trap removes the work dir (source tree and Go build cache).
printf '%s\n' "$dest_bin"
