#!/usr/bin/env bash
# Builds the netpol image (Dockerfile) with `docker build` when a Docker engine answers, else
# with `buildah bud --isolation chroot --storage-driver vfs`, then runs `netpol version` in it.
#
# Usage: scripts/build-image.sh [options]
#   --tag NAME                 image name (default netpol:dev)
#   --helm PATH                helm binary to put in the image
#   --fetch-helm VERSION       download helm VERSION (e.g. v3.17.2) in the build, sha256-verified
#                              (default: the pinned helm of scripts/test-cluster/get-helm.sh)
#   --chart DIR                unpacked Cilium chart to put in the image (default charts/cilium-test,
#                              the small test chart; a release uses the real one)
#   --fetch-cilium-chart VER   `helm pull` the real Cilium chart VER from helm.cilium.io
#   --engine docker|buildah    force an engine
#   --local-base               buildah: do not try to pull base images, make them with debootstrap
#   --jobs N                   parallel compile jobs in the build stage (default 2)
#
# Without a Docker engine, base images that cannot be pulled are made with debootstrap (Debian
# bookworm, minbase) and cached under ~/.cache/netpol/ (NETPOL_CACHE_DIR); buildah and
# debootstrap are installed with apt when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

tag=netpol:dev
helm_path=""
helm_fetch=""
chart_dir=charts/cilium-test
chart_fetch=""
engine=""
local_base=0
jobs=2

log() { printf 'build-image: %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

while [ $# -gt 0 ]; do
  case "$1" in
    --tag) tag=$2; shift 2 ;;
    --helm) helm_path=$2; shift 2 ;;
    --fetch-helm) helm_fetch=$2; shift 2 ;;
    --chart) chart_dir=$2; shift 2 ;;
    --fetch-cilium-chart) chart_fetch=$2; shift 2 ;;
    --engine) engine=$2; shift 2 ;;
    --local-base) local_base=1; shift ;;
    --jobs) jobs=$2; shift 2 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done

cache_root=${NETPOL_CACHE_DIR:-$HOME/.cache/netpol}
# Inputs the build context must carry (.dockerignore keeps this directory in).
inputs=.cache/image-inputs
rm -rf "$inputs"
mkdir -p "$inputs"
start=$SECONDS

# --- helm
build_args=()
helm_version=""
if [ -n "$helm_fetch" ]; then
  build_args+=(--build-arg "HELM_VERSION=$helm_fetch")
  helm_version=$helm_fetch
else
  if [ -z "$helm_path" ]; then
    helm_path=$(scripts/test-cluster/get-helm.sh | tail -n 1)
  fi
  [ -x "$helm_path" ] || die "helm binary $helm_path is not executable"
  cp "$helm_path" "$inputs/helm"
  helm_version=$("$inputs/helm" version --short | cut -d+ -f1)
  build_args+=(--build-arg "HELM_BINARY=$inputs/helm" --build-arg "HELM_VERSION=$helm_version")
fi

# --- Cilium chart
if [ -n "$chart_fetch" ]; then
  helm=${helm_path:-helm}
  if [ -z "$helm_path" ]; then
    # --fetch-helm puts helm in the image only; pulling the chart needs one here as well.
    curl -fsSLO "https://get.helm.sh/helm-$helm_fetch-linux-amd64.tar.gz"
    curl -fsSL "https://get.helm.sh/helm-$helm_fetch-linux-amd64.tar.gz.sha256sum" | sha256sum -c -
    tar -xzf "helm-$helm_fetch-linux-amd64.tar.gz" -C "$inputs" --strip-components 1 linux-amd64/helm
    rm -f "helm-$helm_fetch-linux-amd64.tar.gz"
    helm=$inputs/helm
  fi
  "$helm" pull cilium --repo https://helm.cilium.io --version "$chart_fetch" --untar \
    --untardir "$inputs/chart"
  chart_dir=$inputs/chart/cilium
fi
[ -f "$chart_dir/Chart.yaml" ] || die "$chart_dir is not an unpacked chart (no Chart.yaml)"
case "$chart_dir" in
  /*) die "--chart must be a directory inside the repository (the build context)" ;;
esac
chart_version=$(sed -n 's/^version:[[:space:]]*//p' "$chart_dir/Chart.yaml" | tr -d '"'"'")
netpol_version=$(sed -n 's/^project(netpol VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
revision=$(git describe --always --dirty --abbrev=12 2>/dev/null || echo unknown)
build_args+=(
  --build-arg "CILIUM_CHART_DIR=$chart_dir"
  --build-arg "CILIUM_CHART_VERSION=$chart_version"
  --build-arg "NETPOL_VERSION=$netpol_version"
  --build-arg "NETPOL_REVISION=$revision"
  --build-arg "BUILD_JOBS=$jobs"
)
log "netpol $netpol_version ($revision), helm $helm_version, Cilium chart $chart_version ($chart_dir)"

# --- engine
if [ -z "$engine" ]; then
  if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
    engine=docker
  else
    engine=buildah
  fi
fi

apt_install() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  log "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
}

bah() { buildah --storage-driver vfs "$@"; }

# Makes localhost/debian:<tag> from a debootstrap tree (cached as a tarball).
make_debian_base() {
  local name=$1 tarball="$cache_root/debian-bookworm-minbase.tar"
  if [ ! -f "$tarball" ]; then
    apt_install debootstrap
    local root
    root=$(mktemp -d "$cache_root/.debootstrap.XXXXXX")
    log "debootstrap bookworm (minbase) for $name"
    debootstrap --variant=minbase bookworm "$root" http://deb.debian.org/debian >/dev/null
    rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
    tar -C "$root" -cf "$tarball.tmp" .
    mv "$tarball.tmp" "$tarball"
    rm -rf "$root"
  fi
  local ctr mnt
  ctr=$(bah from scratch)
  mnt=$(bah mount "$ctr")
  tar -C "$mnt" -xf "$tarball"
  bah umount "$ctr" >/dev/null
  bah config --cmd /bin/bash --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$ctr"
  bah commit --quiet "$ctr" "localhost/$name" >/dev/null
  bah rm "$ctr" >/dev/null
}

# The image reference to build FROM for debian:<tag>: local, pulled, or made here.
debian_base() {
  local name=$1
  if bah inspect --type image "localhost/$name" >/dev/null 2>&1; then
    echo "localhost/$name"
  elif [ "$local_base" = 0 ] && bah pull --quiet "docker.io/library/$name" >/dev/null 2>&1; then
    echo "docker.io/library/$name"
  else
    make_debian_base "$name"
    echo "localhost/$name"
  fi
}

case "$engine" in
  docker)
    docker build "${build_args[@]}" -t "$tag" .
    docker run --rm "$tag" netpol version
    ;;
  buildah)
    mkdir -p "$cache_root"
    apt_install buildah
    base=$(debian_base debian:bookworm)
    # One tree serves both stages here; the runtime stage installs only its libraries.
    slim=$(debian_base debian:bookworm-slim)
    log "buildah bud (bases $base, $slim)"
    nice buildah --storage-driver vfs bud --isolation chroot --pull=false --layers \
      --build-arg "DEBIAN_IMAGE=$base" --build-arg "DEBIAN_SLIM_IMAGE=$slim" \
      "${build_args[@]}" -t "$tag" -f Dockerfile .
    ctr=$(bah from "$tag")
    trap 'bah rm "$ctr" >/dev/null 2>&1 || true' EXIT
    bah run --isolation chroot "$ctr" -- netpol version
    ;;
  *) die "unknown engine $engine" ;;
esac
log "built $tag with $engine in $((SECONDS - start)) s"
