# Shared by the SIP benchmark scripts (sourced, not run): reading a
# server's CPU time and waiting until it answers. The sourcing script
# defines `die`.

# Time on CPU, in nanoseconds, of every thread of PID and of its child
# processes (/proc/.../task/*/schedstat; Kamailio forks its workers,
# Dialect's threads are tasks of one process).
cpu_ns() {
    local total=0 p t ns
    for p in "$1" $(pgrep -P "$1" || true); do
        for t in /proc/"$p"/task/*/schedstat; do
            read -r ns _ <"$t" 2>/dev/null || continue
            total=$((total + ns))
        done
    done
    echo "$total"
}

# wait_answering PID LOG DIR SIPP-ARGS...: returns once one SIPp call
# (run in DIR with SIPP-ARGS, which name the scenario and the server)
# succeeds; dies if PID exits or nothing answers within about 10 s.
wait_answering() {
    local pid=$1 log=$2 dir=$3
    shift 3
    for _ in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || die "the server exited at start; see $log"
        if (cd "$dir" && "$SIPP" "$@" -m 1 -timeout 1s -timeout_error -nostdin >/dev/null 2>&1); then
            return 0
        fi
        sleep 0.2
    done
    die "the server does not answer; see $log"
}
