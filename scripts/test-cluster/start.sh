#!/usr/bin/env bash
# Usage: start.sh DIR
#
# Starts a throwaway Kubernetes control plane (etcd + a real kube-apiserver v1.20.2) whose
# whole state lives in DIR, and leaves both running in the background. Stop it with
# `stop.sh DIR`. No controllers, scheduler or kubelet run: tests seed the objects they need.
#
# DIR is created with mode 0700 (it holds credentials). It may be new, empty, or one a
# previous start.sh used: that cluster is stopped and its state replaced. On success DIR
# contains:
#   cluster.env   KEY=value lines for tests to source or parse (server URL, CA, tokens,
#                 client certificate, client CA to mint more certificates, etcd URL)
#   kubeconfig    admin kubeconfig (token auth), context netpol-test, namespace default
#   pids          "name=PID" of etcd and kube-apiserver, read by stop.sh
#   etcd.log, apiserver.log
# Ports are free loopback ports picked at run time, so several clusters can run side by side.
#
# Environment:
#   NETPOL_CACHE_DIR        cache root for the kube-apiserver build (see build-apiserver.sh)
#   NETPOL_KUBE_APISERVER   use this kube-apiserver binary instead of the cached build
#   NETPOL_READY_TIMEOUT    seconds to wait for /readyz (default 90)
set -euo pipefail

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ready_timeout=${NETPOL_READY_TIMEOUT:-90}

log() { printf 'start: %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

if [ $# -ne 1 ] || [ -z "$1" ]; then
  printf 'usage: %s DIR\n' "$(basename "$0")" >&2
  exit 2
fi

for tool in etcd openssl curl python3 setsid; do
  command -v "$tool" >/dev/null 2>&1 || die "'$tool' not found; run scripts/install-deps.sh first"
done

# Everything start.sh puts in DIR. A DIR holding only these is one a previous run used (ctest
# reuses build/…/test-cluster): its cluster is stopped and its state wiped, so every run
# starts from an empty etcd. A DIR holding anything else is refused rather than cleaned, so a
# mistyped path can never cost someone their files.
owned=(apiserver-certs apiserver.log cluster.env etcd etcd.log kubeconfig pids pki
  .etcd.pid .kube-apiserver.pid)
if [ -e "$1" ]; then
  [ -d "$1" ] || die "$1 exists and is not a directory"
  for entry in "$1"/* "$1"/.[!.]*; do
    [ -e "$entry" ] || [ -L "$entry" ] || continue
    case " ${owned[*]} " in
      *" $(basename "$entry") "*) ;;
      *) die "$1 holds $(basename "$entry"), which start.sh did not create; use a new or empty directory" ;;
    esac
  done
  if [ -f "$1/pids" ]; then
    log "stopping the cluster a previous run left in $1"
    "$script_dir/stop.sh" "$1"
  fi
  for entry in "${owned[@]}"; do
    rm -rf "${1:?}/$entry"
  done
fi
mkdir -p "$1"
chmod 0700 "$1"
dir=$(cd "$1" && pwd -P)

# Get the binary before anything else: on a fresh machine this is the 4-9 minute build.
if [ -n "${NETPOL_KUBE_APISERVER:-}" ]; then
  apiserver_bin=$NETPOL_KUBE_APISERVER
else
  apiserver_bin=$("$script_dir/build-apiserver.sh" | tail -n1)
fi
[ -x "$apiserver_bin" ] || die "kube-apiserver binary '$apiserver_bin' is not executable"

start_s=$(date +%s)

# openssl prints key-generation noise on stderr; show it only when a step fails.
quiet() {
  local out
  if ! out=$("$@" 2>&1); then
    printf '%s\n' "$out" >&2
    die "command failed: $*"
  fi
}

# --- Free ports ----------------------------------------------------------------------------
# Bind all three sockets at once so the kernel hands out three distinct ports, then release
# them for etcd and the server. Another process could grab one in between; that window is
# tiny and the failure shows clearly in the logs.
read -r etcd_port etcd_peer_port api_port < <(python3 -c '
import socket
socks = []
for _ in range(3):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
')

# --- Credentials ---------------------------------------------------------------------------
pki="$dir/pki"
mkdir -m 0700 "$pki"

# Service-account token signing key pair (required flags since 1.20).
quiet openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$pki/sa.key"
quiet openssl pkey -in "$pki/sa.key" -pubout -out "$pki/sa.pub"

# A client CA, so certificate authentication is tested for real; its key is exported in
# cluster.env so tests can mint certificates for other users and groups.
quiet openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$pki/client-ca.key"
quiet openssl req -x509 -new -key "$pki/client-ca.key" -out "$pki/client-ca.crt" -days 3650 \
  -subj "/CN=netpol-test-client-ca" \
  -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign"

# Client certificate: CN is the user name, O the group; system:masters bypasses RBAC.
quiet openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$pki/cert-admin.key"
quiet openssl req -new -key "$pki/cert-admin.key" -out "$pki/cert-admin.csr" \
  -subj "/O=system:masters/CN=cert-admin"
quiet openssl x509 -req -in "$pki/cert-admin.csr" -out "$pki/cert-admin.crt" -days 365 \
  -CA "$pki/client-ca.crt" -CAkey "$pki/client-ca.key" -CAcreateserial \
  -extfile <(printf '%s\n' "basicConstraints=CA:FALSE" \
    "keyUsage=critical,digitalSignature,keyEncipherment" "extendedKeyUsage=clientAuth")
rm -f "$pki/cert-admin.csr"

# Static bearer tokens (format: token,user,uid[,"groups"]). Random per cluster so a token
# that leaks into a log is worthless. `nobody` and `limited` have no groups and so no rights
# beyond discovery; tests grant `limited` exactly what they want to check.
admin_token=$(openssl rand -hex 24)
nobody_token=$(openssl rand -hex 24)
limited_token=$(openssl rand -hex 24)
(
  umask 077
  printf '%s\n' \
    "$admin_token,admin,uid-admin,\"system:masters\"" \
    "$nobody_token,nobody,uid-nobody" \
    "$limited_token,limited,uid-limited" >"$pki/tokens.csv"
)

# --- Start the processes -------------------------------------------------------------------
# setsid detaches each process from this script's session and terminal, so it keeps running
# after start.sh exits and is not hit by a Ctrl-C or hangup aimed at the caller. The inner
# sh records its own PID and then execs, so the recorded PID is the server's.
: >"$dir/pids"
launch() {
  local name=$1 logfile=$2
  shift 2
  local pidfile="$dir/.$name.pid"
  # shellcheck disable=SC2016 # $$ and $@ are for the inner sh, not this shell
  setsid sh -c 'echo $$ >"$0"; exec "$@"' "$pidfile" "$@" </dev/null >"$logfile" 2>&1 &
  for _ in $(seq 50); do
    [ -s "$pidfile" ] && break
    sleep 0.1
  done
  [ -s "$pidfile" ] || fail "$name did not start"
  printf '%s=%s\n' "$name" "$(cat "$pidfile")" >>"$dir/pids"
  rm -f "$pidfile"
}

pid_of() { sed -n "s/^$1=//p" "$dir/pids"; }

# On any failure from here on: show why, and stop whatever was started so nothing leaks.
fail() {
  log "error: $*"
  local f
  for f in etcd.log apiserver.log; do
    if [ -f "$dir/$f" ]; then
      printf -- '----- last lines of %s -----\n' "$dir/$f" >&2
      tail -n 30 "$dir/$f" >&2
    fi
  done
  "$script_dir/stop.sh" "$dir" >&2 || true
  exit 1
}

etcd_url="http://127.0.0.1:$etcd_port"
etcd_peer_url="http://127.0.0.1:$etcd_peer_port"
log "starting etcd on $etcd_url"
launch etcd "$dir/etcd.log" etcd \
  --name netpol-test \
  --data-dir "$dir/etcd" \
  --listen-client-urls "$etcd_url" \
  --advertise-client-urls "$etcd_url" \
  --listen-peer-urls "$etcd_peer_url" \
  --initial-advertise-peer-urls "$etcd_peer_url" \
  --initial-cluster "netpol-test=$etcd_peer_url" \
  --logger zap

# The server retries etcd, but starting it against a live etcd keeps its log free of
# connection errors that would mislead whoever reads it after a failure.
for _ in $(seq 100); do
  curl -fsS "$etcd_url/health" >/dev/null 2>&1 && break
  kill -0 "$(pid_of etcd)" 2>/dev/null || fail "etcd exited"
  sleep 0.2
done
curl -fsS "$etcd_url/health" >/dev/null 2>&1 || fail "etcd not healthy after 20 s"

server="https://127.0.0.1:$api_port"
cert_dir="$dir/apiserver-certs"
log "starting kube-apiserver on $server"
# --cert-dir: the server writes a self-signed apiserver.crt for 127.0.0.1 (and the service
#   and advertise addresses), which clients trust as the CA with verification on.
# --disable-admission-plugins=ServiceAccount: no controller creates service-account tokens,
#   so that plugin would reject every pod.
# --advertise-address: any address works (nothing dials it); it must not be loopback.
launch kube-apiserver "$dir/apiserver.log" "$apiserver_bin" \
  --etcd-servers="$etcd_url" \
  --bind-address=127.0.0.1 \
  --secure-port="$api_port" \
  --cert-dir="$cert_dir" \
  --client-ca-file="$pki/client-ca.crt" \
  --token-auth-file="$pki/tokens.csv" \
  --authorization-mode=RBAC \
  --service-account-issuer=https://kubernetes.default.svc \
  --service-account-key-file="$pki/sa.pub" \
  --service-account-signing-key-file="$pki/sa.key" \
  --service-cluster-ip-range=10.96.0.0/16 \
  --advertise-address=10.0.0.1 \
  --allow-privileged=true \
  --disable-admission-plugins=ServiceAccount

# --- Wait until ready ----------------------------------------------------------------------
ca="$cert_dir/apiserver.crt"
deadline=$((start_s + ready_timeout))
next_note=$(($(date +%s) + 5))
until [ -f "$ca" ] &&
  curl -fsS --max-time 5 --cacert "$ca" -H "Authorization: Bearer $admin_token" \
    "$server/readyz" >/dev/null 2>&1; do
  kill -0 "$(pid_of kube-apiserver)" 2>/dev/null || fail "kube-apiserver exited"
  kill -0 "$(pid_of etcd)" 2>/dev/null || fail "etcd exited"
  now=$(date +%s)
  [ "$now" -lt "$deadline" ] || fail "kube-apiserver not ready after ${ready_timeout} s"
  if [ "$now" -ge "$next_note" ]; then
    log "waiting for $server/readyz ($((now - start_s)) s)"
    next_note=$((now + 5))
  fi
  sleep 0.5
done

# /readyz can pass a moment before the bootstrap controller has created the `default`
# namespace, which the kubeconfig points at; wait for it so the first test cannot race it.
until curl -fsS --max-time 5 --cacert "$ca" -H "Authorization: Bearer $admin_token" \
  "$server/api/v1/namespaces/default" >/dev/null 2>&1; do
  [ "$(date +%s)" -lt "$deadline" ] || fail "namespace default not created after ${ready_timeout} s"
  sleep 0.2
done

# --- Describe the cluster for tests and clients ---------------------------------------------
# %q quotes only when needed, so plain paths stay plain KEY=value for non-shell parsers.
(
  umask 077
  {
    printf 'NETPOL_TEST_DIR=%q\n' "$dir"
    printf 'NETPOL_TEST_SERVER=%q\n' "$server"
    printf 'NETPOL_TEST_CA=%q\n' "$ca"
    printf 'NETPOL_TEST_ADMIN_TOKEN=%q\n' "$admin_token"
    printf 'NETPOL_TEST_NOBODY_TOKEN=%q\n' "$nobody_token"
    printf 'NETPOL_TEST_LIMITED_TOKEN=%q\n' "$limited_token"
    printf 'NETPOL_TEST_CLIENT_CERT=%q\n' "$pki/cert-admin.crt"
    printf 'NETPOL_TEST_CLIENT_KEY=%q\n' "$pki/cert-admin.key"
    printf 'NETPOL_TEST_CLIENT_CA=%q\n' "$pki/client-ca.crt"
    printf 'NETPOL_TEST_CLIENT_CA_KEY=%q\n' "$pki/client-ca.key"
    printf 'NETPOL_TEST_ETCD=%q\n' "$etcd_url"
    printf 'NETPOL_TEST_KUBECONFIG=%q\n' "$dir/kubeconfig"
  } >"$dir/cluster.env"

  # JSON-style quoting keeps the YAML valid whatever characters the path holds.
  json_str() { python3 -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$1"; }
  cat >"$dir/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: netpol-test
  cluster:
    server: $server
    certificate-authority: $(json_str "$ca")
users:
- name: netpol-test-admin
  user:
    token: $admin_token
contexts:
- name: netpol-test
  context:
    cluster: netpol-test
    user: netpol-test-admin
    namespace: default
current-context: netpol-test
EOF
  chmod 0600 "$dir/kubeconfig"
)

log "ready in $(($(date +%s) - start_s)) s: $server (state in $dir; stop with stop.sh $dir)"
