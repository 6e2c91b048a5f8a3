#!/usr/bin/env bash
# The B2BUA call-setup benchmark (issue 12): call setups per second with an
# immediate BYE through `dialect serve` in B2BUA mode, and the server's CPU
# per call on one pinned core, against Kamailio 5.6 relaying the same call
# flow statefully with its `tm` module, in the same run.
#
# A call: one SIPp process (bench/sip-b2bua-uac.xml) sends an INVITE with
# an SDP offer (PCMU), takes the 200, ACKs, waits PAUSE_MS and sends BYE.
#   - dialect:  `dialect serve --mode b2bua bench/sip-b2bua/queue.dial`
#     answers the caller, puts the call in a queue with no menu and no
#     prompt, and the ACD offers it to one of 200 agents
#     (bench/sip-b2bua/agents.toml), all registered (digest MD5, by
#     bench/sip-b2bua/register.xml from agents.csv) with their Contact at
#     one SIPp process, bench/sip-b2bua-agent.xml, which answers every
#     INVITE at once with 200 and SDP, takes the ACK and the BYE. Dialect
#     bridges the two legs (two dialogs, two RTP ports) and passes the
#     caller's BYE on to the agent, and writes each call's record to an
#     SQLite file in OUT (`--db`): its CPU covers both legs and the record.
#   - kamailio: bench/kamailio/b2bua.cfg relays the INVITE with t_relay()
#     to the same agent SIPp process, Record-Routes, and relays the ACK and
#     the BYE (one transaction per request; no dialog, no media, no ACD).
# The server is pinned to core 0, both SIPp processes to core 1; each
# server is started afresh for each run (Dialect's agents registered again,
# before the CPU reading starts). Runs are interleaved (for each run, for
# each rate, every server in turn); each figure is the median over the
# runs. Per server and rate:
#   - server CPU per call: the time on CPU of the server's threads (and
#     Kamailio's child processes) from /proc/.../task/*/schedstat, in
#     nanoseconds, read before the caller starts and SETTLE seconds after
#     it ends (so BYEs and dialogs in flight are finished and counted),
#     divided by the calls the caller made;
#   - clean: the caller made every call, counted 0 failed calls and 0
#     retransmissions and exited 0, and the agent process completed every
#     call (INVITE, 200, ACK, BYE) with 0 failed and 0 retransmissions;
#   - the calls the agents answered (the agent process's successful calls:
#     calls that never reached an agent show here even when the caller's
#     side succeeded), and for Dialect the call records it wrote with
#     disposition "answered";
#   - the share of 200s that arrived under 10 ms after their INVITE, the
#     call rate the caller achieved, and the kernel's UDP receive-buffer
#     drops (RcvbufErrors of /proc/net/snmp) during the run.
#
# Usage: bench/sip-b2bua.sh               run, then print the tables
#        bench/sip-b2bua.sh --report DIR  print the tables of the run kept in DIR
# Settings (environment):
#   RATES="200 500 1000 2000 3000 4000"  calls per second
#   RUNS=3                     runs per server and rate (median reported)
#   DURATION=5                 seconds per run (calls = rate x duration)
#   PAUSE_MS=20                the caller's wait between ACK and BYE
#   SETTLE=6                   seconds after the caller ends before the CPU
#                              is read again and the server stopped
#   SERVERS="dialect kamailio"
#   PORT=15060                 the server's port on 127.0.0.1 (UDP)
#   SIPP_PORT=15061            the caller's port; REGISTER_PORT=15062 the
#                              registering SIPp's; AGENT_PORT=15063 the agents'
#   DIALECT=target/release/dialect
#   DIALECT_ARGS=              more arguments to `dialect serve`
#   KAMAILIO_MEMORY="-x fm -X fm -m 1024 -M 32"  Kamailio's allocators and
#                              pools (shared memory holds tm's transactions)
#   OUT=DIR                    keep SIPp's statistics, logs and the raw runs there
# Everything listens on 127.0.0.1 only; each run stops by itself (fixed
# call counts; the caller gives up after twice DURATION plus 5 s, the agent
# process is stopped SETTLE seconds after the caller ends) and servers are
# stopped on exit.

set -euo pipefail

if [ "${1:-}" = --report ]; then
    REPORT_ONLY=${2:?usage: bench/sip-b2bua.sh --report DIR}
fi

ROOT=$(cd "$(dirname "$0")/.." && pwd)
RATES=${RATES:-"200 500 1000 2000 3000 4000"}
RUNS=${RUNS:-3}
DURATION=${DURATION:-5}
PAUSE_MS=${PAUSE_MS:-20}
SETTLE=${SETTLE:-6}
SERVERS=${SERVERS:-"dialect kamailio"}
PORT=${PORT:-15060}
SIPP_PORT=${SIPP_PORT:-15061}
REGISTER_PORT=${REGISTER_PORT:-15062}
AGENT_PORT=${AGENT_PORT:-15063}
CALLER_MEDIA_PORT=${CALLER_MEDIA_PORT:-16000}
AGENT_MEDIA_PORT=${AGENT_MEDIA_PORT:-16100}
DIALECT=${DIALECT:-$ROOT/target/release/dialect}
DIALECT_ARGS=${DIALECT_ARGS:-}
KAMAILIO=${KAMAILIO:-kamailio}
KAMAILIO_MEMORY=${KAMAILIO_MEMORY:--x fm -X fm -m 1024 -M 32}
SIPP=${SIPP:-sipp}

# Prints the tables of a finished run from its raw data in DIR.
report() {
    cat "$1/meta.txt"
    PYTHONPATH="$ROOT/bench" python3 - "$1/runs.tsv" "$(cat "$1/runs")" <<'EOF'
import csv, os, statistics, sys

from sipp_stats import last_stats as read_stats, print_highest_clean

results, n_runs = sys.argv[1], int(sys.argv[2])
folder = os.path.dirname(results)


def last_stats(path):
    """A run's SIPp statistics; paths in runs.tsv are relative to DIR."""
    return read_stats(path, folder)


def num(s, key, default=-1):
    return int(s[key]) if s and s.get(key, "") != "" else default


rows = list(csv.DictReader(open(results), delimiter="\t"))
table = {}
for r in rows:
    s = last_stats(r["stats"])
    a = last_stats(r["agent_stats"])
    want = int(r["calls"])
    calls = num(s, "TotalCallCreated", 0)
    failed = num(s, "FailedCall(C)")
    retrans = num(s, "Retransmissions(C)")
    rate = float(s["CallRate(C)"]) if s else 0.0
    rep = {k: int(v) for k, v in s.items() if k.startswith("ResponseTimeRepartition1_")} if s else {}
    setups = sum(rep.values())
    under10 = sum(v for k, v in rep.items() if k in (
        "ResponseTimeRepartition1_<1", "ResponseTimeRepartition1_<2",
        "ResponseTimeRepartition1_<5", "ResponseTimeRepartition1_<10"))
    agent_ok = num(a, "SuccessfulCall(C)", 0)
    agent_in = num(a, "TotalCallCreated", 0)
    agent_failed = num(a, "FailedCall(C)")
    agent_retrans = num(a, "Retransmissions(C)")
    cpu_us = int(r["cpu_ns"]) / 1e3 / calls if calls else float("nan")
    caller_clean = failed == 0 and retrans == 0 and r["sipp_status"] == "0" and calls == want
    agent_clean = agent_ok == want and agent_failed == 0 and agent_retrans == 0
    table.setdefault((r["server"], int(r["rate"])), []).append(dict(
        cpu_us=cpu_us, rate=rate, failed=failed, retrans=retrans,
        under10=under10 / setups if setups else 0.0,
        agent_ok=agent_ok, agent_in=agent_in, agent_failed=agent_failed,
        agent_retrans=agent_retrans, want=want,
        records=r["records"], drops=int(r["rcvbuf_errors"] or 0),
        caller_clean=caller_clean, clean=caller_clean and agent_clean))

servers = list(dict.fromkeys(r["server"] for r in rows))
rates = sorted({k[1] for k in table})


def med(runs, key):
    return statistics.median(x[key] for x in runs)


print()
print("| Server | Offered calls/s | CPU µs per call (median) | CPU µs per call (runs) | Achieved calls/s (median) "
      "| Caller failed / retransmitted (sum) | Agent answered / calls (median) | Agent failed / retransmitted (sum) "
      "| Answered records (median) | 200 under 10 ms (median) | UDP buffer drops (sum) | Caller clean | Clean runs |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
for server in servers:
    for rate in rates:
        runs = table.get((server, rate), [])
        if not runs:
            continue
        records = [int(x["records"]) for x in runs if x["records"] != ""]
        print(f"| {server} | {rate:,} | **{med(runs, 'cpu_us'):.1f}** | "
              + " / ".join(f"{x['cpu_us']:.1f}" for x in runs)
              + f" | {med(runs, 'rate'):,.0f}"
              + f" | {sum(x['failed'] for x in runs)} / {sum(x['retrans'] for x in runs)}"
              + f" | {med(runs, 'agent_ok'):,.0f} / {med(runs, 'want'):,.0f}"
              + f" | {sum(x['agent_failed'] for x in runs)} / {sum(x['agent_retrans'] for x in runs)}"
              + f" | {f'{statistics.median(records):,.0f}' if records else '–'}"
              + f" | {100 * med(runs, 'under10'):.1f} %"
              + f" | {sum(x['drops'] for x in runs)}"
              + f" | {sum(x['caller_clean'] for x in runs)}/{len(runs)}"
              + f" | {sum(x['clean'] for x in runs)}/{len(runs)} |")

if "dialect" in servers and "kamailio" in servers:
    print()
    print("| Offered calls/s | Dialect µs per call (both legs) | Kamailio µs per call | Dialect / Kamailio | Dialect achieved calls/s | Kamailio achieved calls/s | Clean runs (Dialect, Kamailio) |")
    print("|---|---|---|---|---|---|---|")
    for rate in rates:
        d, k = table.get(("dialect", rate), []), table.get(("kamailio", rate), [])
        if not d or not k:
            continue
        dm, km = med(d, "cpu_us"), med(k, "cpu_us")
        print(f"| {rate:,} | {dm:.1f} | {km:.1f} | {dm / km:.2f} | {med(d, 'rate'):,.0f} | {med(k, 'rate'):,.0f} "
              f"| {sum(x['clean'] for x in d)}/{len(d)}, {sum(x['clean'] for x in k)}/{len(k)} |")

print_highest_clean(table, servers, rates, n_runs)
EOF
}

if [ -n "${REPORT_ONLY:-}" ]; then
    report "$REPORT_ONLY"
    exit 0
fi

OUT=${OUT:-$(mktemp -d /tmp/sip-b2bua.XXXXXX)}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

DIALED=+18005550100
CALLER=+15125550123
SCRIPT=$ROOT/bench/sip-b2bua/queue.dial
ROSTER=$ROOT/bench/sip-b2bua/agents.toml
CREDENTIALS=$ROOT/bench/sip-b2bua/agents.csv
AGENTS=$(grep -c '^\[\[agent\]\]' "$ROSTER")

SERVER_PID=
AGENT_PID=
# shellcheck source=bench/sip-lib.sh
. "$ROOT/bench/sip-lib.sh"

die() { echo "sip-b2bua: $*" >&2; exit 1; }

# Stops the agent SIPp process: SIGUSR1 asks SIPp to stop (it writes its
# final statistics), a second one to stop at once; killed if still there
# after 5 s.
stop_agents() {
    if [ -n "$AGENT_PID" ]; then
        local _
        for _ in 1 2; do
            kill -USR1 "$AGENT_PID" 2>/dev/null || break
            sleep 0.5
        done
        for _ in $(seq 50); do
            kill -0 "$AGENT_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$AGENT_PID" 2>/dev/null || true
        wait "$AGENT_PID" 2>/dev/null || true
        AGENT_PID=
    fi
}

stop_server() {
    if [ -n "$SERVER_PID" ]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
        SERVER_PID=
    fi
}
stop_all() { stop_agents; stop_server; }
trap stop_all EXIT
trap 'stop_all; exit 130' INT TERM

command -v "$SIPP" >/dev/null || die "sipp is not installed (Debian: sip-tester)"
command -v taskset >/dev/null || die "taskset is not installed (util-linux)"
[ "$(nproc)" -ge 2 ] || die "needs two cores (server on core 0, SIPp on core 1)"

# Which servers can run.
wanted=()
for s in $SERVERS; do
    case $s in
        kamailio)
            if command -v "$KAMAILIO" >/dev/null; then wanted+=("$s"); else
                echo "skipping $s: kamailio is not installed" >&2; fi ;;
        dialect)
            if [ -x "$DIALECT" ] && "$DIALECT" serve --help >/dev/null 2>&1; then wanted+=("$s"); else
                echo "skipping $s: $DIALECT has no \`serve\` command (build with cargo build --release)" >&2; fi ;;
        *) die "unknown server $s" ;;
    esac
done
[ ${#wanted[@]} -gt 0 ] || die "no server to measure"
for s in "${wanted[@]}"; do
    if [ "$s" = dialect ]; then
        "$DIALECT" test "$SCRIPT" >/dev/null || die "dialect test $SCRIPT failed"
    fi
done

# Whether something listens on UDP port $1 of 127.0.0.1 (/proc/net/udp).
udp_listening() {
    grep -q "^ *[0-9]*: 0100007F:$(printf '%04X' "$1") " /proc/net/udp
}

# The kernel's count of UDP datagrams dropped for a full receive buffer.
rcvbuf_errors() {
    awk '/^Udp:/ { if (!n) { for (i = 1; i <= NF; i++) if ($i == "RcvbufErrors") col = i; n = 1 } else { print $col; exit } }' /proc/net/snmp
}

start_server() {
    local name=$1 log=$2
    case $name in
        kamailio)
            # One worker, f_malloc, in the foreground.
            # shellcheck disable=SC2086
            taskset -c 0 "$KAMAILIO" -f "$ROOT/bench/kamailio/b2bua.cfg" \
                -DD -E -n 1 $KAMAILIO_MEMORY -w "$OUT" -P "$OUT/kamailio.pid" \
                -l "udp:127.0.0.1:$PORT" -A "AGENT_ADDR=\"127.0.0.1:$AGENT_PORT\"" \
                >"$log" 2>&1 &
            ;;
        dialect)
            # shellcheck disable=SC2086
            taskset -c 0 "$DIALECT" serve "$SCRIPT" --mode b2bua --agents "$ROSTER" \
                --config "$ROOT/bench/sip-b2bua/dialect.toml" --sip "127.0.0.1:$PORT" \
                --db "${log%.log}.db" $DIALECT_ARGS >"$log" 2>&1 &
            ;;
    esac
    SERVER_PID=$!
    # Ready when it answers an OPTIONS.
    wait_answering "$SERVER_PID" "$log" "$OUT" \
        -sf "$ROOT/bench/sip-b2bua/options.xml" "127.0.0.1:$PORT" -i 127.0.0.1 -p "$SIPP_PORT"
    if [ "$name" = dialect ]; then
        # Every agent's phone, at the agent process's port.
        (cd "$OUT" && taskset -c 1 "$SIPP" -sf "$ROOT/bench/sip-b2bua/register.xml" "127.0.0.1:$PORT" \
            -i 127.0.0.1 -p "$REGISTER_PORT" -inf "$CREDENTIALS" \
            -key agent_port "$AGENT_PORT" -key expires 3600 \
            -m "$AGENTS" -r 500 -timeout 20s -timeout_error -nostdin \
            >"$OUT/register.txt" 2>&1) || die "the agents did not register; see $OUT/register.txt and $log"
    fi
}

RESULTS=$OUT/runs.tsv
printf 'server\trate\trun\tcalls\tsipp_status\tstats\tcpu_ns\tagent_stats\trecords\trcvbuf_errors\n' >"$RESULTS"
echo "$RUNS" >"$OUT/runs"
{
    echo "# bench/sip-b2bua.sh, started $(date -u '+%Y-%m-%d %H:%M UTC'), RUNS=$RUNS DURATION=$DURATION PAUSE_MS=$PAUSE_MS SETTLE=$SETTLE, $AGENTS agents, commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')"
    echo "# $($SIPP -v 2>&1 | grep -o 'SIPp v[^ ]*' | head -1); $("$KAMAILIO" -v 2>/dev/null | head -1 || true); $(nproc) cores; load average at start $(cut -d' ' -f1-3 /proc/loadavg)"
} >"$OUT/meta.txt"

echo "sip-b2bua: ${wanted[*]} at ${RATES} calls/s, ${RUNS} runs of ${DURATION} s; output in $OUT" >&2
for run in $(seq "$RUNS"); do
    for rate in $RATES; do
        for name in "${wanted[@]}"; do
            tag=$name-$rate-$run
            log=$OUT/$tag.log
            calls=$((rate * DURATION))
            start_server "$name" "$log"
            # The agents' phones: one SIPp process, stopped once it has
            # taken as many calls as the caller places (or after SETTLE).
            (cd "$OUT" && exec taskset -c 1 "$SIPP" -sf "$ROOT/bench/sip-b2bua-agent.xml" \
                -i 127.0.0.1 -p "$AGENT_PORT" -mp "$AGENT_MEDIA_PORT" -m "$calls" \
                -buff_size 4194304 -trace_stat -stf "stat-agent-$tag.csv" -fd 1 \
                -timeout "$((DURATION * 2 + SETTLE + 10))s" -nostdin \
                >"$OUT/sipp-agent-$tag.txt" 2>&1) &
            AGENT_PID=$!
            for _ in $(seq 50); do udp_listening "$AGENT_PORT" && break; sleep 0.1; done
            udp_listening "$AGENT_PORT" || die "the agent SIPp process does not listen; see $OUT/sipp-agent-$tag.txt"
            drops_before=$(rcvbuf_errors)
            before_ns=$(cpu_ns "$SERVER_PID")
            status=0
            (cd "$OUT" && taskset -c 1 "$SIPP" -sf "$ROOT/bench/sip-b2bua-uac.xml" "127.0.0.1:$PORT" \
                -i 127.0.0.1 -p "$SIPP_PORT" -mp "$CALLER_MEDIA_PORT" \
                -s "$DIALED" -key caller "$CALLER" -d "$PAUSE_MS" \
                -r "$rate" -m "$calls" -buff_size 4194304 \
                -trace_stat -stf "stat-$tag.csv" -fd 1 \
                -timeout "$((DURATION * 2 + 5))s" -timeout_error -nostdin \
                >"$OUT/sipp-$tag.txt" 2>&1) || status=$?
            # Let the calls in flight end (the agent process exits by itself
            # once it has taken every call), then read the server's CPU.
            sleep "$SETTLE"
            after_ns=$(cpu_ns "$SERVER_PID")
            drops_after=$(rcvbuf_errors)
            stop_agents
            stop_server
            records=
            if [ "$name" = dialect ]; then
                records=$(grep -c '"disposition":"answered"' "$log" || true)
            fi
            printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$rate" "$run" "$calls" \
                "$status" "stat-$tag.csv" "$((after_ns - before_ns))" "stat-agent-$tag.csv" \
                "$records" "$((drops_after - drops_before))" >>"$RESULTS"
            echo "  run $run, $rate/s, $name: sipp status $status, $(((after_ns - before_ns) / calls / 1000)) µs/call" >&2
        done
    done
done
echo "# load average at the end $(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/meta.txt"
report "$OUT"
