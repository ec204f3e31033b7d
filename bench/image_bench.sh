#!/usr/bin/env bash
# The image's size and start-up, measured on the root file system scripts/image-rootfs.sh
# assembles (what the Dockerfile's runtime stage holds), not on a pulled image: du of each
# part, the root as an uncompressed and a gzip-compressed tar (about what a layer is), and
# the time from starting `chroot ROOT netpol version` to its first line (20 runs after 3 warm-up
# runs; hyperfine also times whole runs when installed). Needs root (chroot) and Debian's
# busybox-static.
#
# Usage: bench/image_bench.sh [NETPOL] [CHART]
#   NETPOL  default build/release/netpol
#   CHART   default cilium-<pinned version>.tgz in $NETPOL_CILIUM_CHARTS_DIR
set -euo pipefail
cd "$(dirname "$0")/.."

netpol=${1:-build/release/netpol}
version=$(sed -n 's/.*k_chart_version = "\(.*\)";/\1/p' src/cilium/defaults.hpp)
chart=${2:-${NETPOL_CILIUM_CHARTS_DIR:?set NETPOL_CILIUM_CHARTS_DIR or give CHART}/cilium-$version.tgz}
helm=$(scripts/test-cluster/get-helm.sh 3 | tail -n 1)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/root
nice scripts/image-rootfs.sh "$root" "$netpol" "$helm" "$chart"

mb() { awk -v b="$1" 'BEGIN {printf "%.2f", b / 1e6}'; }
part() { (cd "$root" && du -s --block-size=1 --total "$@" 2>/dev/null | tail -n 1 | cut -f1); }
printf '| part | MB |\n|---|---:|\n'
printf '| libraries (%s files, with the loader) | %s |\n' \
  "$(find "$root"/lib* "$root"/usr/lib* -type f 2>/dev/null | wc -l)" "$(mb "$(part lib lib64 usr/lib)")"
printf '| netpol | %s |\n' "$(mb "$(part usr/local/bin/netpol)")"
printf '| helm | %s |\n' "$(mb "$(part usr/local/bin/helm)")"
printf '| chart | %s |\n' "$(mb "$(part usr/share/netpol/charts)")"
printf '| shell (busybox) | %s |\n' "$(mb "$(part bin/busybox)")"
printf '| CA bundle | %s |\n' "$(mb "$(part etc/ssl)")"
printf '| package records and copyrights | %s |\n' "$(mb "$(part var/lib/dpkg usr/share/doc)")"
printf '| **total** (du) | **%s** |\n' "$(mb "$(part .)")"
printf '| as a tar / gzip -6 | %s / %s |\n' "$(mb "$(tar -C "$root" -cf - . | wc -c)")" \
  "$(mb "$(tar -C "$root" -cf - . | gzip -6 | wc -c)")"

run() { chroot "$root" /usr/local/bin/netpol version; }
for _ in 1 2 3; do run >/dev/null; done
# bash's EPOCHREALTIME (microseconds) rather than date(1): no process of its own to time.
us() { echo "${1/[.,]/}"; }
times=()
for _ in $(seq 20); do
  start=$EPOCHREALTIME
  end=$(run | { read -r _; echo "$EPOCHREALTIME"; cat >/dev/null; })
  times+=($(($(us "$end") - $(us "$start"))))
done
printf '%s\n' "${times[@]}" | sort -n | awk '{t[NR] = $1} END {
  printf "start to first line of netpol version: median %.1f ms, min %.1f ms, max %.1f ms (%d runs)\n",
    (NR % 2 ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2) / 1000, t[1] / 1000, t[NR] / 1000, NR}'
if command -v hyperfine >/dev/null; then
  hyperfine -N --warmup 3 --runs 30 "chroot $root /usr/local/bin/netpol version" \
    "chroot $root /bin/sh -c 'helm version --short'"
fi
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
