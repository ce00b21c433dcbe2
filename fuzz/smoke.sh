#!/bin/sh
# smoke.sh O SECONDS ARGS HARNESS... — runs each harness SECONDS over a fresh copy of its seed
# corpus (tests/fuzz/HARNESS), then prints per harness its executions and whether it crashed.
# Exits non-zero if any harness crashed. Crash inputs are left in O/fuzz/artifacts/HARNESS/.
o=$1 secs=$2 args=$3
shift 3
status=0
summary=""
for h in "$@"; do
    corpus=$o/fuzz/corpus/$h
    artifacts=$o/fuzz/artifacts/$h
    log=$o/fuzz/$h.log
    rm -rf "$corpus" "$artifacts"
    mkdir -p "$corpus" "$artifacts"
    [ -d "tests/fuzz/$h" ] && cp tests/fuzz/"$h"/* "$corpus"/ 2>/dev/null
    echo "==== $h: $secs s over $(ls "$corpus" | wc -l) seeds (log: $log)"
    # shellcheck disable=SC2086 # ARGS are options for the fuzzer, split on purpose
    "$o/fuzz/$h" -max_total_time="$secs" -print_final_stats=1 -artifact_prefix="$artifacts/" $args "$corpus" >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    crashes=$(ls "$artifacts" | wc -l)
    if [ "$rc" -ne 0 ] || [ "$crashes" -ne 0 ]; then
        status=1
        line="$h: ${execs:-?} executions, CRASH (exit $rc): $(ls "$artifacts" | head -n 3 | tr '\n' ' ')"
        grep -m 5 -E 'ERROR: |check failed|runtime error' "$log"
    else
        line="$h: ${execs:-?} executions, no crash, corpus $(ls "$corpus" | wc -l) inputs"
    fi
    echo "$line"
    summary="$summary$line
"
done
echo "==== fuzz-smoke summary"
printf '%s' "$summary"
exit $status
