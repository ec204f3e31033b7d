#!/usr/bin/env bash
# End-to-end run of the netpol image on a real cluster with a real Cilium (the GitLab job
# e2e:kind-cilium; needs docker, Docker-in-Docker is fine, and kind):
#   1. kind cluster without a CNI: `netpol detect` must find no enforcing provider;
#   2. `netpol install-cilium` from the chart in the image (audit mode), then `detect` must
#      find Cilium enforcing in audit mode;
#   3. a server in namespace shop and a client elsewhere; the CI component's command,
#      `netpol run` in audit mode with the namespace-isolation profile, must apply the policy,
#      and after the client's request the drop log must hold the audited flow.
# Reports land in netpol-report/ (the job's artifacts).
# Usage: scripts/e2e-kind.sh IMAGE
set -euo pipefail
cd "$(dirname "$0")/.."

image=${1:?usage: scripts/e2e-kind.sh IMAGE}
cluster=netpol-e2e
work=$(mktemp -d)
kubeconfig=$work/kubeconfig
report=$PWD/netpol-report
mkdir -p "$report"

log() { printf 'e2e-kind: %s\n' "$*" >&2; }
die() {
  log "FAILED: $*"
  exit 1
}
cleanup() { kind delete cluster --name "$cluster" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT

cat >"$work/kind.yaml" <<'EOF'
kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
networking:
  disableDefaultCNI: true
nodes:
  - role: control-plane
  - role: worker
EOF
kind create cluster --name "$cluster" --config "$work/kind.yaml" --kubeconfig "$kubeconfig"
chmod 0644 "$kubeconfig" # read by the image's non-root user

kubectl() { docker exec -i "$cluster-control-plane" kubectl --kubeconfig /etc/kubernetes/admin.conf "$@"; }

# Runs `netpol ARGS` in the image on the docker host's network (where kind's API server
# listens), with the kubeconfig copied in (no bind mounts: the engine may be remote), and
# copies the reports out. Environment: NETPOL_ENV (array of KEY=VALUE).
netpol() {
  local id rc=0 env_args=()
  for e in "${NETPOL_ENV[@]}"; do env_args+=(-e "$e"); done
  id=$(docker create --network host -e KUBECONFIG=/home/netpol/kubeconfig "${env_args[@]}" \
    "$image" netpol --output-dir /home/netpol/netpol-report "$@")
  docker cp "$kubeconfig" "$id:/home/netpol/kubeconfig"
  [ ! -d "$work/policies" ] || docker cp "$work/policies" "$id:/home/netpol/policies"
  docker start -a "$id" || rc=$?
  docker cp "$id:/home/netpol/netpol-report/." "$report/" 2>/dev/null || true
  docker rm "$id" >/dev/null
  return "$rc"
}
env_value() { sed -n "s/^$1=//p" "$report/netpol.env"; }

NETPOL_ENV=()
log "1. detect on a cluster without a CNI"
netpol detect || die "detect exited $?"
[ "$(env_value NETPOL_ENFORCES)" = "false" ] || die "NETPOL_ENFORCES is not false without a CNI"

log "2. install-cilium from the bundled chart"
netpol install-cilium || die "install-cilium exited $?"
netpol detect || die "detect after install exited $?"
[ "$(env_value NETPOL_PROVIDER)" = "cilium" ] || die "provider is not cilium"
[ "$(env_value NETPOL_AUDIT_MODE)" = "true" ] || die "Cilium is not in audit mode"
kubectl wait --for=condition=Ready nodes --all --timeout=300s

log "3. netpol run (audit, namespace-isolation) and an audited flow"
kubectl create namespace shop
kubectl create namespace outside
kubectl -n shop run server --image=nginx:1.27 --labels=app=server --port=80
kubectl -n shop expose pod server --port=80
kubectl -n outside run client --image=busybox:1.36 --restart=Never -- sleep 3600
kubectl -n shop wait --for=condition=Ready pod/server --timeout=300s
kubectl -n outside wait --for=condition=Ready pod/client --timeout=300s
NETPOL_ENV=(KUBE_NAMESPACE=shop NETWORK_POLICY_MODE=audit
  NETWORK_POLICY_DEFAULT=namespace-isolation NETWORK_POLICY_REQUIRE_ENFORCEMENT=true
  NETWORK_POLICY_DROP_LOG=false CI_PROJECT_ID=1 CI_ENVIRONMENT_SLUG=e2e)
netpol run || die "run exited $?"
kubectl -n shop get networkpolicies -l app.kubernetes.io/managed-by=netpol -o name | grep -q . \
  || die "no policy applied in audit mode"
# Denied by the isolation policy, allowed by audit mode: the request succeeds and is audited.
kubectl -n outside exec client -- wget -qO- -T 5 http://server.shop >/dev/null \
  || die "audit mode blocked traffic"
sleep 10 # the agent's exporter writes flows asynchronously
NETPOL_ENV=(KUBE_NAMESPACE=shop NETPOL_SINCE=15m)
netpol drops || die "drops exited $?"
grep -q '"AUDIT"' "$report/drop-log.jsonl" || die "the audited flow is not in the drop log"
log "passed"
