#!/usr/bin/env bash
# The overload benchmark: how many calls per second one UDP socket of
# `dialect serve --mode redirect` answers cleanly, and what a 503 beyond
# `[limits] requests_per_second` costs next to a 302. It is what the
# defaults of `[limits]` are set from (docs/performance.md, "Overload").
#
# One socket is served by one task, so one core's worth of CPU is its
# ceiling; that is above what one SIPp process can offer here (33-37k
# calls/s). So the server runs in a cgroup (v1 `cpu` controller) with a
# CPU quota, QUOTA per cent of a core, which brings its ceiling within
# SIPp's reach; capacity scales with the quota, and a full core's is the
# measured capacity divided by the quota (run two QUOTAS to check).
#
# For each quota:
#   1. capacity: each of RATES offered for DURATION seconds with no limit;
#      the highest clean rate (every call made, 0 failed, 0 retransmitted)
#      is the capacity at that quota;
#   2. the cost of a 503: at the lowest rate, a server whose limit is 1
#      request per second (so nearly every INVITE gets 503), against the
#      same server answering 302s, as CPU microseconds per call.
# Then, with no quota, the memory one pending transaction holds: PENDING
# INVITEs never ACKed (bench/sip-pending-uac.xml), the server's resident
# memory before and after.
# Everything listens on 127.0.0.1; each run stops by itself (fixed call
# count, SIPp gives up after twice DURATION plus 5 s).
#
# Usage: bench/sip-overload.sh       (as root: it makes a cgroup)
# Settings (environment):
#   QUOTAS="25"              per cent of one core
#   RATES="4000 6000 8000 10000 12000 14000"  calls per second
#   DURATION=5               seconds per run
#   PENDING=40000            INVITEs left unACKed for the memory probe
#   PORT=15060 SIPP_PORT=15061
#   DIALECT=target/release/dialect
#   OUT=DIR                  keep SIPp's screens and the server logs there

set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
QUOTAS=${QUOTAS:-25}
RATES=${RATES:-"4000 6000 8000 10000 12000 14000"}
DURATION=${DURATION:-5}
PENDING=${PENDING:-40000}
PORT=${PORT:-15060}
SIPP_PORT=${SIPP_PORT:-15061}
DIALECT=${DIALECT:-$ROOT/target/release/dialect}
SIPP=${SIPP:-sipp}
CGROUP=/sys/fs/cgroup/cpu/dialect-overload
OUT=${OUT:-$(mktemp -d /tmp/sip-overload.XXXXXX)}
mkdir -p "$OUT"

SCRIPT=$ROOT/bench/sip-redirect/small.dial
DIALED=+18005550100
CALLER=+15125550123
SERVER_PID=
# shellcheck source=bench/sip-lib.sh
. "$ROOT/bench/sip-lib.sh"

die() { echo "sip-overload: $*" >&2; exit 1; }

stop_server() {
    if [ -n "$SERVER_PID" ]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
        SERVER_PID=
    fi
}
cleanup() {
    stop_server
    [ -d "$CGROUP" ] && rmdir "$CGROUP" 2>/dev/null || true
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT TERM

command -v "$SIPP" >/dev/null || die "sipp is not installed (Debian: sip-tester)"
command -v taskset >/dev/null || die "taskset is not installed (util-linux)"
[ "$(nproc)" -ge 2 ] || die "needs two cores (server on core 0, SIPp on core 1)"
[ -d /sys/fs/cgroup/cpu ] || die "needs the cgroup v1 cpu controller at /sys/fs/cgroup/cpu"
[ -x "$DIALECT" ] || die "$DIALECT is missing; build it with cargo build --release"
mkdir -p "$CGROUP" || die "cannot make $CGROUP (run as root)"

# Starts the server in the cgroup with a limit of LIMIT requests per second.
start_server() {
    local limit=$1
    printf '[limits]\nrequests_per_second = %s\n' "$limit" >"$OUT/dialect.toml"
    (echo "$BASHPID" >"$CGROUP/cgroup.procs" && exec taskset -c 0 "$DIALECT" serve "$SCRIPT" \
        --mode redirect --sip "127.0.0.1:$PORT" --config "$OUT/dialect.toml") \
        >"$OUT/server.log" 2>&1 &
    SERVER_PID=$!
    wait_answering "$SERVER_PID" "$OUT/server.log" "$OUT" \
        -sf "$ROOT/bench/sip-overload-uac.xml" "127.0.0.1:$PORT" \
        -i 127.0.0.1 -p "$SIPP_PORT" -s "$DIALED" -key caller "$CALLER"
}

# One run: prints "calls cpu_us_per_call failed retransmitted n302 n503 under5_pct clean".
run() {
    local rate=$1 tag=$2 calls=$(($1 * DURATION)) before after status=0
    local stats=$OUT/stat-$tag.csv screen=$OUT/sipp-$tag.txt
    before=$(cpu_ns "$SERVER_PID")
    (cd "$OUT" && taskset -c 1 "$SIPP" -sf "$ROOT/bench/sip-overload-uac.xml" "127.0.0.1:$PORT" \
        -i 127.0.0.1 -p "$SIPP_PORT" -s "$DIALED" -key caller "$CALLER" \
        -r "$rate" -m "$calls" -buff_size 4194304 -trace_stat -stf "$stats" -fd 1 \
        -timeout "$((DURATION * 2 + 5))s" -timeout_error -nostdin >"$screen" 2>&1) || status=$?
    after=$(cpu_ns "$SERVER_PID")
    python3 - "$stats" "$screen" "$calls" "$((after - before))" "$status" <<'EOF'
import csv, re, sys
stats, screen, calls, cpu_ns, status = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
rows = list(csv.reader(open(stats), delimiter=";"))
s = dict(zip(rows[0], rows[-1]))
made, failed, retrans = int(s["TotalCallCreated"]), int(s["FailedCall(C)"]), int(s["Retransmissions(C)"])
rep = {k: int(v) for k, v in s.items() if k.startswith("ResponseTimeRepartition1_")}
under5 = sum(v for k, v in rep.items() if k.split("_")[-1] in ("<1", "<2", "<5"))
counts = {}
for line in open(screen, errors="replace"):
    m = re.match(r"\s*(\d{3}) <-+\s+(?:E-RTD\d\s+)?(\d+)", line)
    if m:
        counts[m.group(1)] = int(m.group(2))
answered = sum(rep.values()) or 1
clean = made == calls and failed == 0 and retrans == 0 and status == "0"
print(made, f"{cpu_ns / 1e3 / max(made, 1):.1f}", failed, retrans,
      counts.get("302", 0), counts.get("503", 0), f"{100 * under5 / answered:.1f}", "yes" if clean else "no")
EOF
}

{
    echo "# bench/sip-overload.sh, $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?'), DURATION=$DURATION"
    echo "# $($SIPP -v 2>&1 | grep -o 'SIPp v[^ ]*' | head -1); $(nproc) cores; load average at start $(cut -d' ' -f1-3 /proc/loadavg)"
    echo
    echo "| CPU quota | Offered calls/s | Limit (requests/s) | Calls made | CPU µs per call | Failed / retransmitted | 302 / 503 | Answers under 5 ms | Clean |"
    echo "|---|---|---|---|---|---|---|---|---|"
} | tee "$OUT/report.md"
lowest=$(echo "$RATES" | tr ' ' '\n' | sort -n | head -1)
for quota in $QUOTAS; do
    echo 10000 >"$CGROUP/cpu.cfs_period_us"
    echo $((quota * 100)) >"$CGROUP/cpu.cfs_quota_us"
    capacity=none
    for rate in $RATES; do
        start_server 1000000
        read -r made cpu failed retrans n302 n503 under5 clean < <(run "$rate" "q$quota-r$rate")
        stop_server
        echo "| $quota % | $rate | none | $made | $cpu | $failed / $retrans | $n302 / $n503 | $under5 % | $clean |" | tee -a "$OUT/report.md"
        [ "$clean" = yes ] && capacity=$rate
    done
    start_server 1
    read -r made cpu failed retrans n302 n503 under5 clean < <(run "$lowest" "q$quota-503")
    stop_server
    echo "| $quota % | $lowest | 1 | $made | $cpu | $failed / $retrans | $n302 / $n503 | $under5 % | $clean |" | tee -a "$OUT/report.md"
    echo "capacity at $quota % of a core: $capacity calls/s" >>"$OUT/capacity.txt"
done
# The memory a pending transaction holds: PENDING INVITEs, never ACKed,
# at 10,000 calls/s with no CPU quota; every one is still pending (Timer
# H is 32 s) when the server's resident memory is read again.
echo -1 >"$CGROUP/cpu.cfs_quota_us"
start_server 1000000
rss() { awk '/^VmRSS/ {print $2}' "/proc/$SERVER_PID/status"; }
before=$(rss)
(cd "$OUT" && taskset -c 1 "$SIPP" -sf "$ROOT/bench/sip-pending-uac.xml" "127.0.0.1:$PORT" \
    -i 127.0.0.1 -p "$SIPP_PORT" -s "$DIALED" -key caller "$CALLER" \
    -r 10000 -m "$PENDING" -buff_size 4194304 -timeout 20s -nostdin >"$OUT/sipp-pending.txt" 2>&1) || true
after=$(rss)
stop_server
echo "pending transactions: $PENDING held $(((after - before) * 1024 / PENDING)) bytes each (VmRSS $before kB -> $after kB)" >>"$OUT/capacity.txt"
echo
cat "$OUT/capacity.txt"
echo "(output in $OUT)" >&2
