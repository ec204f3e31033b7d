#!/usr/bin/env bash
# Drop-log throughput and memory: `netpol drops --from-file` against `jq` selecting the same
# flows, on generated Hubble exporter logs (bench/droplog_gen.py). Needs an optimised build:
#   cmake --preset release && cmake --build --preset release --target netpol
# usage: bench/droplog_bench.sh [NETPOL_BINARY] [WORK_DIR]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
netpol="${1:-$here/../build/release/netpol}"
work="${2:-${TMPDIR:-/tmp}/netpol-droplog-bench}"
mkdir -p "$work"

gen() { [ -s "$work/$1" ] || python3 "$here/droplog_gen.py" "$work/$1" "$2" "$3" ${4:-}; }
gen mixed-100mb.jsonl 100 4
gen drops-100mb.jsonl 100 100
gen logfmt-100mb.log 100 4 --logfmt
# 1 GB: the 100 MB mixed log ten times (generating it anew takes minutes and shows nothing more)
[ -s "$work/mixed-1gb.jsonl" ] || for _ in 1 2 3 4 5 6 7 8 9 10; do cat "$work/mixed-100mb.jsonl"; done >"$work/mixed-1gb.jsonl"

# best of N runs: prints "seconds max_rss_kb"
measure() {
  local best="" rss=""
  for _ in 1 2 3; do
    local out
    out=$( { /usr/bin/time -f "%e %M" "$@" >/dev/null 2>/dev/null; } 2>&1 | tail -1)
    local s=${out% *} m=${out#* }
    if [ -z "$best" ] || awk "BEGIN{exit !($s < $best)}"; then best=$s; fi
    if [ -z "$rss" ] || [ "$m" -gt "$rss" ]; then rss=$m; fi
  done
  echo "$best $rss"
}

printf "%-20s %8s %9s %10s %9s %9s %9s %7s\n" log MB "netpol s" "netpol MB/s" "RSS MB" "jq s" "jq MB/s" "ratio"
for f in mixed-100mb.jsonl drops-100mb.jsonl logfmt-100mb.log mixed-1gb.jsonl; do
  path="$work/$f"
  mb=$(awk "BEGIN{printf \"%.1f\", $(stat -c %s "$path")/1e6}")
  read -r ns nrss < <(measure "$netpol" --quiet --output-dir "$work/out" drops -A --from-file "$path")
  if [ "$f" = logfmt-100mb.log ]; then
    # jq cannot read logfmt: no baseline
    js="-"; jmbs="-"; ratio="-"
  else
    js=$( { /usr/bin/time -f "%e" jq -c 'select(.flow.verdict == "DROPPED" or .flow.verdict == "AUDIT")' "$path" >/dev/null; } 2>&1 | tail -1)
    jmbs=$(awk "BEGIN{printf \"%.0f\", $mb/$js}")
    ratio=$(awk "BEGIN{printf \"%.1fx\", $js/$ns}")
  fi
  printf "%-20s %8s %9s %10.0f %9.1f %9s %9s %7s\n" "$f" "$mb" "$ns" "$(awk "BEGIN{print $mb/$ns}")" \
    "$(awk "BEGIN{print $nrss/1024}")" "$js" "$jmbs" "$ratio"
done
