#!/usr/bin/env bash
# The SIP redirect benchmark: `dialect serve --mode redirect` against
# Kamailio 5.6 answering statelessly with a 302 chosen by equivalent logic.
#
# Each server answers the same INVITEs (bench/sip-redirect-uac.xml) from one
# SIPp process at fixed rates. The server is pinned to core 0, SIPp to core
# 1; runs are interleaved (for each run, for each rate, every server in
# turn) and each figure is the median over the runs. Per server and rate:
#   - server CPU per call: the time on CPU of the server's threads (and
#     Kamailio's child processes) from /proc/.../task/*/schedstat, in
#     nanoseconds, before and after the SIPp run, divided by the calls SIPp
#     made (clock ticks of utime+stime are kept too, for older reports);
#   - clean: SIPp made every call, counted 0 failed calls and 0
#     retransmissions, and exited with status 0;
#   - the share of 302s that arrived under 5 ms after their INVITE (SIPp's
#     response-time repartition);
#   - the call rate SIPp achieved.
# Servers (columns):
#   kamailio-small   bench/kamailio/redirect.cfg with routes-small.cfg
#   kamailio-large   the same with -A RULES_LARGE (routes-large.cfg, 500 rules)
#   dialect-small    dialect serve bench/sip-redirect/small.dial
#   dialect-large    dialect serve bench/sip-redirect/large.dial (500 rules)
# The dialect columns run when target/release/dialect has a `serve` command
# (checked with `dialect serve --help`); otherwise they are skipped with a
# message. Build it first with `cargo build --release`.
#
# Usage: bench/sip-redirect.sh               run, then print the tables
#        bench/sip-redirect.sh --report DIR  print the tables of the run kept in DIR
# Settings (environment):
#   RATES="1000 2000 10000 20000 30000"  calls per second
#   RUNS=3                     runs per server and rate (median reported)
#   DURATION=5                 seconds per run (calls = rate x duration)
#   SERVERS="kamailio-small kamailio-large dialect-small dialect-large"
#   PORT=15060                 the server's port on 127.0.0.1 (UDP and TCP)
#   SIPP_PORT=15061            SIPp's port on 127.0.0.1
#   DIALECT=target/release/dialect
#   DIALECT_ARGS=              more arguments to `dialect serve` (`--config FILE`)
#   KAMAILIO_MEMORY="-x fm -X fm"  Kamailio's allocators ("" for its default)
#   OUT=DIR                    keep SIPp's statistics and the raw runs there
# Everything listens on 127.0.0.1 only; each run stops by itself (fixed
# call count; SIPp gives up after twice DURATION plus 5 s, which bounds the
# runs of an overloaded server) and servers are stopped on exit.

set -euo pipefail

if [ "${1:-}" = --report ]; then
    REPORT_ONLY=${2:?usage: bench/sip-redirect.sh --report DIR}
fi

ROOT=$(cd "$(dirname "$0")/.." && pwd)
RATES=${RATES:-"1000 2000 10000 20000 30000"}
RUNS=${RUNS:-3}
DURATION=${DURATION:-5}
SERVERS=${SERVERS:-"kamailio-small kamailio-large dialect-small dialect-large"}
PORT=${PORT:-15060}
SIPP_PORT=${SIPP_PORT:-15061}
DIALECT=${DIALECT:-$ROOT/target/release/dialect}
DIALECT_ARGS=${DIALECT_ARGS:-}
KAMAILIO=${KAMAILIO:-kamailio}
KAMAILIO_MEMORY=${KAMAILIO_MEMORY:--x fm -X fm}
SIPP=${SIPP:-sipp}

# Prints the tables of a finished run from its raw data in DIR.
report() {
    cat "$1/meta.txt"
    PYTHONPATH="$ROOT/bench" python3 - "$1/runs.tsv" "$(getconf CLK_TCK)" "$(cat "$1/runs")" <<'EOF'
import csv, statistics, sys

from sipp_stats import last_stats, print_highest_clean

results, clk_tck, n_runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])

rows = list(csv.DictReader(open(results), delimiter="\t"))
table = {}
for r in rows:
    s = last_stats(r["stats"])
    calls = int(s["TotalCallCreated"]) if s else 0
    rep = {k: int(v) for k, v in s.items() if s and k.startswith("ResponseTimeRepartition1_")} if s else {}
    answered = sum(rep.values())
    under5 = sum(v for k, v in rep.items() if k in ("ResponseTimeRepartition1_<1", "ResponseTimeRepartition1_<2", "ResponseTimeRepartition1_<5"))
    failed = int(s["FailedCall(C)"]) if s else -1
    retrans = int(s["Retransmissions(C)"]) if s else -1
    elapsed = s["ElapsedTime(C)"] if s else "?"
    rate = float(s["CallRate(C)"]) if s else 0.0
    if r.get("cpu_ns"):
        cpu_us = int(r["cpu_ns"]) / 1e3 / calls if calls else float("nan")
    else:  # runs kept from before the nanosecond column
        cpu_us = int(r["cpu_ticks"]) * 1e6 / clk_tck / calls if calls else float("nan")
    clean = failed == 0 and retrans == 0 and r["sipp_status"] == "0" and calls == int(r["calls"])
    table.setdefault((r["server"], int(r["rate"])), []).append(
        dict(cpu_us=cpu_us, under5=under5 / answered if answered else 0.0,
             failed=failed, retrans=retrans, clean=clean, rate=rate, elapsed=elapsed))

servers = list(dict.fromkeys(r["server"] for r in rows))
rates = sorted({k[1] for k in table})
print()
print("| Server | Offered calls/s | CPU µs per call (median) | CPU µs per call (runs) | Achieved calls/s (median) | Failed / retransmitted (sum over runs) | Answers under 5 ms (median) | Clean runs |")
print("|---|---|---|---|---|---|---|---|")
for server in servers:
    for rate in rates:
        runs = table.get((server, rate), [])
        if not runs:
            continue
        med = statistics.median(x["cpu_us"] for x in runs)
        print(f"| {server} | {rate:,} | **{med:.1f}** | "
              + " / ".join(f"{x['cpu_us']:.1f}" for x in runs)
              + f" | {statistics.median(x['rate'] for x in runs):,.0f} | "
              + f"{sum(x['failed'] for x in runs)} / {sum(x['retrans'] for x in runs)} | "
              + f"{100 * statistics.median(x['under5'] for x in runs):.2f} % | "
              + f"{sum(x['clean'] for x in runs)}/{len(runs)} |")
print_highest_clean(table, servers, rates, n_runs)
EOF
}

if [ -n "${REPORT_ONLY:-}" ]; then
    report "$REPORT_ONLY"
    exit 0
fi

OUT=${OUT:-$(mktemp -d /tmp/sip-redirect.XXXXXX)}
mkdir -p "$OUT"

# The calls: the small scripts' caller matches their fourth rule (a
# transfer); the large scripts' caller is a known customer that no rule
# catches, so all 500 conditions are evaluated, as in benches/decide.rs.
DIALED=+18005550100
SMALL_CALLER=+15125550123
LARGE_CALLER=+14155550100

SERVER_PID=
# shellcheck source=bench/sip-lib.sh
. "$ROOT/bench/sip-lib.sh"

die() { echo "sip-redirect: $*" >&2; exit 1; }

stop_server() {
    if [ -n "$SERVER_PID" ]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
        SERVER_PID=
    fi
}
trap stop_server EXIT
trap 'stop_server; exit 130' INT TERM

command -v "$SIPP" >/dev/null || die "sipp is not installed (Debian: sip-tester)"
command -v taskset >/dev/null || die "taskset is not installed (util-linux)"
[ "$(nproc)" -ge 2 ] || die "needs two cores (server on core 0, SIPp on core 1)"
python3 "$ROOT/bench/sip-redirect-gen.py" --check

# Which columns can run.
wanted=()
for s in $SERVERS; do
    case $s in
        kamailio-*)
            if command -v "$KAMAILIO" >/dev/null; then wanted+=("$s"); else
                echo "skipping $s: kamailio is not installed" >&2; fi ;;
        dialect-*)
            if [ -x "$DIALECT" ] && "$DIALECT" serve --help >/dev/null 2>&1; then wanted+=("$s"); else
                echo "skipping $s: $DIALECT has no \`serve\` command yet (build with cargo build --release)" >&2; fi ;;
        *) die "unknown server $s" ;;
    esac
done
[ ${#wanted[@]} -gt 0 ] || die "no server to measure"
# The benchmark's calls must go where the scripts' tests say.
for s in "${wanted[@]}"; do
    case $s in
        dialect-*) "$DIALECT" test "$ROOT/bench/sip-redirect/${s#dialect-}.dial" >/dev/null \
            || die "dialect test bench/sip-redirect/${s#dialect-}.dial failed" ;;
    esac
done

start_server() {
    local name=$1
    case $name in
        kamailio-small|kamailio-large)
            local define=()
            [ "$name" = kamailio-large ] && define=(-A RULES_LARGE)
            # One worker, f_malloc for both pools (Kamailio's default
            # allocator costs it more CPU), in the foreground.
            # shellcheck disable=SC2086
            TZ=America/Chicago taskset -c 0 "$KAMAILIO" -f "$ROOT/bench/kamailio/redirect.cfg" \
                "${define[@]}" -DD -E -n 1 $KAMAILIO_MEMORY -m 64 -M 32 -w "$OUT" \
                -P "$OUT/kamailio.pid" \
                -l "udp:127.0.0.1:$PORT" -l "tcp:127.0.0.1:$PORT" \
                >"$OUT/$name.log" 2>&1 &
            ;;
        dialect-small|dialect-large)
            local script=$ROOT/bench/sip-redirect/${name#dialect-}.dial
            # shellcheck disable=SC2086
            taskset -c 0 "$DIALECT" serve "$script" --mode redirect --sip "127.0.0.1:$PORT" \
                $DIALECT_ARGS >"$OUT/$name.log" 2>&1 &
            ;;
    esac
    SERVER_PID=$!
    # Ready when it answers one call.
    wait_answering "$SERVER_PID" "$OUT/$name.log" "$OUT" \
        -sf "$ROOT/bench/sip-redirect-uac.xml" "127.0.0.1:$PORT" \
        -i 127.0.0.1 -p "$SIPP_PORT" -s "$DIALED" -key caller "$(caller_of "$name")"
}

caller_of() {
    case $1 in *-small) echo "$SMALL_CALLER" ;; *) echo "$LARGE_CALLER" ;; esac
}

# utime+stime, in clock ticks, of PID and its child processes (Kamailio
# forks its workers; Dialect's threads are counted in its own line).
cpu_ticks() {
    local total=0 p line
    for p in "$1" $(pgrep -P "$1" || true); do
        line=$(cat "/proc/$p/stat" 2>/dev/null) || continue
        line=${line##*) }
        # shellcheck disable=SC2086
        set -- $line
        total=$((total + ${12} + ${13}))
    done
    echo "$total"
}


RESULTS=$OUT/runs.tsv
printf 'server\trate\trun\tcalls\tcpu_ticks\tsipp_status\tstats\tcpu_ns\n' >"$RESULTS"
echo "$RUNS" >"$OUT/runs"
{
    echo "# bench/sip-redirect.sh, started $(date -u '+%Y-%m-%d %H:%M UTC'), RUNS=$RUNS DURATION=$DURATION, commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')"
    echo "# $($SIPP -v 2>&1 | grep -o 'SIPp v[^ ]*' | head -1); $("$KAMAILIO" -v 2>/dev/null | head -1 || true); $(nproc) cores; load average at start $(cut -d' ' -f1-3 /proc/loadavg)"
} >"$OUT/meta.txt"

echo "sip-redirect: ${wanted[*]} at ${RATES} calls/s, ${RUNS} runs of ${DURATION} s; output in $OUT" >&2
for run in $(seq "$RUNS"); do
    for rate in $RATES; do
        for name in "${wanted[@]}"; do
            start_server "$name"
            calls=$((rate * DURATION))
            stats=$OUT/stat-$name-$rate-$run.csv
            before=$(cpu_ticks "$SERVER_PID")
            before_ns=$(cpu_ns "$SERVER_PID")
            status=0
            (cd "$OUT" && taskset -c 1 "$SIPP" -sf "$ROOT/bench/sip-redirect-uac.xml" "127.0.0.1:$PORT" \
                -i 127.0.0.1 -p "$SIPP_PORT" -s "$DIALED" -key caller "$(caller_of "$name")" \
                -r "$rate" -m "$calls" -buff_size 4194304 \
                -trace_stat -stf "$stats" -fd 1 \
                -timeout "$((DURATION * 2 + 5))s" -timeout_error -nostdin \
                >"$OUT/sipp-$name-$rate-$run.txt" 2>&1) || status=$?
            after=$(cpu_ticks "$SERVER_PID")
            after_ns=$(cpu_ns "$SERVER_PID")
            stop_server
            printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$rate" "$run" "$calls" \
                "$((after - before))" "$status" "$stats" "$((after_ns - before_ns))" >>"$RESULTS"
            echo "  run $run, $rate/s, $name: sipp status $status, $((after - before)) ticks" >&2
        done
    done
done
echo "# load average at the end $(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/meta.txt"
report "$OUT"
