#!/usr/bin/env bash
# Assembles the root file system of the netpol image: the Dockerfile's rootfs stage runs this
# and the runtime stage is `FROM scratch` plus the result, and tests/ci/test_image_rootfs.py
# runs it on the build machine, so what the image holds is tested without a container engine.
#
# Usage: scripts/image-rootfs.sh ROOT NETPOL HELM CHART
#   ROOT    directory to create (must not exist, or be empty)
#   NETPOL  the netpol binary (copied stripped to /usr/local/bin/netpol)
#   HELM    a static helm binary (/usr/local/bin/helm)
#   CHART   the packaged Cilium chart (/usr/share/netpol/charts/cilium.tgz, as given)
# Environment:
#   BUSYBOX    a static busybox (default /bin/busybox, Debian's busybox-static): /bin/sh and
#              the basic tools a job's `script:` lines use
#   CA_BUNDLE  the CA certificates (default /etc/ssl/certs/ca-certificates.crt)
#   STRIP      strip program (default strip)
#
# The root holds exactly: netpol, helm, the chart; the shared libraries `ldd` names for netpol
# and the dynamic loader, at the paths ldd names; busybox and its applet links; the CA bundle;
# /etc/passwd, /etc/group (root, and netpol uid/gid 10001) and /etc/nsswitch.conf; /tmp
# (1777); /home/netpol (owned by 10001); and for image scanners and licences, the dpkg records
# (/var/lib/dpkg/status.d/PACKAGE), /usr/share/doc/PACKAGE/copyright and /etc/os-release of the
# Debian packages those files come from. Everything is owned by root except /home/netpol.
# Binaries run here (ldd, busybox --list-full), so this runs on the platform it builds for:
# the Dockerfile's stages are built per target platform.
set -euo pipefail
umask 022

log() { printf 'image-rootfs: %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

[ $# -eq 4 ] || die "usage: $0 ROOT NETPOL HELM CHART"
root=$1 netpol=$2 helm=$3 chart=$4
busybox=${BUSYBOX:-/bin/busybox}
ca_bundle=${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}
strip=${STRIP:-strip}
readonly uid=10001

[ "$(id -u)" -eq 0 ] || die "must run as root (the root's files are owned by root and uid $uid)"
for f in "$netpol" "$helm" "$busybox"; do
  if [ ! -f "$f" ] || [ ! -x "$f" ]; then die "$f is not an executable file"; fi
done
[ -f "$chart" ] || die "chart $chart not found"
[ -s "$ca_bundle" ] || die "CA bundle $ca_bundle not found (Debian: ca-certificates)"
if [ -e "$root" ] && [ -n "$(ls -A "$root")" ]; then die "$root is not empty"; fi
command -v dpkg-query >/dev/null || die "dpkg-query not found: this assembles from Debian"

# The ELF machine field (bytes 18-19): every binary must be for the same platform as netpol,
# or the image would carry a helm (or shell) that cannot run.
elf_machine() {
  [ "$(head -c 4 "$1" | od -An -c | tr -d ' ')" = '177ELF' ] || die "$1 is not an ELF file"
  od -An -tx1 -j18 -N2 "$1" | tr -d ' \n'
}
machine=$(elf_machine "$netpol")
for f in "$helm" "$busybox"; do
  [ "$(elf_machine "$f")" = "$machine" ] || die "$f is built for another platform than $netpol"
  # Static: nothing else to copy for them, and nothing that can go missing.
  if ldd "$f" >/dev/null 2>&1; then die "$f is dynamically linked; a static binary is needed"; fi
done

# Absolute paths: the rest runs inside ROOT.
netpol=$(realpath "$netpol") helm=$(realpath "$helm") chart=$(realpath "$chart")
busybox=$(realpath "$busybox") ca_bundle=$(realpath "$ca_bundle")
mkdir -p "$root"
cd "$root"
root=$PWD
mkdir -p bin etc/ssl/certs tmp home/netpol usr/local/bin usr/share/netpol/charts \
  var/lib/dpkg/status.d
chmod 1777 tmp

"$strip" --strip-all -o usr/local/bin/netpol "$netpol"
chmod 0755 usr/local/bin/netpol
install -m 0755 "$helm" usr/local/bin/helm
install -m 0644 "$chart" usr/share/netpol/charts/cilium.tgz

# --- the shared libraries and the loader, each at the path ldd names (the loader searches
# its default directories; a scratch image has no ld.so.cache)
deps=$(ldd usr/local/bin/netpol) || die "ldd cannot read $netpol"
missing=$(awk '/not found/ {print $1}' <<<"$deps")
[ -z "$missing" ] || die "libraries of netpol not installed: ${missing//$'\n'/ }"
files_from_debian=()
while read -r path; do
  mkdir -p "$root$(dirname "$path")"
  cp -L "$path" "$root$path"
  files_from_debian+=("$path")
done < <(awk '$2 == "=>" && $3 ~ /^\// {print $3; next} $1 ~ /^\// {print $1}' <<<"$deps")
[ ${#files_from_debian[@]} -gt 0 ] || die "ldd names no library: netpol is expected to be dynamic"

# --- the shell and the basic tools: busybox and a link for each applet where it usually lives
install -m 0755 "$busybox" bin/busybox
files_from_debian+=("$busybox")
while read -r applet; do
  case "$applet" in "" | bin/busybox) continue ;; esac
  mkdir -p "$(dirname "$applet")"
  [ -e "$applet" ] || [ -L "$applet" ] || ln -s /bin/busybox "$applet"
done < <("$busybox" --list-full)
[ -L bin/sh ] || die "$busybox has no sh applet"

# --- users, name service, certificates
cat >etc/passwd <<EOF
root:x:0:0:root:/:/bin/sh
netpol:x:$uid:$uid:netpol:/home/netpol:/bin/sh
EOF
cat >etc/group <<EOF
root:x:0:
netpol:x:$uid:
EOF
# /etc/hosts before DNS, as on Debian (glibc and Go both read this; without it glibc asks DNS
# first).
cat >etc/nsswitch.conf <<'EOF'
passwd: files
group:  files
hosts:  files dns
EOF
install -m 0644 "$ca_bundle" etc/ssl/certs/ca-certificates.crt

# --- what scanners and licences need: the Debian packages the files above come from (one
# dpkg-query for all: it reads the whole package database each time)
candidates() { printf '%s\n' "$1" "$(readlink -f "$1")" "/usr$1" "${1#/usr}"; }
mapfile -t paths < <(for f in "${files_from_debian[@]}"; do candidates "$f"; done)
owners=$(dpkg-query -S "${paths[@]}" 2>/dev/null) || true
packages=()
for f in "${files_from_debian[@]}"; do
  pkg=$(candidates "$f" | awk -F': ' 'NR == FNR {want[$0]; next}
    ($2 in want) {split($1, p, ", "); sub(/:.*/, "", p[1]); print p[1]; exit}' - <(echo "$owners"))
  [ -n "$pkg" ] || die "no Debian package owns $f"
  packages+=("$pkg")
done
# The bundle is generated by update-ca-certificates, so dpkg does not list it as a file.
dpkg-query -W ca-certificates >/dev/null 2>&1 && packages+=(ca-certificates)
mapfile -t packages < <(printf '%s\n' "${packages[@]}" | sort -u)
dpkg-query -s "${packages[@]}" | awk '/^Package: / {out = "var/lib/dpkg/status.d/" $2}
  {print > out}'
for pkg in "${packages[@]}"; do
  doc=/usr/share/doc/$pkg/copyright
  if [ -f "$doc" ]; then
    mkdir -p "usr/share/doc/$pkg"
    install -m 0644 "$doc" "usr/share/doc/$pkg/copyright"
  fi
done
install -m 0644 "$(readlink -f /etc/os-release)" etc/os-release

chown -R 0:0 "$root"
chown "$uid:$uid" home/netpol
log "assembled $root: $(du -sh --apparent-size . | cut -f1)B, ${#packages[@]} Debian packages"
