#!/bin/sh
# run.sh FAULT_DIR — the fault-injection driver (make faults-check).
# Runs the scenario once to count the calls of each wrapped function in the server and in the
# library, then once per call index (at most $FAULTS_MAX per function and errno, evenly spaced)
# with that call failing, each run against its own fresh server; and, for the resource errors,
# once with $FAULTS_BURST calls in a row failing from the middle index on. Polling is off at both
# ends (NSEMD_SPIN_US=0, NSEM_SPIN_US=0): a poll's calls depend on timing, and call N must be the
# same call in every run. After each run:
#   the scenario exited 0 (a failure gave a Windows error; no signal, no timeout);
#   the server that served it last is still the one alive (no crash, no exit): the scenario kills
#   its first server itself and prints the pid of the one that takes over — unless a server never
#   started, which is the one clean way for a server fault to end (with a logged reason);
#   the server that took over recovered the arena, and waited for the scenario, alive;
#   a healthy client sees no object, handle, pin, record, ticket or arena slot left (the scenario
#   checks the same of its first server, before it kills it);
#   nothing in the logs from ASan or UBSan (a SANITIZE=1 build).
# Prints one line per failing run and a summary; exits 1 if any run failed.
set -u
B=$1
MAX=${FAULTS_MAX:-25}
JOBS=${FAULTS_JOBS:-2}
TIMEOUT=${FAULTS_TIMEOUT:-60}
BURST=${FAULTS_BURST:-8}

# One run: side (server|lib), specification. Prints "ok ..." or "FAIL ...: why".
if [ "${2:-}" = --one ]; then
    side=$3 spec=$4
    d=$(mktemp -d /tmp/nsem-fi.XXXXXX)
    export NSEM_SERVER=$d/s.sock NSEMD_GRACE_MS=5000 NSEMD_LOG=1 NSEMD_SPIN_US=0 NSEM_SPIN_US=0
    export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:log_path=$d/asan} UBSAN_OPTIONS=print_stacktrace=1:log_path=$d/ubsan
    unset NSEM_FAULT NSEMD_FAULT NSEM_FAULT_COUNTS NSEMD_FAULT_COUNTS
    if [ "$side" = server ]; then var=NSEMD_FAULT; else var=NSEM_FAULT; fi
    env "$var=$spec" timeout -s KILL "$TIMEOUT" "$B/bin/scenario" "fi$$" > "$d/out" 2>&1
    rc=$?
    # The first server, and the last one (restarted after the scenario killed the first).
    first=$(sed -n 's/^server //p' "$d/out" | head -n 1)
    last=$(sed -n 's/^server //p' "$d/out" | tail -n 1)
    # The server's own fault may hit the witness's connection: ask again, a few times.
    for try in 1 2 3 4 5; do
        timeout -s KILL 20 "$B/bin/clean" 15000 > "$d/clean" 2>&1
        crc=$?
        [ $crc = 2 ] || break
    done
    now=$(sed -n 's/^server //p' "$d/clean" | head -n 1)
    why=
    if [ $rc = 137 ]; then why="scenario hung (killed after ${TIMEOUT}s)"
    elif [ $rc -gt 128 ]; then why="scenario killed by signal $((rc - 128))"
    elif [ $rc != 0 ]; then why="scenario broke the contract: $(grep -v '^server' "$d/out" | head -n 3 | tr '\n' ' ')"
    fi
    if [ -n "${last:-}" ] && [ "$last" != 0 ] && [ -n "${now:-}" ] && [ "$last" != "$now" ]; then
        why="$why${why:+; }server $last died: $(grep -i nsemd "$d/out" | head -n 2 | tr '\n' ' ')"
    fi
    # A server that took over after the crash recovered the arena: it must never start afresh
    # (the objects of a live process lost) because of a fault of its own.
    if [ -n "${last:-}" ] && [ "$last" != 0 ] && [ "$last" != "$first" ] && ! grep -q "^nsemd\[$last\]: recovered" "$d/out"; then
        why="$why${why:+; }server $last took over without recovering the arena"
    fi
    # The scenario was alive and connected at the crash: the recovering server must wait for it.
    if [ -n "${last:-}" ] && grep -q "^nsemd\[$last\]: recovered .*; 0 processes to come back" "$d/out"; then
        why="$why${why:+; }server $last took the live scenario for dead"
    fi
    # No server at the first call (or after the crash): a server fault may end a server only at
    # its start, with a logged reason; or the server, alive, dropped the client (logged too: the
    # witness finds it).
    if [ "$side" = server ] && { [ "${first:-0}" = 0 ] || [ "${last:-0}" = 0 ]; } &&
        ! grep -q '^nsemd\[[0-9]*\]: cannot' "$d/out" && ! grep -q "^nsemd\[${now:-x}\]: " "$d/out"; then
        why="$why${why:+; }no server, and no logged reason"
    fi
    if [ $crc = 1 ]; then why="$why${why:+; }$(grep '^left' "$d/clean")"
    elif [ $crc != 0 ]; then why="$why${why:+; }witness got no answer ($crc): $(head -n 1 "$d/clean")"
    fi
    [ -n "${now:-}" ] && kill "$now" 2>/dev/null
    # Let the server exit (its ASan report is written then).
    for i in 1 2 3 4 5 6 7 8 9 10; do [ -n "${now:-}" ] && kill -0 "$now" 2>/dev/null && sleep 0.2; done
    if cat "$d"/asan* "$d"/ubsan* 2>/dev/null | grep -q 'ERROR: \|runtime error'; then
        why="$why${why:+; }sanitizer: $(cat "$d"/asan* "$d"/ubsan* | grep -m 1 'ERROR: \|runtime error')"
    fi
    if [ -n "$why" ]; then echo "FAIL $side $spec: $why (logs in $d)"; else echo "ok $side $spec"; rm -rf "$d"; fi
    exit 0
fi

# Counting run: nothing fails (every call must succeed); each side keeps, per function, the
# highest call index any of its processes reached (the killed server's and the helpers' too).
d=$(mktemp -d /tmp/nsem-fi-count.XXXXXX)
NSEM_SERVER=$d/s.sock NSEMD_GRACE_MS=5000 NSEMD_SPIN_US=0 NSEM_SPIN_US=0 \
    NSEMD_FAULT_COUNTS=$d/server.bin NSEM_FAULT_COUNTS=$d/lib.bin \
    timeout -s KILL "$TIMEOUT" "$B/bin/scenario" count > "$d/out" 2>&1 || { echo "the scenario fails without faults:"; cat "$d/out"; exit 1; }
pid=$(sed -n 's/^server //p' "$d/out" | tail -n 1)
NSEM_SERVER=$d/s.sock "$B/bin/clean" 5000 > "$d/clean" || { echo "leaks without faults:"; cat "$d/clean"; exit 1; }
kill "$pid"
for i in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$pid" 2>/dev/null && sleep 0.2; done
for side in server lib; do
    FAULTINJ_PRINT=$d/$side.bin "$B/bin/scenario" > "$d/$side" || exit 1
done

# Which errno each function is failed with, per side (the set worth walking).
plan_server="malloc:ENOMEM calloc:ENOMEM realloc:ENOMEM open:EMFILE socket:EMFILE accept4:EMFILE accept4:EINTR
recv:EINTR recv:EAGAIN send:EINTR send:EAGAIN sendmsg:EINTR sendmsg:EAGAIN mmap:ENOMEM ftruncate:ENOSPC
memfd_create:EMFILE epoll_ctl:ENOMEM fstat:EIO epoll_create1:EMFILE epoll_create1:ENOMEM epoll_wait:EINTR
epoll_pwait:EINTR flock:EWOULDBLOCK flock:ENOLCK read:EINTR read:EIO pread:EIO pwrite:ENOSPC pwrite:EIO fopen:EMFILE fopen:ENOMEM
poll:ENOMEM getrandom:EINTR fork:EAGAIN fork:ENOMEM bind:ENOMEM pidfd_open:EMFILE pidfd_open:ENOMEM"
plan_lib="malloc:ENOMEM calloc:ENOMEM realloc:ENOMEM open:EMFILE socket:EMFILE connect:EAGAIN send:EINTR send:EAGAIN
sendmsg:EINTR sendmsg:EAGAIN recvmsg:EINTR recvmsg:EAGAIN mmap:ENOMEM fstat:EIO flock:EINTR flock:ENOLCK fopen:EMFILE read:EINTR poll:EINTR
poll:ENOMEM futex_wait:EINTR futex_wait:EAGAIN"

list=$d/runs
: > "$list"
for side in server lib; do
    if [ $side = server ]; then plan=$plan_server; else plan=$plan_lib; fi
    for item in $plan; do
        f=${item%%:*} e=${item#*:}
        n=$(awk -v f="$f" '$1 == f { print $2 }' "$d/$side")
        [ -z "$n" ] || [ "$n" = 0 ] && continue
        k=$n; [ "$k" -gt "$MAX" ] && k=$MAX
        # k indices evenly spread over 1..n, first and last included.
        awk -v n="$n" -v k="$k" -v f="$f" -v e="$e" -v s="$side" 'BEGIN {
            for (i = 0; i < k; i++) { x = k > 1 ? 1 + int(i * (n - 1) / (k - 1) + 0.5) : 1; if (x != last) print s, f ":" x ":" e; last = x } }' >> "$list"
        # A shortage that lasts: BURST calls in a row from the middle on (resource errors only:
        # an endless EINTR is no real condition).
        case $e in
        ENOMEM | EMFILE | ENOSPC | EIO | ENOLCK) echo "$side $f:$(((n + 1) / 2))*$BURST:$e" >> "$list"; k="$k + 1 burst" ;;
        esac
        echo "$side $f:$e: $n calls, walking $k" >&2
    done
done
total=$(wc -l < "$list")
echo "walking $total call sites ($JOBS at a time)" >&2
res=$d/results
xargs -P "$JOBS" -L 1 sh "$0" "$B" --one < "$list" > "$res"
fails=$(grep -c '^FAIL' "$res")
grep '^FAIL' "$res"
echo "faults-check: $total runs, $fails failed"
[ "$fails" = 0 ] && rm -rf "$d"
[ "$fails" = 0 ]
