#!/usr/bin/env bash
# The main job, end to end. Builds netpol; when no cluster is configured (KUBECONFIG unset and
# no ~/.kube/config) it starts the bundled local test cluster, seeds a small app (namespace
# shop: web, api, db) and a Cilium in audit mode whose agents' logs are recorded Hubble flows
# (tests/tools/demo_cluster.cpp), and runs `netpol run` in mode enforce with the policies of
# examples/shop. Against a configured cluster it seeds nothing and runs in mode off (nothing
# applied). Either way it prints the job's summary and where the reports are.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
cmake --preset release -DNETPOL_BUILD_DEMO=ON >/dev/null
cmake --build --preset release --target netpol netpol-demo-cluster >/dev/null
netpol=build/release/netpol
report=netpol-report

cluster_dir=""
demo_pid=""
demo_log=""
cleanup() {
  if [ -n "$demo_pid" ]; then
    kill "$demo_pid" 2>/dev/null || true
    wait "$demo_pid" 2>/dev/null || true
  fi
  if [ -n "$cluster_dir" ]; then scripts/test-cluster/stop.sh "$cluster_dir" >&2 || true; fi
  if [ -n "$demo_log" ]; then rm -f "$demo_log" "$demo_log.out"; fi
}
trap cleanup EXIT

if [ -z "${KUBECONFIG:-}" ] && [ ! -f "$HOME/.kube/config" ]; then
  cluster_dir="$(mktemp -d -t netpol-demo-XXXXXX)"
  echo "demo: no cluster configured; starting the local test cluster in $cluster_dir" >&2
  scripts/test-cluster/start.sh "$cluster_dir" >&2
  export KUBECONFIG="$cluster_dir/kubeconfig"

  # The stand-in cluster: the app, a Cilium in audit mode, and the agents' kubelet (it serves
  # their logs until killed). start.sh accepts only its own files in its directory.
  demo_log="$(mktemp -t netpol-demo-cluster-XXXXXX.log)"
  build/release/tests/tools/netpol-demo-cluster --namespace shop >"$demo_log.out" 2>"$demo_log" &
  demo_pid=$!
  for _ in $(seq 600); do
    if grep -qx ready "$demo_log.out" 2>/dev/null; then break; fi
    if ! kill -0 "$demo_pid" 2>/dev/null; then
      cat "$demo_log" >&2
      echo "demo: netpol-demo-cluster failed" >&2
      exit 1
    fi
    sleep 0.1
  done
  grep -qx ready "$demo_log.out" || { cat "$demo_log" >&2; echo "demo: netpol-demo-cluster not ready in 60 s" >&2; exit 1; }
  cat "$demo_log" >&2

  export CI_PROJECT_ID=1 CI_ENVIRONMENT_SLUG=demo KUBE_NAMESPACE=shop
  export NETWORK_POLICY_MODE=enforce NETWORK_POLICY_PATH=examples/shop/.gitlab/network-policies
  export NETPOL_SINCE=15m
  echo "demo: netpol run in mode enforce, namespace shop, policies $NETWORK_POLICY_PATH" >&2
else
  # Someone's real cluster: look, change nothing.
  export NETWORK_POLICY_MODE=off
  echo "demo: using the configured cluster (${KUBECONFIG:-$HOME/.kube/config}): nothing is seeded" \
    "and the mode is off, so nothing is applied" >&2
fi

"$netpol" version
echo >&2
rm -rf "$report"
status=0
"$netpol" --output-dir "$report" run || status=$?
if [ -s "$report/drop-log.txt" ]; then
  echo
  echo "drop log ($report/drop-log.txt):"
  cat "$report/drop-log.txt"
fi
echo >&2
echo "demo: reports in $(pwd)/$report:" >&2
ls "$report" >&2
open="junit-*.xml (the job's checks, as the merge request shows them)"
if [ -f "$report/plan.txt" ]; then open="plan.txt (what was applied), $open"; fi
if [ -f "$report/drop-log.html" ]; then open="drop-log.html (what was dropped or audited), $open"; fi
echo "demo: open $open" >&2
exit "$status"
