#!/usr/bin/env bash
# Reload under load (issue 13), MODE=b2bua (the default): SIPp places
# calls at RATE a second through `dialect serve` in B2BUA mode (the B2BUA
# benchmark's queue and its 200 agents, bench/sip-b2bua/) while the
# script is reloaded RELOADS times by
# SIGHUP, alternating two valid versions of it, with BROKEN versions that
# do not compile spread among them, and switch `priority_line` is flipped
# with `dialect switch` every FLIP_EVERY reloads (no reload: the next call
# queues at priority 5 or 0). It passes when:
#   - the caller and the agents' SIPp processes count no failed call;
#   - every call the caller made has its record in the database;
#   - every record names one of the two valid versions;
#   - the server put in force RELOADS versions and refused BROKEN;
#   - every record's switches are those in force when its call arrived
#     (by the flips' times in the database; within WINDOW_MS of a flip
#     either state counts, since the flip's time is taken before the
#     database write that precedes its taking effect);
# and prints the reloads' latencies (the server's own figure, request to
# swap) as min / median / max.
#
# MODE=redirect: the same reloads while SIPp sends INVITEs at RATE a
# second to `dialect serve --mode redirect` (a line transferred to a trunk,
# tests/sipp/uac_redirect.xml, which checks every 302's Contact and logs
# its X-Dialect-Version). It passes when no call failed, every call's 302
# was logged with a version, every version is one of the two valid ones
# (both seen), and the reloads were put in force and refused as above.
# Redirect mode keeps no call records and takes no switches here (a switch
# would change the Contact the scenario checks).
#
# Usage: bench/reload-under-load.sh
# Settings (environment): MODE=b2bua RATE=200 RELOADS=50 BROKEN=10 INTERVAL_MS=400
#   FLIP_EVERY=5 WINDOW_MS=50
#   (between reloads) PAUSE_MS=1000 (each call's length) PORT=15160
#   (the server's; the caller uses PORT+1, the registering SIPp PORT+2, the
#   agents PORT+3) DIALECT=target/release/dialect OUT=DIR
# Everything listens on 127.0.0.1; the run stops by itself.

set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
MODE=${MODE:-b2bua}
RATE=${RATE:-200}
RELOADS=${RELOADS:-50}
BROKEN=${BROKEN:-10}
INTERVAL_MS=${INTERVAL_MS:-400}
PAUSE_MS=${PAUSE_MS:-1000}
PORT=${PORT:-15160}
FLIP_EVERY=${FLIP_EVERY:-5}
WINDOW_MS=${WINDOW_MS:-50}
DIALECT=${DIALECT:-$ROOT/target/release/dialect}
SIPP=${SIPP:-sipp}
OUT=${OUT:-$(mktemp -d /tmp/reload-under-load.XXXXXX)}
mkdir -p "$OUT/script"
OUT=$(cd "$OUT" && pwd)

ROSTER=$ROOT/bench/sip-b2bua/agents.toml
CREDENTIALS=$ROOT/bench/sip-b2bua/agents.csv
AGENTS=$(grep -c '^\[\[agent\]\]' "$ROSTER")
SCRIPT=$OUT/script/queue.dial

die() { echo "reload-under-load: $*" >&2; exit 1; }
# shellcheck source=bench/sip-lib.sh
. "$ROOT/bench/sip-lib.sh"

command -v "$SIPP" >/dev/null || die "sipp is not installed (Debian: sip-tester)"
[ -x "$DIALECT" ] || die "$DIALECT is not built (cargo build --release)"

# The two valid versions and a broken one. B2BUA mode: the benchmark's
# queue, reached through a route that reads the switch; redirect mode: a
# line transferred to the trunk.
case "$MODE" in
b2bua) ;;
redirect)
    FLIP_EVERY=0
    printf 'mode = "redirect"\n\n[targets]\ntrunk = "sip:{number}@trunk.test"\n' >"$OUT/script/dialect.toml"
    ;;
*) die "MODE is b2bua or redirect, not $MODE" ;;
esac
if [ "$MODE" = redirect ]; then
    printf 'entry "+1 800 555 0100" -> transfer "+15125550100"\n' >"$OUT/version-a.dial"
else
sed 's/^entry "+1 800 555 0100" -> queue bench$/switch priority_line "Bench: calls queue at priority 5"\
route line {\
  when switch(priority_line) -> queue bench priority 5\
  otherwise -> queue bench\
}\
entry "+1 800 555 0100" -> route line/' "$ROOT/bench/sip-b2bua/queue.dial" >"$OUT/version-a.dial"
grep -q 'route line' "$OUT/version-a.dial" || die "the benchmark's entry line moved; update the sed above"
fi
{ cat "$OUT/version-a.dial"; echo "# version B"; } >"$OUT/version-b.dial"
{ cat "$OUT/version-a.dial"; echo 'entry "+1 800 555 0199" -> route nowhere'; } >"$OUT/broken.dial"
cp "$OUT/version-a.dial" "$SCRIPT"

SERVER_PID=
AGENT_PID=
cleanup() {
    if [ -n "$AGENT_PID" ]; then kill "$AGENT_PID" 2>/dev/null || true; fi
    if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; fi
    wait 2>/dev/null || true
}
trap cleanup EXIT

steps=$((RELOADS + BROKEN))
seconds=$(((steps * INTERVAL_MS + 999) / 1000 + 2))
calls=$((RATE * seconds))
REDIRECT_UAC=$ROOT/tests/sipp/uac_redirect.xml
if [ "$MODE" = redirect ]; then
    "$DIALECT" serve "$SCRIPT" --sip "127.0.0.1:$PORT" --db "$OUT/dialect.db" \
        --admin 127.0.0.1:0 >"$OUT/serve.log" 2>"$OUT/serve.err" &
    SERVER_PID=$!
    wait_answering "$SERVER_PID" "$OUT/serve.log" "$OUT" -sf "$REDIRECT_UAC" \
        "127.0.0.1:$PORT" -i 127.0.0.1 -p "$((PORT + 1))" -s +18005550100 \
        -key caller +15125550123 -set want_contact "sip:+15125550100@trunk.test"
    (cd "$OUT" && exec "$SIPP" -sf "$REDIRECT_UAC" "127.0.0.1:$PORT" \
        -i 127.0.0.1 -p "$((PORT + 1))" -s +18005550100 -key caller +15125550123 \
        -set want_contact "sip:+15125550100@trunk.test" \
        -r "$RATE" -m "$calls" -trace_stat -stf stat-caller.csv -fd 1 \
        -trace_logs -log_file versions.log \
        -timeout "$((seconds * 2 + 10))s" -timeout_error -nostdin \
        >"$OUT/sipp-caller.txt" 2>&1) &
    CALLER_PID=$!
else
    "$DIALECT" serve "$SCRIPT" --mode b2bua --agents "$ROSTER" \
        --config "$ROOT/bench/sip-b2bua/dialect.toml" --sip "127.0.0.1:$PORT" \
        --db "$OUT/dialect.db" --admin 127.0.0.1:0 >"$OUT/serve.log" 2>"$OUT/serve.err" &
    SERVER_PID=$!
    wait_answering "$SERVER_PID" "$OUT/serve.log" "$OUT" \
        -sf "$ROOT/bench/sip-b2bua/options.xml" "127.0.0.1:$PORT" -i 127.0.0.1 -p "$((PORT + 1))"
    (cd "$OUT" && "$SIPP" -sf "$ROOT/bench/sip-b2bua/register.xml" "127.0.0.1:$PORT" \
        -i 127.0.0.1 -p "$((PORT + 2))" -inf "$CREDENTIALS" \
        -key agent_port "$((PORT + 3))" -key expires 3600 \
        -m "$AGENTS" -r 500 -timeout 20s -timeout_error -nostdin >"$OUT/register.txt" 2>&1) ||
        die "the agents did not register; see $OUT/register.txt"
    (cd "$OUT" && exec "$SIPP" -sf "$ROOT/bench/sip-b2bua-agent.xml" \
        -i 127.0.0.1 -p "$((PORT + 3))" -mp 16300 -m "$calls" \
        -trace_stat -stf stat-agent.csv -fd 1 -timeout "$((seconds * 2 + 20))s" -nostdin \
        >"$OUT/sipp-agent.txt" 2>&1) &
    AGENT_PID=$!
    (cd "$OUT" && exec "$SIPP" -sf "$ROOT/bench/sip-b2bua-uac.xml" "127.0.0.1:$PORT" \
        -i 127.0.0.1 -p "$((PORT + 1))" -mp 16200 \
        -s +18005550100 -key caller +15125550123 -d "$PAUSE_MS" \
        -r "$RATE" -m "$calls" -trace_stat -stf stat-caller.csv -fd 1 \
        -timeout "$((seconds * 2 + 10))s" -timeout_error -nostdin \
        >"$OUT/sipp-caller.txt" 2>&1) &
    CALLER_PID=$!
fi

echo "reload-under-load: $calls calls at $RATE/s; $RELOADS reloads and $BROKEN broken versions, one every $INTERVAL_MS ms; output in $OUT" >&2
sleep 1
every=$((steps / (BROKEN > 0 ? BROKEN : 1)))
admin=$(grep -m1 -o 'admin API on http://[0-9.:]*' "$OUT/serve.log" | sed 's#.*http://##')
[ -n "$admin" ] || die "the server opened no admin API; see $OUT/serve.log"
valid=0
flipped=0
for i in $(seq "$steps"); do
    if [ "$FLIP_EVERY" -gt 0 ] && [ $((i % FLIP_EVERY)) -eq 0 ]; then
        state=on
        if [ $((flipped % 2)) -eq 1 ]; then state=off; fi
        flipped=$((flipped + 1))
        "$DIALECT" switch priority_line "$state" --server "$admin" \
            --token-file "$OUT/dialect.token" --by bench >>"$OUT/switch.log" 2>&1 ||
            die "dialect switch failed; see $OUT/switch.log"
    fi
    if [ "$BROKEN" -gt 0 ] && [ $((i % every)) -eq 0 ]; then
        cp "$OUT/broken.dial" "$SCRIPT"
    else
        valid=$((valid + 1))
        if [ $((valid % 2)) -eq 1 ]; then cp "$OUT/version-b.dial" "$SCRIPT"; else cp "$OUT/version-a.dial" "$SCRIPT"; fi
    fi
    kill -HUP "$SERVER_PID"
    sleep "$(printf '%d.%03d' $((INTERVAL_MS / 1000)) $((INTERVAL_MS % 1000)))"
done
caller_status=0
wait "$CALLER_PID" || caller_status=$?
if [ -n "$AGENT_PID" ]; then wait "$AGENT_PID" || true; fi
AGENT_PID=
kill "$SERVER_PID"
wait "$SERVER_PID" || die "the server did not stop cleanly; see $OUT/serve.log"
SERVER_PID=

start_version=$(grep -m1 -o 'program version [0-9a-f]*' "$OUT/serve.log" | cut -d' ' -f3)
PYTHONPATH="$ROOT/bench" python3 - "$OUT" "$calls" "$RELOADS" "$BROKEN" "$caller_status" "$start_version" "$WINDOW_MS" "$flipped" "$MODE" <<'PY'
import bisect, datetime, json, re, sqlite3, statistics, sys
from sipp_stats import last_stats

out, calls, reloads, broken, caller_status, start = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6]
window_ms, flipped, mode = int(sys.argv[7]), int(sys.argv[8]), sys.argv[9]
caller = last_stats("stat-caller.csv", out) or {}
agent = last_stats("stat-agent.csv", out) or {}
log = open(f"{out}/serve.log").read()
err = open(f"{out}/serve.err").read()
applied = re.findall(r"reloaded: version (\w+) in force .*swapped ([0-9.]+) ms", log)
refused = err.count("refused; the running version stays")
versions = {start} | {v for v, _ in applied}
failed_c = int(caller.get("FailedCall(C)", -1))
made = int(caller.get("TotalCallCreated", 0))
lat = sorted(float(ms) for _, ms in applied)
print(f"calls made {made} of {calls}; caller failed {failed_c} (SIPp status {caller_status})")
print(f"reloads put in force {len(applied)} of {reloads}; refused {refused} of {broken}; versions seen {len(versions)}")
if lat:
    print(f"reload latency (request to swap): min {lat[0]:.1f} ms, median {statistics.median(lat):.1f} ms, max {lat[-1]:.1f} ms")
ok = (made == calls and failed_c == 0 and caller_status == "0" and len(versions) == 2
      and len(applied) == reloads and refused == broken)

def instant(text):
    """RFC 3339 with up to nanoseconds, as milliseconds since 1970."""
    m = re.match(r"(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?Z$", text)
    base = datetime.datetime.fromisoformat(m.group(1)).replace(tzinfo=datetime.timezone.utc)
    return base.timestamp() * 1000 + int((m.group(2) or "0")[:3].ljust(3, "0"))

if mode == "redirect":
    # Each 302's version, as the scenario logged it.
    answered = re.findall(r"call (\d+): 302 to \S+, version (\w+)", open(f"{out}/versions.log").read())
    by_version = {}
    for _, v in answered:
        by_version[v] = by_version.get(v, 0) + 1
    print(f"302s logged {len(answered)}, by version: {by_version}")
    ok = ok and len(answered) == calls and set(by_version) == versions
else:
    failed_a = int(agent.get("FailedCall(C)", -1))
    db = sqlite3.connect(f"{out}/dialect.db")
    rows = db.execute("SELECT program_version, count(*) FROM calls GROUP BY 1").fetchall()
    integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
    flips = [(instant(at), bool(on)) for at, on in
             db.execute("SELECT at, on_ FROM switch_flips WHERE name = 'priority_line' ORDER BY id")]
    times = [t for t, _ in flips]

    def state_at(ms):
        i = bisect.bisect_right(times, ms)
        return flips[i - 1][1] if i else False

    wrong = ambiguous = on_calls = 0
    for arrived, switches in db.execute("SELECT arrived, switches FROM calls"):
        t = instant(arrived)
        on = "priority_line" in json.loads(switches)
        on_calls += on
        near = any(abs(t - f) <= window_ms for f in times)
        ambiguous += near
        if on != state_at(t) and not near:
            wrong += 1
    records = sum(n for _, n in rows)
    print(f"agents failed {failed_a}; records {records}, by version: {dict(rows)}; integrity {integrity}")
    print(f"switch flips {len(flips)} of {flipped}; calls with it on {on_calls}; records whose switches differ from the flips' {wrong} ({ambiguous} within {window_ms} ms of a flip)")
    ok = (ok and failed_a == 0 and records == calls and all(v in versions for v, _ in rows)
          and integrity == "ok" and len(flips) == flipped and wrong == 0)
print("PASS" if ok else "FAIL")
sys.exit(0 if ok else 1)
PY
