#!/usr/bin/env bash
# Usage: stop.sh DIR
#
# Stops the etcd and kube-apiserver that `start.sh DIR` started: SIGTERM, then SIGKILL for
# whatever is still alive 5 s later. Idempotent: a missing DIR, a missing pids file or
# processes that are already gone are fine. DIR itself (logs, etcd data) is left for
# inspection; delete it when done.
#
# Only PIDs listed in DIR/pids are signalled, and only while their command line still names
# DIR: a PID the kernel has since handed to an unrelated process is left alone.
set -euo pipefail

log() { printf 'stop: %s\n' "$*" >&2; }

if [ $# -ne 1 ] || [ -z "$1" ]; then
  printf 'usage: %s DIR\n' "$(basename "$0")" >&2
  exit 2
fi
if [ ! -d "$1" ]; then
  log "$1 does not exist; nothing to stop"
  exit 0
fi
dir=$(cd "$1" && pwd -P)
pids_file="$dir/pids"
if [ ! -f "$pids_file" ]; then
  log "no $pids_file; nothing to stop"
  exit 0
fi

# Alive means running: a zombie (exited, not yet reaped by its parent) counts as stopped,
# otherwise a caller that is still the parent would always wait for the SIGKILL.
alive() {
  local state
  state=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null) || return 1
  [ -n "$state" ] && [ "$state" != Z ]
}

# Every process start.sh launches has DIR in its arguments (--data-dir, --cert-dir).
ours() {
  tr '\0' '\n' <"/proc/$1/cmdline" 2>/dev/null | grep -qF -- "$dir/"
}

# SIGTERM, wait up to 5 s for a clean exit (etcd flushes its data), then SIGKILL.
stop_one() {
  local name=$1 pid=$2
  if ! alive "$pid"; then
    log "$name (pid $pid) is not running"
    return 0
  fi
  if ! ours "$pid"; then
    log "pid $pid is no longer $name of this cluster; leaving it alone"
    return 0
  fi
  log "stopping $name (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 50); do
    alive "$pid" || return 0
    sleep 0.1
  done
  if alive "$pid" && ours "$pid"; then
    log "$name (pid $pid) ignored SIGTERM for 5 s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    # SIGKILL is not instant either; return only once the port and files are released.
    for _ in $(seq 20); do
      alive "$pid" || return 0
      sleep 0.1
    done
    log "$name (pid $pid) still running after SIGKILL"
  fi
}

names=()
pids=()
while IFS='=' read -r name pid; do
  [ -n "$name" ] || continue
  case $pid in
    '' | *[!0-9]*)
      log "ignoring malformed line '$name=$pid' in $pids_file"
      continue
      ;;
  esac
  names+=("$name")
  pids+=("$pid")
done <"$pids_file"

# Reverse start order: the API server first, while etcd still answers. With etcd gone first
# the server keeps retrying it and only exits on SIGKILL.
for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
  stop_one "${names[i]}" "${pids[i]}"
done

rm -f "$pids_file"
log "stopped"
