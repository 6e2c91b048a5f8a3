#!/usr/bin/env bash
# Checks the SIPp scenarios of tests/sipp/ against Kamailio 5.6 standing in
# for `dialect serve`: bench/kamailio/redirect.cfg (the stateless redirect
# server of the benchmark, with small.dial's routing logic) and
# tests/sipp/kamailio-registrar.cfg (digest-authenticated REGISTER). Every
# case runs over UDP and TCP and must end with the expected SIPp status:
# 0 for the calls that go as the scenario says, non-zero for the ones that
# must fail (a wrong Contact, a wrong code, a wrong password against a
# scenario expecting 200), so a scenario that checks nothing is caught.
# Then `dialect test` runs the scripts' own tests, which expect the same
# answers of Dialect.
#
# Usage: tests/sipp/check-with-kamailio.sh   (exit status 0 when every case
# ended as expected). Loopback only, one call per case, each bounded by
# SIPp's -timeout; the servers are stopped on exit.

set -uo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SIPP=${SIPP:-sipp}
KAMAILIO=${KAMAILIO:-kamailio}
REDIRECT_PORT=${REDIRECT_PORT:-15170}
REGISTRAR_PORT=${REGISTRAR_PORT:-15172}
SIPP_PORT=${SIPP_PORT:-15171}
UAS_PORT=${UAS_PORT:-15173}
WORK=$(mktemp -d /tmp/sipp-check.XXXXXX)
PIDS=()

cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT TERM

command -v "$SIPP" >/dev/null || { echo "sipp is not installed (Debian: sip-tester)" >&2; exit 1; }
command -v "$KAMAILIO" >/dev/null || { echo "kamailio is not installed" >&2; exit 1; }

TZ=America/Chicago "$KAMAILIO" -f "$ROOT/bench/kamailio/redirect.cfg" -DD -E -n 1 -x fm -X fm \
    -m 64 -M 32 -w "$WORK" -P "$WORK/redirect.pid" \
    -l "udp:127.0.0.1:$REDIRECT_PORT" -l "tcp:127.0.0.1:$REDIRECT_PORT" >"$WORK/redirect.log" 2>&1 &
PIDS+=($!)
"$KAMAILIO" -f "$ROOT/tests/sipp/kamailio-registrar.cfg" -DD -E -n 1 -w "$WORK" -P "$WORK/registrar.pid" \
    -l "udp:127.0.0.1:$REGISTRAR_PORT" -l "tcp:127.0.0.1:$REGISTRAR_PORT" >"$WORK/registrar.log" 2>&1 &
PIDS+=($!)
sleep 2

TRUNK=127.0.0.1:5080
failures=0
n=0

# case_ EXPECTED_STATUS(0|fail) PORT SCENARIO ARGS..., over each of
# $TRANSPORTS (UDP and TCP unless set); ARGS come last, so `-m` overrides
# the one call.
case_() {
    local expect=$1 port=$2 scenario=$3
    shift 3
    local transport status
    for transport in ${TRANSPORTS:-u1 t1}; do
        n=$((n + 1))
        status=0
        (cd "$WORK" && "$SIPP" -sf "$ROOT/tests/sipp/$scenario" "127.0.0.1:$port" -t "$transport" \
            -i 127.0.0.1 -p "$SIPP_PORT" -m 1 -timeout 30s -timeout_error \
            -trace_err -error_file "$WORK/case-$n.err" -trace_logs -log_file "$WORK/case-$n.log" \
            -nostdin "$@" >"$WORK/case-$n.out" 2>&1) || status=$?
        if { [ "$expect" = 0 ] && [ "$status" = 0 ]; } || { [ "$expect" = fail ] && [ "$status" != 0 ]; }; then
            echo "ok    $scenario -t $transport $* (status $status)"
        else
            echo "FAIL  $scenario -t $transport $* (status $status, expected $expect; see $WORK/case-$n.*)"
            failures=$((failures + 1))
        fi
    done
}

case_ 0 "$REDIRECT_PORT" uac_redirect.xml -s +18005550100 -key caller +15125550123 -set want_contact "sip:+15125550199@$TRUNK"
case_ 0 "$REDIRECT_PORT" uac_redirect.xml -s +18005550100 -key caller +447700900123 -set want_contact "sip:+442079460000@$TRUNK"
case_ 0 "$REDIRECT_PORT" uac_redirect.xml -s +18005550199 -key caller +14155550100 -set want_contact "sip:+15125550100@$TRUNK"
case_ fail "$REDIRECT_PORT" uac_redirect.xml -s +18005550100 -key caller +15125550123 -set want_contact "sip:+15125550100@$TRUNK"
case_ fail "$REDIRECT_PORT" uac_redirect.xml -s +18005550486 -key caller +15125550123 -set want_contact "sip:+15125550199@$TRUNK"
case_ 0 "$REDIRECT_PORT" uac_reject.xml -s +18005550486 -key caller +15125550123 -set want_code 486
case_ 0 "$REDIRECT_PORT" uac_reject.xml -s +18005550603 -key caller +15125550123 -set want_code 603
case_ 0 "$REDIRECT_PORT" uac_reject.xml -s +18005550480 -key caller +15125550123 -set want_code 480
case_ 0 "$REDIRECT_PORT" uac_reject.xml -s +18005550100 -key caller +19005551234 -set want_code 486
case_ 0 "$REDIRECT_PORT" uac_reject.xml -s +18009999999 -key caller +15125550123 -set want_code 404
case_ fail "$REDIRECT_PORT" uac_reject.xml -s +18005550486 -key caller +15125550123 -set want_code 603
case_ fail "$REDIRECT_PORT" uac_reject.xml -s +18005550100 -key caller +15125550123 -set want_code 486
case_ 0 "$REDIRECT_PORT" uac_redirect_retrans.xml -s +18005550100 -key caller +15125550123
# Random loss only over UDP: SIPp does not retransmit over TCP.
TRANSPORTS=u1 case_ 0 "$REDIRECT_PORT" uac_redirect_retrans.xml -s +18005550100 -key caller +15125550123 -lost 10 -m 20 -r 10
case_ 0 "$REGISTRAR_PORT" uac_register.xml -s 1001 -au 1001 -ap secret1001 -key expires 3600
case_ 0 "$REGISTRAR_PORT" uac_register.xml -s 1001 -au 1001 -ap secret1001 -key expires 0
case_ fail "$REGISTRAR_PORT" uac_register.xml -s 1001 -au 1001 -ap wrong -key expires 3600
case_ 0 "$REGISTRAR_PORT" uac_register_wrong_password.xml -s 1002 -au 1002 -ap wrong -key expires 3600
case_ fail "$REGISTRAR_PORT" uac_register_wrong_password.xml -s 1002 -au 1002 -ap secret1002 -key expires 3600

# Which of two digest challenges SIPp answers: a SIPp stand-in registrar
# (uas_register_two_challenges.xml) offers SHA-256 then MD5, or MD5 then
# SHA-256. SIPp 3.6.1 answers only the first, and only when it is MD5.
challenge_case() {
    local expect=$1 first=$2 second=$3 status=0
    n=$((n + 1))
    (cd "$WORK" && exec "$SIPP" -sf "$ROOT/tests/sipp/uas_register_two_challenges.xml" \
        -i 127.0.0.1 -p "$UAS_PORT" -key first "$first" -key second "$second" \
        -m 1 -timeout 20s -nostdin -trace_logs -log_file "$WORK/case-$n.uas.log" \
        >"$WORK/case-$n.uas.out" 2>&1) &
    local uas=$!
    sleep 0.5
    (cd "$WORK" && "$SIPP" -sf "$ROOT/tests/sipp/uac_register.xml" "127.0.0.1:$UAS_PORT" \
        -i 127.0.0.1 -p "$SIPP_PORT" -s 1001 -au 1001 -ap secret1001 -key expires 3600 \
        -m 1 -timeout 10s -timeout_error -trace_err -error_file "$WORK/case-$n.err" \
        -nostdin >"$WORK/case-$n.out" 2>&1) || status=$?
    kill "$uas" 2>/dev/null
    wait "$uas" 2>/dev/null
    if { [ "$expect" = 0 ] && [ "$status" = 0 ]; } || { [ "$expect" = fail ] && [ "$status" != 0 ]; }; then
        echo "ok    uac_register.xml against a 401 offering $first then $second (status $status)"
    else
        echo "FAIL  uac_register.xml against a 401 offering $first then $second (status $status, expected $expect; see $WORK/case-$n.*)"
        failures=$((failures + 1))
    fi
}
challenge_case 0 MD5 SHA-256
challenge_case fail SHA-256 MD5

# The same expectations on the Dialect side: the scripts' own tests, run by
# `dialect test` when a dialect binary is at hand.
DIALECT=${DIALECT:-}
for candidate in "$ROOT/target/release/dialect" "$ROOT/target/debug/dialect"; do
    [ -z "$DIALECT" ] && [ -x "$candidate" ] && DIALECT=$candidate
done
if [ -n "$DIALECT" ]; then
    for script in small large; do
        n=$((n + 1))
        if "$DIALECT" test "$ROOT/bench/sip-redirect/$script.dial" >"$WORK/test-$script.out" 2>&1; then
            echo "ok    dialect test bench/sip-redirect/$script.dial"
        else
            echo "FAIL  dialect test bench/sip-redirect/$script.dial (see $WORK/test-$script.out)"
            failures=$((failures + 1))
        fi
    done
else
    echo "no dialect binary (target/release or target/debug): dialect test not run" >&2
fi

echo "$((n - failures)) of $n cases as expected"
[ "$failures" = 0 ]
