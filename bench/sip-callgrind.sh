#!/usr/bin/env bash
# Instructions per call of a redirect server, counted by valgrind's
# callgrind: deterministic, so unlike CPU time it can be compared between
# builds and against Kamailio on a noisy machine.
#
# The server runs under callgrind; SIPp makes one call to see it answer,
# then CALLS calls at a slow RATE (callgrind runs the server some fifty
# times slower), each an INVITE, its 302 and the ACK
# (bench/sip-redirect-uac.xml). The count covers the calls only: the
# server's counters are dumped once it answers (`callgrind_control
# --dump`) and again after the calls, and the second dump is read.
#
#   SERVER=dialect-small  dialect serve bench/sip-redirect/small.dial
#   SERVER=dialect-large  the same with large.dial (500 rules)
#   SERVER=kamailio-small Kamailio 5.6 as in bench/sip-redirect.sh (one
#                         worker, -x fm -X fm): every process is counted,
#                         its receiving worker is nearly all of it
#
# Usage: SERVER=dialect-small bench/sip-callgrind.sh
# Settings: CALLS=3000 RATE=300 PORT=15070 SIPP_PORT=15071
#           DIALECT=target/release/dialect OUT=DIR
# Prints the instructions per call, and where the Dialect server spent
# them (callgrind_annotate, inclusive) in OUT/annotate.txt.

set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SERVER=${SERVER:-dialect-small}
CALLS=${CALLS:-3000}
RATE=${RATE:-300}
PORT=${PORT:-15070}
SIPP_PORT=${SIPP_PORT:-15071}
DIALECT=${DIALECT:-$ROOT/target/release/dialect}
OUT=${OUT:-$(mktemp -d /tmp/sip-callgrind.XXXXXX)}
mkdir -p "$OUT"
DIALED=+18005550100

die() { echo "sip-callgrind: $*" >&2; exit 1; }
for tool in valgrind callgrind_control callgrind_annotate sipp; do
    command -v "$tool" >/dev/null || die "$tool is not installed"
done

case $SERVER in
    dialect-small) caller=+15125550123 ;;
    dialect-large) caller=+14155550100 ;;
    kamailio-small) caller=+15125550123 ;;
    *) die "unknown SERVER $SERVER" ;;
esac

rm -f "$OUT"/cg.out.*
case $SERVER in
    dialect-*)
        valgrind --tool=callgrind --callgrind-out-file="$OUT/cg.out.%p" "$DIALECT" serve \
            "$ROOT/bench/sip-redirect/${SERVER#dialect-}.dial" --mode redirect \
            --sip "127.0.0.1:$PORT" >"$OUT/server.log" 2>&1 &
        ;;
    kamailio-small)
        TZ=America/Chicago valgrind --tool=callgrind --trace-children=yes \
            --callgrind-out-file="$OUT/cg.out.%p" kamailio -f "$ROOT/bench/kamailio/redirect.cfg" \
            -DD -E -n 1 -x fm -X fm -m 64 -M 32 -w "$OUT" -l "udp:127.0.0.1:$PORT" \
            >"$OUT/server.log" 2>&1 &
        ;;
esac
server=$!
stop() {
    kill -INT "$server" 2>/dev/null || true
    sleep 3
    pkill -9 -f "udp:127.0.0.1:$PORT|--sip 127.0.0.1:$PORT" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
}
trap stop EXIT

sipp_call() {
    (cd "$OUT" && sipp -sf "$ROOT/bench/sip-redirect-uac.xml" "127.0.0.1:$PORT" -i 127.0.0.1 \
        -p "$SIPP_PORT" -s "$DIALED" -key caller "$caller" -nostdin -timeout_error "$@")
}
ready=
for _ in $(seq 60); do
    if sipp_call -m 1 -timeout 2s >/dev/null 2>&1; then ready=1; break; fi
    sleep 1
done
[ -n "$ready" ] || die "the server does not answer; see $OUT/server.log"
callgrind_control --dump >/dev/null
sipp_call -r "$RATE" -m "$CALLS" -timeout "$((CALLS / RATE * 3 + 30))s" >"$OUT/sipp.txt" 2>&1 \
    || die "SIPp failed; see $OUT/sipp.txt"
callgrind_control --dump >/dev/null
sleep 1
total=0
for f in "$OUT"/cg.out.*.2; do
    n=$(awk '/^summary:/ {print $2}' "$f")
    total=$((total + ${n:-0}))
done
[ "$total" -gt 0 ] || die "no second dump in $OUT"
[[ $SERVER == dialect-* ]] && callgrind_annotate --inclusive=yes "$OUT"/cg.out.*.2 >"$OUT/annotate.txt" 2>/dev/null
echo "$SERVER: $total instructions for $CALLS calls, $((total / CALLS)) per call (output in $OUT)"
