#!/usr/bin/env bash
# Runs Weir's core-runtime benchmarks one after the other and writes bench/RESULTS.md.
#
#   bench/run.sh                       # everything, best of 3 runs each
#   REPEAT=1 RECORDS=100000000 bench/run.sh
#
# Environment: RECORDS (pipeline records per run, default 300M), TEXT_MB (default 100),
# EVENTS (window events per run, default 10M), STATE_MB (state of the rocksdb `state-size` run,
# default 3072),
# REPEAT (runs per benchmark, the best is kept; default 3), QUIET_WAIT (seconds to wait at
# most for other processes to leave the CPUs before each run; default 120).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
RECORDS=${RECORDS:-300000000}
TEXT_MB=${TEXT_MB:-100}
EVENTS=${EVENTS:-10000000}
STATE_MB=${STATE_MB:-3072}
REPEAT=${REPEAT:-3}
QUIET_WAIT=${QUIET_WAIT:-120}
TEXT=${TMPDIR:-/tmp}/weir-bench-${TEXT_MB}mb.txt
BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release/weir-bench
RESULTS=$ROOT/bench/RESULTS.md
LOG=${TMPDIR:-/tmp}/weir-bench-runs.log

scripts/rocksdb-build-deps.sh
cargo build --release -p weir-bench --features rocksdb >&2

if [[ ! -s $TEXT ]]; then
    "$BIN" gen-text --mb "$TEXT_MB" --out "$TEXT" >&2
fi

# CPU seconds (USER_HZ ticks) all processes have used: user nice system irq softirq steal.
busy_ticks() { awk '/^cpu /{print $2+$3+$4+$7+$8+$9; exit}' /proc/stat; }

# Waits until the machine is quiet (< 0.2 cores busy over a second), at most QUIET_WAIT s.
wait_quiet() {
    local waited=0 before after
    while ((waited < QUIET_WAIT)); do
        before=$(busy_ticks)
        sleep 1
        after=$(busy_ticks)
        ((after - before < 20)) && return 0
        waited=$((waited + 1))
    done
    echo "warning: the machine stayed busy for ${QUIET_WAIT}s; measuring anyway (see other_load)" >&2
}

# The value of KEY in a report line `... KEY=value ...`.
field() { awk -v k="$2=" '{ for (i = 1; i <= NF; i++) if (index($i, k) == 1) { print substr($i, length(k) + 1); exit } }' <<<"$1"; }

# rec/s as a plain number, for picking the best run.
rate() {
    local r
    r=$(field "$1" "rec/s")
    awk -v r="$r" 'BEGIN { m = 1; if (r ~ /M$/) m = 1e6; else if (r ~ /k$/) m = 1e3; sub(/[Mk]$/, "", r); print r * m }'
}

# Runs `weir-bench ARGS` REPEAT times; prints the line of the fastest run.
best_of() {
    local best="" best_rate=0 line r
    for ((i = 0; i < REPEAT; i++)); do
        wait_quiet
        line=$("$BIN" "$@")
        echo "$line" | tee -a "$LOG" >&2
        r=$(rate "$line")
        if awk -v a="$r" -v b="$best_rate" 'BEGIN { exit !(a > b) }'; then
            best=$line best_rate=$r
        fi
    done
    echo "$best"
}

: >"$LOG"
lines=()
lines+=("$(best_of baseline --records "$RECORDS")")
lines+=("$(best_of pipeline --records "$RECORDS" --parallelism 1)")
lines+=("$(best_of pipeline --records "$RECORDS" --parallelism 2)")
lines+=("$(best_of pipeline --records "$RECORDS" --parallelism 1 --keys 100000)")
lines+=("$(best_of pipeline --records "$RECORDS" --parallelism 1 --keys 100000 -D execution.checkpointing.interval=1s)")
lines+=("$(best_of baseline-wordcount --input "$TEXT")")
lines+=("$(best_of wordcount --input "$TEXT" --parallelism 1)")
lines+=("$(best_of wordcount --input "$TEXT" --parallelism 2)")
lines+=("$(best_of wordcount --input "$TEXT" --parallelism 1 --final)")
lines+=("$(best_of wordcount --input "$TEXT" --parallelism 2 --final)")
for keys in 1000 100; do
    lines+=("$(best_of window --events "$EVENTS" --kind tumbling --keys $keys)")
    lines+=("$(best_of window --events "$EVENTS" --kind sliding --keys $keys)")
done

# Checkpoints of 100 MB and 1 GB of keyed values on each backend (rocksdb with full and with
# incremental checkpoints), and recovery with 100 MB (one run each).
checkpoint_lines=()
for backend in "-D state.backend.type=hashmap" "-D state.backend.type=rocksdb" \
    "-D state.backend.type=rocksdb -D execution.checkpointing.incremental=true"; do
    for size in "--state-mb 100" "--state-mb 1024 --checkpoints 2"; do
        wait_quiet
        # shellcheck disable=SC2086 # the arguments are split on purpose
        checkpoint_lines+=("$("$BIN" checkpoint $size $backend | tee -a "$LOG")")
    done
done
wait_quiet
checkpoint_lines+=("$("$BIN" recovery --state-mb 100 | tee -a "$LOG")")

# Keyed ValueState on both backends: throughput on 256 MB of state updated 4 times per key, and
# peak RSS against STATE_MB of state on rocksdb (one run each).
state_lines=()
for args in "--state-mb 256 --updates 4 -D state.backend.type=hashmap" \
    "--state-mb 256 --updates 4 -D state.backend.type=rocksdb" \
    "--state-mb $STATE_MB -D state.backend.type=rocksdb"; do
    wait_quiet
    # shellcheck disable=SC2086 # the arguments are split on purpose
    state_lines+=("$("$BIN" state-size $args | tee -a "$LOG")")
done

commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(git status --porcelain 2>/dev/null | grep -qv '^??' && echo " (with uncommitted changes)" || true)
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)

{
    echo "# Benchmark results"
    echo
    echo "Written by \`bench/run.sh\` (see \`bench/README.md\`); figures, not pass/fail."
    echo
    echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "- Commit: $commit$dirty"
    echo "- CPU: $cpu, \`nproc\` = $(nproc)"
    echo "- Best of $REPEAT runs each; pipeline runs (generator → map → key_by → sum → discard) use $RECORDS records; WordCount reads ${TEXT_MB} MB of Zipf-distributed text (10k words)."
    echo "- \`window\` rows: $EVENTS generated events, one per ms of event time, keys round-robin; a keyed 10 s tumbling count or a 10 s / 1 s sliding sum (\`sum\`), parallelism 1. With 1000 keys every key has one event per 1 s pane, so sliding windows must emit 10x the results; with 100 keys, 10 events per pane share each pane's accumulator."
    echo "- \`baseline*\` rows do the same per-record work in one loop without the runtime: what one core allows.
- rec/s/core = records / (user + system CPU seconds of the process). WordCount records are words."
    echo "- other load = cores kept busy by other processes during the run (0 = quiet machine)."
    echo
    echo "| benchmark | p | mode | records | secs | rec/s | rec/s/core | CPU s | peak RSS | other load |"
    echo "|---|---|---|---|---|---|---|---|---|---|"
    for l in "${lines[@]}"; do
        name=${l%% *}
        mode=$(field "$l" mode)
        case $name in
            pipeline)
                mode="$(field "$l" keys) keys"
                interval=$(field "$l" execution.checkpointing.interval)
                if [[ -n $interval ]]; then mode+=", checkpoint every $interval"; fi ;;
            baseline) mode="$(field "$l" keys) keys, one loop, no runtime" ;;
            baseline-wordcount) mode="streaming, one loop, no runtime" ;;
            window) mode="$(field "$l" kind), $(field "$l" keys) keys, $(field "$l" results) results" ;;
        esac
        echo "| $name | $(field "$l" p) | ${mode} | $(field "$l" records) | $(field "$l" secs) | $(field "$l" rec/s) | $(field "$l" rec/s/core) | $(field "$l" cpu_secs) | $(field "$l" peak_rss) | $(field "$l" other_load) |"
    done
    echo
    echo "Checkpoints (heap backend, parallelism 1, one rolling-reduce value of 100 bytes per key, checkpoints every 1 s to the local disk): sizes and durations of checkpoints taken once the state is full; recovery = time from an injected failure to the first record at the sink after the restart from the latest checkpoint."
    echo
    echo '```'
    printf '%s\n' "${checkpoint_lines[@]}"
    echo '```'
    echo
    echo "State backends (\`state-size\`, parallelism 1, one \`ValueState<Vec<u8>>\` of 500 bytes per key; rss_per_state = peak RSS / state bytes):"
    echo
    echo '```'
    printf '%s\n' "${state_lines[@]}"
    echo '```'
    echo
    echo "Raw lines:"
    echo
    echo '```'
    printf '%s\n' "${lines[@]}"
    echo '```'
} >"$RESULTS"

cat "$RESULTS"
