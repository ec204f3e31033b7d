#!/usr/bin/env bash
# `netpol apply` against `kubectl apply --server-side` on the real kube-apiserver test
# cluster: N generated NetworkPolicies (bench/apply_gen.py) into a fresh namespace (first
# apply) and the same again (unchanged re-apply), on loopback and through
# bench/delay_proxy.py, which adds RTT_MS of round-trip time. Prints the median of RUNS
# runs of each and the netpol/kubectl ratio. Needs an optimised build:
#   cmake --preset release && nice cmake --build --preset release --target netpol
#
# usage: bench/apply_bench.sh [NETPOL_BINARY] [WORK_DIR]
# Environment:
#   RUNS=5          runs per figure (the median is shown)
#   N=200           policies
#   RTT_MS=25       round-trip time the proxy adds
#   KUBECTL=PATH    the kubectl binary (default: the oldest real kubectl.1.NN found beside
#                   the kubectl dispatcher, else `kubectl`)
#   CLUSTER_DIR=DIR a cluster scripts/test-cluster/start.sh started; without it one is
#                   started in WORK_DIR/cluster and stopped at the end
# Every measurement applies into its own new namespace: the test cluster cannot delete
# namespaces (no controllers run), so each run leaves 2×N policies behind.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
netpol="$(realpath "${1:-$root/build/release/netpol}")"
work="${2:-${TMPDIR:-/tmp}/netpol-apply-bench}"
runs=${RUNS:-5}
n=${N:-200}
rtt=${RTT_MS:-25}

[ -x "$netpol" ] || { echo "apply_bench: $netpol is not built" >&2; exit 1; }
if [ -z "${KUBECTL:-}" ]; then
  # The closest to the test cluster's 1.20 server is the oldest real binary.
  dispatcher=$(command -v kubectl || true)
  if [ -n "$dispatcher" ]; then
    for minor in $(seq 20 40); do
      candidate="$(dirname "$(readlink -f "$dispatcher")")/kubectl.1.$minor"
      if [ -x "$candidate" ]; then
        KUBECTL=$candidate
        break
      fi
    done
  fi
  KUBECTL=${KUBECTL:-$dispatcher}
fi
[ -n "$KUBECTL" ] || { echo "apply_bench: no kubectl found (set KUBECTL)" >&2; exit 1; }

rm -rf "$work"
mkdir -p "$work"
work="$(cd "$work" && pwd)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  if [ -z "${CLUSTER_DIR:-}" ] && [ -f "$work/cluster/pids" ]; then
    "$root/scripts/test-cluster/stop.sh" "$work/cluster" >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT

cluster=${CLUSTER_DIR:-$work/cluster}
if [ -z "${CLUSTER_DIR:-}" ]; then
  "$root/scripts/test-cluster/start.sh" "$cluster" 2>&1 | tail -n1 >&2
fi
# shellcheck disable=SC1091 # written by start.sh
source "$cluster/cluster.env"

python3 "$here/apply_gen.py" "$work/policies" "$n"
# What an earlier `netpol detect` would have written for an enforcing provider.
echo '{"flavor":"generic","provider":{"name":"cilium","enforces_network_policy":true}}' \
  >"$work/provider.json"

# The proxy listens on 127.0.0.1 too, so the server certificate (issued for 127.0.0.1)
# still verifies: only the port in the kubeconfig changes.
python3 "$here/delay_proxy.py" --upstream "${NETPOL_TEST_SERVER#https://}" --rtt-ms "$rtt" \
  --port-file "$work/proxy.port" >/dev/null &
pids+=($!)
for _ in $(seq 50); do [ -s "$work/proxy.port" ] && break; sleep 0.1; done
[ -s "$work/proxy.port" ] || { echo "apply_bench: the proxy did not start" >&2; exit 1; }
cp "$cluster/kubeconfig" "$work/kubeconfig-loopback"
sed "s#server: https://127.0.0.1:[0-9]*#server: https://127.0.0.1:$(cat "$work/proxy.port")#" \
  "$cluster/kubeconfig" >"$work/kubeconfig-delayed"

create_namespace() {
  local ns=$1
  curl -fsS --cacert "$NETPOL_TEST_CA" -H "Authorization: Bearer $NETPOL_TEST_ADMIN_TOKEN" \
    -H 'Content-Type: application/json' -X POST "$NETPOL_TEST_SERVER/api/v1/namespaces" \
    -d "{\"metadata\":{\"name\":\"$ns\"}}" >/dev/null
}

# Runs the command, checks its output has $1, prints the wall time in seconds.
timed() {
  local expect=$1
  shift
  local start end
  start=$(date +%s%N)
  "$@" >"$work/last.out" 2>"$work/last.err" || {
    echo "apply_bench: failed: $*" >&2
    cat "$work/last.err" >&2
    exit 1
  }
  end=$(date +%s%N)
  grep -q -- "$expect" "$work/last.out" || {
    echo "apply_bench: '$*' did not print '$expect':" >&2
    cat "$work/last.out" "$work/last.err" >&2
    exit 1
  }
  awk "BEGIN{printf \"%.3f\", ($end - $start) / 1e9}"
}

netpol_apply() { # kubeconfig namespace
  CI_PROJECT_ID=4 CI_ENVIRONMENT_SLUG=bench "$netpol" --kubeconfig "$1" -n "$2" \
    --output-dir "$work/out-$2" apply --policies "$work/policies" --mode enforce \
    --provider-file "$work/provider.json"
}
kubectl_apply() { # kubeconfig namespace
  local cache
  cache=$(mktemp -d "$work/kubectl-cache.XXXXXX")
  "$KUBECTL" --kubeconfig "$1" --cache-dir "$cache" -n "$2" apply --server-side \
    -f "$work/policies"
}

median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END{print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

declare -A times
for net in loopback delayed; do
  kc="$work/kubeconfig-$net"
  for run in $(seq "$runs"); do
    ns_n="bench-netpol-$net-$run-$$"
    ns_k="bench-kubectl-$net-$run-$$"
    create_namespace "$ns_n"
    create_namespace "$ns_k"
    # Alternate who goes first, so a slow moment of the shared machine hits both alike.
    if [ $((run % 2)) -eq 1 ]; then
      times[$net-netpol-first]+=" $(timed "$n applied, 0 unchanged" netpol_apply "$kc" "$ns_n")"
      times[$net-kubectl-first]+=" $(timed serverside-applied kubectl_apply "$kc" "$ns_k")"
    else
      times[$net-kubectl-first]+=" $(timed serverside-applied kubectl_apply "$kc" "$ns_k")"
      times[$net-netpol-first]+=" $(timed "$n applied, 0 unchanged" netpol_apply "$kc" "$ns_n")"
    fi
    times[$net-netpol-again]+=" $(timed "0 applied, $n unchanged" netpol_apply "$kc" "$ns_n")"
    times[$net-kubectl-again]+=" $(timed serverside-applied kubectl_apply "$kc" "$ns_k")"
    echo "apply_bench: $net run $run/$runs done" >&2
  done
done

target() { awk "BEGIN{print ($1 <= $2) ? \"yes\" : \"NO\"}"; }
echo "$n NetworkPolicies, median of $runs runs, $(nproc) cores; kubectl: $("$KUBECTL" version --client -o json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["clientVersion"]["gitVersion"])')"
printf "%-34s %10s %10s %7s %7s %5s\n" scenario "netpol s" "kubectl s" ratio target met
for net in loopback delayed; do
  for what in first again; do
    np=$(echo "${times[$net-netpol-$what]}" | median)
    kc=$(echo "${times[$net-kubectl-$what]}" | median)
    ratio=$(awk "BEGIN{printf \"%.3f\", $np / $kc}")
    case $net-$what in
      loopback-first) goal=0.5 ;;
      delayed-first) goal=0.25 ;;
      *) goal=0.1 ;;
    esac
    label="$([ "$what" = first ] && echo "first apply" || echo "unchanged re-apply"), $([ "$net" = loopback ] && echo loopback || echo "+${rtt} ms RTT")"
    printf "%-34s %10.3f %10.3f %7s %7s %5s\n" "$label" "$np" "$kc" "$ratio" "≤$goal" "$(target "$ratio" "$goal")"
  done
done
echo "raw seconds:" >&2
for k in "${!times[@]}"; do echo "  $k:${times[$k]}" >&2; done
