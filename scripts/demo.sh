#!/usr/bin/env bash
# The main job, end to end: builds netpol, and when no cluster is configured (KUBECONFIG
# unset and no ~/.kube/config) starts the bundled local test cluster, then runs netpol
# against it and shows where the reports are.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release >/dev/null
netpol=build/release/netpol

cluster_dir=""
if [ -z "${KUBECONFIG:-}" ] && [ ! -f "$HOME/.kube/config" ]; then
  cluster_dir="$(mktemp -d -t netpol-demo-XXXXXX)"
  trap 'scripts/test-cluster/stop.sh "$cluster_dir"' EXIT
  echo "demo: no cluster configured; starting the local test cluster in $cluster_dir" >&2
  scripts/test-cluster/start.sh "$cluster_dir" >&2
  export KUBECONFIG="$cluster_dir/kubeconfig"
fi

"$netpol" version
echo >&2
"$netpol" --output-dir netpol-report run || status=$?
echo "demo: reports in $(pwd)/netpol-report:" >&2
ls netpol-report >&2
exit "${status:-0}"
