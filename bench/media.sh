#!/usr/bin/env bash
# The media engine's sweeps: hold music to many queued callers, and bridged
# calls relaying RTP both ways (benches/media.rs, over loopback).
#
#   hold N SECS    N streams loop prompts/hold-en.wav from the one 20 ms
#                  ticker; the target is packet spacing p99 under 5 ms off
#                  20 ms and no packet-rate drift (received within 1 % of
#                  50 per second per stream).
#   relay N SECS   N bridged pairs, a phone on each side sending 50 packets
#                  a second; the target is relay latency p99 under 2 ms
#                  with at least 99.9 % of the packets sent arriving in
#                  every run (the last ones sent can still be in flight
#                  when the receivers stop).
#
# Each count runs RUNS times; the table shows the median p99 (and the
# runs' range) and whether the median meets the target. The highest count
# meeting it is printed last. The server's two worker threads and the
# phones share this machine's cores, so the figures are upper bounds.
#
# Usage: bench/media.sh                 both sweeps
#        bench/media.sh hold|relay      one of them
# Settings (environment):
#   HOLD_COUNTS="500 1000 1500 2000 2500 3000"   streams
#   RELAY_COUNTS="100 250 500 1000 1500"    bridged pairs
#   RUNS=3                                   runs per count (median reported)
#   SECS=10                                  seconds per run
#   OUT=DIR                                  keep the raw lines there
# Everything is on 127.0.0.1 and each run stops by itself.
set -euo pipefail
cd "$(dirname "$0")/.."

HOLD_COUNTS=${HOLD_COUNTS:-"500 1000 1500 2000 2500 3000"}
RELAY_COUNTS=${RELAY_COUNTS:-"100 250 500 1000 1500"}
RUNS=${RUNS:-3}
SECS=${SECS:-10}
OUT=${OUT:-$(mktemp -d -t dialect-media.XXXXXX)}
WHICH=${1:-both}
mkdir -p "$OUT"

echo "# building benches/media.rs (release)" >&2
cargo bench --features bench --bench media --no-run >"$OUT/build.log" 2>&1 || {
    cat "$OUT/build.log" >&2
    exit 1
}
{
    echo "# $(date -u +%FT%TZ) $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
    echo "# $(nproc) cores; load average at the start $(cut -d' ' -f1-3 /proc/loadavg)"
} >"$OUT/meta.txt"

run() { # mode count -> the bench's one line
    cargo bench --quiet --features bench --bench media -- "$1" "$2" "$SECS" 2>>"$OUT/stderr.log" |
        grep -E "^$1: "
}

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
range() { sort -g | awk 'NR==1{lo=$1} {hi=$1} END {printf "%s–%s", lo, hi}'; }

sweep() { # mode counts
    local mode=$1 counts=$2 best="none"
    if [ "$mode" = hold ]; then
        echo "| streams | spacing p99 (ms, median) | runs | max (ms) | packets vs expected | server CPU (% of one core) | late ticks | target |"
        echo "|---|---|---|---|---|---|---|---|"
    else
        echo "| bridged pairs | latency p99 (µs, median) | runs | p50 (µs) | arrived of sent | server CPU (% of one core) | target |"
        echo "|---|---|---|---|---|---|---|"
    fi
    for n in $counts; do
        : >"$OUT/$mode-$n.txt"
        for r in $(seq 1 "$RUNS"); do
            echo "# $mode $n, run $r of $RUNS" >&2
            run "$mode" "$n" | tee -a "$OUT/$mode-$n.txt" >&2
        done
        local f="$OUT/$mode-$n.txt"
        if [ "$mode" = hold ]; then
            local p99 runs max drift cpu late
            p99=$(sed -E 's/.*p99 ([0-9.]+) ms.*/\1/' "$f" | median)
            runs=$(sed -E 's/.*p99 ([0-9.]+) ms.*/\1/' "$f" | range)
            max=$(sed -E 's/.*max ([0-9.]+) ms.*/\1/' "$f" | median)
            drift=$(sed -E 's/.*expected \(([-+0-9.]+) %\).*/\1/' "$f" | median)
            cpu=$(sed -E 's/.*server CPU ([0-9.]+) %.*/\1/' "$f" | median)
            late=$(sed -E 's/.*late ([0-9]+),.*/\1/' "$f" | median)
            local ok=no
            if awk -v p="$p99" -v d="$drift" 'BEGIN {exit !(p < 5 && d > -1 && d < 1)}'; then
                ok=met
                best=$n
            fi
            echo "| $n | $p99 | $runs | $max | ${drift} % | $cpu | $late | $ok |"
        else
            local p99 runs p50 arrived cpu
            p99=$(sed -E 's/.*p99 ([0-9]+) µs.*/\1/' "$f" | median)
            runs=$(sed -E 's/.*p99 ([0-9]+) µs.*/\1/' "$f" | range)
            p50=$(sed -E 's/.*p50 ([0-9]+) µs.*/\1/' "$f" | median)
            arrived=$(sed -E 's/.*; ([0-9]+ of [0-9]+) sent arrived.*/\1/' "$f" | tail -1)
            cpu=$(sed -E 's/.*server CPU ([0-9.]+) %.*/\1/' "$f" | median)
            local worst
            worst=$(sed -E 's/.*; ([0-9]+) of ([0-9]+) sent arrived.*/\1 \2/' "$f" |
                awk 'BEGIN {w = 1} {r = $2 ? $1 / $2 : 0; if (r < w) w = r} END {printf "%.4f", w}')
            local ok=no
            if awk -v p="$p99" -v w="$worst" 'BEGIN {exit !(p < 2000 && w >= 0.999)}'; then
                ok=met
                best=$n
            fi
            echo "| $n | $p99 | $runs | $p50 | $arrived (last run; worst run $(awk -v w="$worst" 'BEGIN {printf "%.2f", w * 100}') %) | $cpu | $ok |"
        fi
    done
    echo
    echo "$mode: the highest count meeting the target: $best"
    echo
}

case "$WHICH" in
hold) sweep hold "$HOLD_COUNTS" ;;
relay) sweep relay "$RELAY_COUNTS" ;;
both)
    sweep hold "$HOLD_COUNTS"
    sweep relay "$RELAY_COUNTS"
    ;;
*)
    echo "usage: bench/media.sh [hold|relay]" >&2
    exit 2
    ;;
esac
echo "# load average at the end $(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/meta.txt"
echo "(raw runs in $OUT)"
