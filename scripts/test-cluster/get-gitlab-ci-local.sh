#!/usr/bin/env bash
# Prints (last line of stdout) the path of a cached gitlab-ci-local 4.70.0, installing it on
# first use.
#
# Why: gitlab-ci-local runs the CI component's template jobs on the host
# (--force-shell-executor), so the component YAML is tested without a GitLab runner.
# 4.70.0 is pinned because later releases need Node 22 and these machines have Node 20.
#
# Environment:
#   NETPOL_CACHE_DIR  cache root (default ~/.cache/netpol)
set -euo pipefail

readonly gcl_version=4.70.0

cache_root=${NETPOL_CACHE_DIR:-$HOME/.cache/netpol}
dest_dir="$cache_root/gitlab-ci-local-$gcl_version"
dest_bin="$dest_dir/node_modules/.bin/gitlab-ci-local"

log() { printf 'get-gitlab-ci-local: %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

# The install dir only ever appears through an atomic rename, so if it is there it is complete.
if [ -x "$dest_bin" ]; then
  printf '%s\n' "$dest_bin"
  exit 0
fi

for tool in npm node flock; do
  command -v "$tool" >/dev/null 2>&1 || die "'$tool' not found; run scripts/install-deps.sh first"
done

mkdir -p "$cache_root"
# Serialise concurrent first uses; the kernel releases the lock if this process dies.
exec 9>"$dest_dir.lock"
flock 9
if [ -x "$dest_bin" ]; then
  printf '%s\n' "$dest_bin"
  exit 0
fi

# Leftovers of a killed run (its trap could not fire); the lock says none is in progress.
rm -rf "$cache_root"/.gitlab-ci-local.*

# Install into a sibling temp prefix, then rename the whole prefix into place: npm's .bin
# links are relative, so they survive the move, and a half-finished install is never seen.
work=$(mktemp -d "$cache_root/.gitlab-ci-local.XXXXXX")
trap 'rm -rf "$work"' EXIT

log "installing gitlab-ci-local@$gcl_version from npm"
npm install --prefix "$work" --no-audit --no-fund --loglevel=error \
  "gitlab-ci-local@$gcl_version" >&2
[ -x "$work/node_modules/.bin/gitlab-ci-local" ] || die "npm install did not provide the binary"

rm -rf "$dest_dir"
mv "$work" "$dest_dir"
trap - EXIT
log "gitlab-ci-local $gcl_version cached"
printf '%s\n' "$dest_bin"
