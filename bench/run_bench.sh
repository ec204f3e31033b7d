#!/usr/bin/env bash
# The whole CI job, `netpol run`, against what a user would script instead with kubectl and
# jq, on the real kube-apiserver test cluster seeded by netpol-demo-cluster (the shop app, a
# Cilium in audit mode, two agents whose logs are recorded Hubble flows): detect the provider,
# apply the example policies server-side, collect the dropped and audited flows of the
# namespace from both agents' logs, and write a summary. On loopback and through
# bench/delay_proxy.py (RTT_MS added); median of RUNS runs; netpol/script ratio.
#
# The script is the fair minimum of the same work: one `kubectl get` for the nodes and
# DaemonSets and one for the ConfigMap (detection), `kubectl apply --server-side` of the policy
# folder, `kubectl logs` of every agent at once, and jq keeping DROPPED/AUDIT flows of the
# namespace and counting them by source, destination, port and verdict. It checks no
# permission, validates nothing offline, computes no plan, prunes nothing and writes no JUnit,
# HTML or suggested policy: netpol does all of that too.
#
# usage: bench/run_bench.sh [NETPOL_BINARY] [WORK_DIR]
#   (build: cmake --preset release -DNETPOL_BUILD_DEMO=ON &&
#           cmake --build --preset release --target netpol netpol-demo-cluster)
# Environment: RUNS=5, RTT_MS=25, KUBECTL=PATH (as bench/apply_bench.sh), DEMO_CLUSTER=PATH.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
netpol="$(realpath "${1:-$root/build/release/netpol}")"
work="${2:-${TMPDIR:-/tmp}/netpol-run-bench}"
demo="${DEMO_CLUSTER:-$(dirname "$netpol")/tests/tools/netpol-demo-cluster}"
runs=${RUNS:-5}
rtt=${RTT_MS:-25}
ns=shop

[ -x "$netpol" ] || { echo "run_bench: $netpol is not built" >&2; exit 1; }
[ -x "$demo" ] || { echo "run_bench: $demo is not built (-DNETPOL_BUILD_DEMO=ON)" >&2; exit 1; }
command -v jq >/dev/null || { echo "run_bench: jq is needed for the script" >&2; exit 1; }
if [ -z "${KUBECTL:-}" ]; then
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
[ -n "$KUBECTL" ] || { echo "run_bench: no kubectl found (set KUBECTL)" >&2; exit 1; }

rm -rf "$work"
mkdir -p "$work"
work="$(cd "$work" && pwd)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do
    kill "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  "$root/scripts/test-cluster/stop.sh" "$work/cluster" >/dev/null 2>&1 || true
}
trap cleanup EXIT

"$root/scripts/test-cluster/start.sh" "$work/cluster" 2>&1 | tail -n1 >&2
# shellcheck disable=SC1091 # written by start.sh
source "$work/cluster/cluster.env"
"$demo" --kubeconfig "$work/cluster/kubeconfig" --namespace "$ns" >"$work/demo.out" \
  2>"$work/demo.err" &
pids+=($!)
for _ in $(seq 600); do grep -qx ready "$work/demo.out" 2>/dev/null && break; sleep 0.1; done
grep -qx ready "$work/demo.out" || { cat "$work/demo.err" >&2; exit 1; }

python3 "$here/delay_proxy.py" --upstream "${NETPOL_TEST_SERVER#https://}" --rtt-ms "$rtt" \
  --port-file "$work/proxy.port" >/dev/null &
pids+=($!)
for _ in $(seq 50); do [ -s "$work/proxy.port" ] && break; sleep 0.1; done
[ -s "$work/proxy.port" ] || { echo "run_bench: the proxy did not start" >&2; exit 1; }
cp "$work/cluster/kubeconfig" "$work/kubeconfig-loopback"
sed "s#server: https://127.0.0.1:[0-9]*#server: https://127.0.0.1:$(cat "$work/proxy.port")#" \
  "$work/cluster/kubeconfig" >"$work/kubeconfig-delayed"

policies="$root/examples/shop/.gitlab/network-policies"
since=$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)

netpol_run() { # kubeconfig
  CI_PROJECT_ID=1 CI_ENVIRONMENT_SLUG=bench KUBE_NAMESPACE=$ns NETWORK_POLICY_MODE=enforce \
    NETWORK_POLICY_PATH="$policies" NETPOL_SINCE="$since" \
    "$netpol" --kubeconfig "$1" --output-dir "$work/netpol-report" --quiet run
}

script_run() { # kubeconfig
  local kc=$1 cache out
  cache=$(mktemp -d "$work/kubectl-cache.XXXXXX") # a CI job starts with no discovery cache
  out=$(mktemp -d "$work/script.XXXXXX")
  local k=("$KUBECTL" --kubeconfig "$kc" --cache-dir "$cache")
  # Detect: nodes and DaemonSets, then the Cilium ConfigMap (audit mode, the export).
  "${k[@]}" get nodes,daemonsets -A -o json >"$out/detect.json"
  "${k[@]}" -n kube-system get configmap cilium-config -o json >"$out/cilium-config.json"
  jq -e '.data["policy-audit-mode"]' "$out/cilium-config.json" >/dev/null
  # Apply.
  "${k[@]}" -n "$ns" apply --server-side --field-manager bench -f "$policies" >"$out/apply.txt"
  # The drop log: every agent's log at once, then the namespace's dropped and audited flows
  # counted per source, destination, port and verdict.
  "${k[@]}" -n kube-system get pods -l k8s-app=cilium -o name >"$out/agents.txt"
  xargs -P 8 -I{} sh -c '"$@" -n kube-system logs {} -c cilium-agent --since-time '"$since"' \
    >"'"$out"'/$(basename {}).log"' sh "${k[@]}" <"$out/agents.txt"
  cat "$out"/*.log | jq -cR --arg ns "$ns" 'fromjson? | .flow // empty
      | select(.verdict == "DROPPED" or .verdict == "AUDIT")
      | select(.source.namespace == $ns or .destination.namespace == $ns)' |
    jq -s 'group_by([.verdict, .source.pod_name, .destination.pod_name,
                     (.l4.TCP.destination_port // .l4.UDP.destination_port)])
           | map({verdict: .[0].verdict, count: length})' >"$out/summary.json"
  echo "script summary: $(jq length "$out/summary.json") rows"
}

timed() { # expect command...
  local expect=$1 start end
  shift
  start=$(date +%s%N)
  "$@" >"$work/last.out" 2>"$work/last.err" || {
    echo "run_bench: failed: $*" >&2
    cat "$work/last.out" "$work/last.err" >&2
    exit 1
  }
  end=$(date +%s%N)
  grep -q -- "$expect" "$work/last.out" || {
    echo "run_bench: '$*' did not print '$expect':" >&2
    cat "$work/last.out" "$work/last.err" >&2
    exit 1
  }
  awk "BEGIN{printf \"%.3f\", ($end - $start) / 1e9}"
}
median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END{print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

# The first run of each applies the policies; every later one finds them in place, as a
# pipeline's job does after the first deploy.
timed "applied" netpol_run "$work/kubeconfig-loopback" >/dev/null
timed "rows" script_run "$work/kubeconfig-loopback" >/dev/null
declare -A times
for net in loopback delayed; do
  kc="$work/kubeconfig-$net"
  for run in $(seq "$runs"); do
    if [ $((run % 2)) -eq 1 ]; then
      times[$net-netpol]+=" $(timed "audited flow" netpol_run "$kc")"
      times[$net-script]+=" $(timed "rows" script_run "$kc")"
    else
      times[$net-script]+=" $(timed "rows" script_run "$kc")"
      times[$net-netpol]+=" $(timed "audited flow" netpol_run "$kc")"
    fi
    echo "run_bench: $net run $run/$runs done" >&2
  done
done
netpol_traffic=$(CI_PROJECT_ID=1 CI_ENVIRONMENT_SLUG=bench KUBE_NAMESPACE=$ns \
  NETWORK_POLICY_MODE=enforce NETWORK_POLICY_PATH="$policies" NETPOL_SINCE="$since" \
  "$netpol" --kubeconfig "$work/kubeconfig-loopback" --output-dir "$work/netpol-report" \
  --log-level debug --quiet run 2>&1 >/dev/null | sed -n 's/.*traffic: //p')

echo "netpol run vs kubectl+jq, median of $runs runs, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "netpol: $netpol_traffic"
printf "%-24s %10s %10s %7s %7s %5s\n" scenario "netpol s" "script s" ratio target met
for net in loopback delayed; do
  np=$(echo "${times[$net-netpol]}" | median)
  sc=$(echo "${times[$net-script]}" | median)
  ratio=$(awk "BEGIN{printf \"%.3f\", $np / $sc}")
  label="run job, $([ "$net" = loopback ] && echo loopback || echo "+${rtt} ms RTT")"
  goal=$([ "$net" = delayed ] && echo 0.1 || echo -)
  met=$([ "$goal" = - ] && echo - || awk "BEGIN{print ($ratio <= $goal) ? \"yes\" : \"NO\"}")
  printf "%-24s %10.3f %10.3f %7s %7s %5s\n" "$label" "$np" "$sc" "$ratio" "≤$goal" "$met"
done
echo "raw seconds:" >&2
for k in "${!times[@]}"; do echo "  $k:${times[$k]}" >&2; done
