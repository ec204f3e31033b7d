#!/usr/bin/env bash
# Builds the netpol image (Dockerfile) with `docker build` (`docker buildx build` for
# --platform) when a Docker engine answers, else with
# `buildah bud --isolation chroot --storage-driver vfs`, then runs `netpol version` in it.
#
# Usage: scripts/build-image.sh [options]
#   --tag NAME                 image name (default netpol:dev)
#   --helm PATH                helm binary to put in the image
#   --fetch-helm VERSION       download helm VERSION (e.g. v3.17.2) in the build, sha256-verified
#                              (default: the pinned helm of scripts/test-cluster/get-helm.sh)
#   --cilium-chart-version V   the real Cilium chart to carry (default: the newest pinned in
#                              charts/cilium-charts.sha256, 1.20.0)
#   --chart FILE.tgz           that chart, packaged as Cilium's Helm repository serves it
#                              (default: cilium-V.tgz in $NETPOL_CILIUM_CHARTS_DIR when that is
#                              set; else the build runs `helm pull` for version V)
#   --chart-sha256 DIGEST      the chart's sha256, for a version not pinned in
#                              charts/cilium-charts.sha256
#   --platform LIST            platforms to build, e.g. linux/amd64,linux/arm64 (docker buildx;
#                              each stage is built per platform, under QEMU for a foreign one;
#                              several platforms need --push and --fetch-helm)
#   --push                     push the image (several platforms: the build pushes them under
#                              one tag; it cannot load them into the engine)
#   --engine docker|buildah    force an engine
#   --local-base               buildah: do not try to pull base images, make them with debootstrap
#   --jobs N                   parallel compile jobs in the build stage (default 2)
#
# The chart's sha256 is checked here and again in the build: an image never carries a chart
# other than the pinned one. Without a Docker engine, base images that cannot be pulled are
# made with debootstrap (Debian bookworm, minbase) and cached under ~/.cache/netpol/
# (NETPOL_CACHE_DIR); buildah and debootstrap are installed with apt when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

tag=netpol:dev
helm_path=""
helm_fetch=""
chart_file=""
chart_version=""
chart_sha256=""
engine=""
local_base=0
jobs=2
platforms=""
push=0

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
    --chart) chart_file=$2; shift 2 ;;
    --cilium-chart-version) chart_version=$2; shift 2 ;;
    --chart-sha256) chart_sha256=$2; shift 2 ;;
    --platform) platforms=$2; shift 2 ;;
    --push) push=1; shift ;;
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
  # One helm binary is for one platform (the cached one: linux/amd64).
  case "$platforms" in *,*) die "several platforms need --fetch-helm VERSION (helm per platform)" ;; esac
  if [ -z "$helm_path" ]; then
    helm_path=$(scripts/test-cluster/get-helm.sh | tail -n 1)
  fi
  [ -x "$helm_path" ] || die "helm binary $helm_path is not executable"
  cp "$helm_path" "$inputs/helm"
  helm_version=$("$inputs/helm" version --short | cut -d+ -f1)
  build_args+=(--build-arg "HELM_BINARY=$inputs/helm" --build-arg "HELM_VERSION=$helm_version")
fi

# --- Cilium chart: version and digest from the pins, the file from --chart or the charts dir
pins=charts/cilium-charts.sha256
if [ -z "$chart_version" ]; then
  chart_version=$(sed -n 's/^[0-9a-f]\{64\}  cilium-\(.*\)\.tgz$/\1/p' "$pins" | sort -V | tail -n 1)
fi
if [ -z "$chart_sha256" ]; then
  chart_sha256=$(awk -v f="cilium-$chart_version.tgz" '$2 == f {print $1}' "$pins")
  [ -n "$chart_sha256" ] || die "Cilium chart $chart_version is not pinned in $pins; give --chart-sha256"
fi
if [ -z "$chart_file" ] && [ -n "${NETPOL_CILIUM_CHARTS_DIR:-}" ] &&
  [ -f "$NETPOL_CILIUM_CHARTS_DIR/cilium-$chart_version.tgz" ]; then
  chart_file=$NETPOL_CILIUM_CHARTS_DIR/cilium-$chart_version.tgz
fi
if [ -n "$chart_file" ]; then
  [ -f "$chart_file" ] || die "chart $chart_file not found"
  echo "$chart_sha256  $chart_file" | sha256sum -c --quiet - ||
    die "$chart_file is not the pinned Cilium chart $chart_version (sha256 $chart_sha256)"
  cp "$chart_file" "$inputs/cilium-$chart_version.tgz"
  build_args+=(--build-arg "CILIUM_CHART_FILE=$inputs/cilium-$chart_version.tgz")
  chart_source=$chart_file
else
  chart_source="helm pull in the build"
fi
build_args+=(--build-arg "CILIUM_CHART_VERSION=$chart_version"
  --build-arg "CILIUM_CHART_SHA256=$chart_sha256")
netpol_version=$(sed -n 's/^project(netpol VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
revision=$(git describe --always --dirty --abbrev=12 2>/dev/null || echo unknown)
build_args+=(
  --build-arg "NETPOL_VERSION=$netpol_version"
  --build-arg "NETPOL_REVISION=$revision"
  --build-arg "BUILD_JOBS=$jobs"
)
log "netpol $netpol_version ($revision), helm $helm_version, Cilium chart $chart_version sha256 $chart_sha256 ($chart_source)"

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

# Makes localhost/debian:<tag> from a debootstrap tree (cached as a tarball). The runtime stage
# is `FROM scratch`, so only the build stages need one.
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
    if [ -n "$platforms" ]; then
      output=--load
      if [ "$push" = 1 ]; then
        output=--push
      else
        case "$platforms" in *,*) die "several platforms need --push (the engine cannot load them)" ;; esac
      fi
      docker buildx build --platform "$platforms" "$output" "${build_args[@]}" -t "$tag" .
      # Each platform's image runs (a foreign one under the QEMU that built it); a pushed one
      # is pulled, so an older local image of the same name cannot stand in for it.
      pull=()
      if [ "$push" = 1 ]; then pull=(--pull always); fi
      for platform in ${platforms//,/ }; do
        log "netpol version in the $platform image"
        docker run --rm "${pull[@]}" --platform "$platform" "$tag" netpol version
      done
    else
      docker build "${build_args[@]}" -t "$tag" .
      if [ "$push" = 1 ]; then docker push "$tag"; fi
      docker run --rm "$tag" netpol version
    fi
    ;;
  buildah)
    case "$platforms" in *,*) die "buildah builds one platform here; use docker buildx for several" ;; esac
    [ "$push" = 0 ] || die "--push: push with buildah push after the build"
    mkdir -p "$cache_root"
    apt_install buildah
    base=$(debian_base debian:bookworm)
    log "buildah bud (base $base)"
    nice buildah --storage-driver vfs bud --isolation chroot --pull=false --layers \
      ${platforms:+--platform "$platforms"} --build-arg "DEBIAN_IMAGE=$base" \
      "${build_args[@]}" -t "$tag" -f Dockerfile .
    ctr=$(bah from "$tag")
    trap 'bah rm "$ctr" >/dev/null 2>&1 || true' EXIT
    bah run --isolation chroot "$ctr" -- netpol version
    ;;
  *) die "unknown engine $engine" ;;
esac
log "built $tag with $engine in $((SECONDS - start)) s"
