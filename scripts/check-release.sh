#!/usr/bin/env bash
# Checks that everything that names netpol's version names the same one, before a release:
#
#   - CMakeLists.txt           project(netpol VERSION X.Y.Z)  (what `netpol version` prints)
#   - CHANGELOG.md             a dated section "## [X.Y.Z] - YYYY-MM-DD" below "## [Unreleased]",
#                              and its link reference when the file has link references
#   - Dockerfile               ARG NETPOL_VERSION=X.Y.Z (the image's org.opencontainers.image.version
#                              label when built without scripts/build-image.sh)
#   - ci-templates/network-policy.yml and ci-templates/Auto-DevOps-Network-Policy.gitlab-ci.yml
#                              the default image registry.gitlab.com/netpol/netpol:X.Y.Z
#   - templates/network-policy.yml  the same file as ci-templates/network-policy.yml
#   - README.md                the include snippet's network-policy@X.Y.Z
#   - with --tag TAG           TAG is X.Y.Z (the release job passes $CI_COMMIT_TAG)
#
# Usage: scripts/check-release.sh [--tag TAG] [ROOT]   (ROOT: the source tree, default: this one)
# Exit 0 when all agree; 1 with one line per mismatch on stderr; 2 on a usage error.
set -euo pipefail

tag=""
root=""
while [ $# -gt 0 ]; do
  case "$1" in
  --tag) [ $# -ge 2 ] || { echo "check-release: --tag needs a value" >&2; exit 2; }
    tag=$2; shift 2 ;;
  --tag=*) tag=${1#--tag=}; shift ;;
  -h | --help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  -*) echo "check-release: unknown option $1" >&2; exit 2 ;;
  *) [ -z "$root" ] || { echo "check-release: one ROOT only" >&2; exit 2; }
    root=$1; shift ;;
  esac
done
[ -n "$root" ] || root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

failures=0
mismatch() {
  echo "check-release: $*" >&2
  failures=$((failures + 1))
}

version=$(sed -n 's/^project(netpol VERSION \([0-9][0-9.]*\)[ )].*/\1/p' CMakeLists.txt 2>/dev/null | head -n 1)
if [ -z "$version" ]; then
  echo "check-release: CMakeLists.txt: no project(netpol VERSION X.Y.Z)" >&2
  exit 1
fi
if ! [[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
  mismatch "CMakeLists.txt: version $version is not X.Y.Z"
fi
# Dots as literal dots in the patterns below.
v_re=${version//./\\.}

if [ -n "$tag" ] && [ "$tag" != "$version" ]; then
  mismatch "tag $tag, but CMakeLists.txt says $version"
fi

# CHANGELOG.md: "## [Unreleased]" first, then "## [X.Y.Z] - YYYY-MM-DD".
if [ ! -f CHANGELOG.md ]; then
  mismatch "CHANGELOG.md is missing"
else
  sections=$(grep -E '^## \[' CHANGELOG.md || true)
  first=$(printf '%s\n' "$sections" | sed -n 1p)
  second=$(printf '%s\n' "$sections" | sed -n 2p)
  if [ "$first" != "## [Unreleased]" ]; then
    mismatch "CHANGELOG.md: the first section is '${first:-none}', not '## [Unreleased]'"
  fi
  if ! printf '%s\n' "$second" | grep -Eq "^## \[$v_re\] - [0-9]{4}-[0-9]{2}-[0-9]{2}\$"; then
    mismatch "CHANGELOG.md: the section after [Unreleased] is '${second:-none}', not '## [$version] - YYYY-MM-DD'"
  fi
  if grep -Eq '^\[[^]]+\]: ' CHANGELOG.md && ! grep -Eq "^\[$v_re\]: " CHANGELOG.md; then
    mismatch "CHANGELOG.md: no link reference [$version]: beside the others"
  fi
fi

# Dockerfile: the default of the label's build argument (the runtime stage's).
if [ -f Dockerfile ]; then
  docker_versions=$(sed -n 's/^ARG NETPOL_VERSION=\(.*\)$/\1/p' Dockerfile | sort -u)
  if [ -z "$docker_versions" ]; then
    mismatch "Dockerfile: no ARG NETPOL_VERSION=$version (the image.version label)"
  elif [ "$docker_versions" != "$version" ]; then
    mismatch "Dockerfile: ARG NETPOL_VERSION=$(echo $docker_versions), not $version"
  fi
  if ! grep -q 'org.opencontainers.image.version="${NETPOL_VERSION}"' Dockerfile; then
    mismatch 'Dockerfile: no label org.opencontainers.image.version="${NETPOL_VERSION}"'
  fi
else
  mismatch "Dockerfile is missing"
fi

# The templates' default image.
for template in ci-templates/network-policy.yml ci-templates/Auto-DevOps-Network-Policy.gitlab-ci.yml; do
  if [ ! -f "$template" ]; then
    mismatch "$template is missing"
    continue
  fi
  image=$(sed -n 's/^ *default: \(registry\.gitlab\.com\/netpol\/netpol:.*\)$/\1/p' "$template" | head -n 1)
  if [ "$image" != "registry.gitlab.com/netpol/netpol:$version" ]; then
    mismatch "$template: default image '${image:-none}', not registry.gitlab.com/netpol/netpol:$version"
  fi
done
if ! cmp -s ci-templates/network-policy.yml templates/network-policy.yml; then
  mismatch "templates/network-policy.yml differs from ci-templates/network-policy.yml (the catalog publishes templates/)"
fi

if [ -f README.md ]; then
  readme=$(grep -o 'network-policy@[^ ]*' README.md | sort -u)
  if [ "$readme" != "network-policy@$version" ]; then
    mismatch "README.md: includes $(echo ${readme:-nothing}), not network-policy@$version"
  fi
fi

if [ "$failures" -gt 0 ]; then
  echo "check-release: $failures mismatch(es) for version $version" >&2
  exit 1
fi
echo "check-release: $version everywhere (CMakeLists.txt, CHANGELOG.md, Dockerfile, templates, README.md)${tag:+, tag $tag}"
