#!/usr/bin/env bash
# Nexmark beside Apache Flink: generates the events once (weir-nexmark generate), then runs
# each query on Flink (../shared/peers/flink/run_sql.sh) and on Weir (`weir sql -f`), one
# after the other, never at the same time, and records events/s, events/s per core (from
# CPU time) and peak RSS. Optionally saves every engine's query output for differential
# comparison (Flink: a batch run into CSV files; the final result of every query).
#
#   bench/nexmark/run.sh                                  # q0..q22, 1M events, p=1
#   bench/nexmark/run.sh --events 10000000 --queries "q0 q1 q2" --parallelism 2
#
# OPTIONS
#   --events N        events to generate (default 1000000)
#   --rate R          events per second of event time (default 10000, the reference default)
#   --seed S          generator seed (default 0)
#   --format F        json | csv (default json)
#   --parallelism P   parallelism of both engines (default 1)
#   --queries "..."   queries to run (default: q0 .. q22)
#   --no-outputs      do not save query outputs (skips Flink's second, batch run per query)
#   --skip-flink      only Weir
#   --skip-weir       only Flink
#
# ENVIRONMENT
#   WORK        where events, composed SQL, outputs and results go (default /tmp/weir-nexmark)
#   FLINK_RUN   Flink's runner (default ../shared/peers/flink/run_sql.sh from the repository)
#   JVM_ARGS    Flink JVM flags (default -Xmx1g: caps the heap so peak RSS means something)
#   QUIET_WAIT  seconds to wait at most for a quiet machine before each run (default 60)
#   WEIR        the weir binary (default: built here with cargo, target/release/weir)
#   GENERATOR   the weir-nexmark binary (default: built here with cargo in release), used
#               only when the events of these options were not generated yet
#   TIMEOUT     seconds a run may take before it is killed and recorded as failed (default
#               1800): a JVM whose state outgrows its heap collects garbage forever
#
# Results: $WORK/results.jsonl (one line per engine and query) and the markdown table
# $WORK/results.md (made by report.py), both also printed at the end.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
EVENTS=1000000
RATE=10000
SEED=0
FORMAT=json
PARALLELISM=1
QUERIES="q0 q1 q2 q3 q4 q5 q6 q7 q8 q9 q10 q11 q12 q13 q14 q15 q16 q17 q18 q19 q20 q21 q22"
OUTPUTS=1
RUN_FLINK=1
RUN_WEIR=1
while [[ $# -gt 0 ]]; do
    case "$1" in
        --events) EVENTS=$2; shift 2 ;;
        --rate) RATE=$2; shift 2 ;;
        --seed) SEED=$2; shift 2 ;;
        --format) FORMAT=$2; shift 2 ;;
        --parallelism) PARALLELISM=$2; shift 2 ;;
        --queries) QUERIES=$2; shift 2 ;;
        --no-outputs) OUTPUTS=0; shift ;;
        --skip-flink) RUN_FLINK=0; shift ;;
        --skip-weir) RUN_WEIR=0; shift ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
        *) echo "unknown option: $1 (see --help)" >&2; exit 2 ;;
    esac
done

WORK=${WORK:-/tmp/weir-nexmark}
FLINK_RUN=${FLINK_RUN:-$ROOT/../shared/peers/flink/run_sql.sh}
export JVM_ARGS=${JVM_ARGS:--Xmx1g}
QUIET_WAIT=${QUIET_WAIT:-60}
TIMEOUT=${TIMEOUT:-1800}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
DATA=$WORK/events-n$EVENTS-r$RATE-s$SEED-$FORMAT
SIDE_INPUT=$WORK/side_input
RESULTS=$WORK/results.jsonl
mkdir -p "$WORK/sql" "$WORK/logs"
: >"$RESULTS"

log() { echo "[nexmark] $*" >&2; }

# --- the input, once -------------------------------------------------------------------
if [[ ! -s $DATA/events.$FORMAT ]]; then
    if [[ -z ${GENERATOR:-} ]]; then
        cargo build --release -p weir-nexmark --manifest-path "$ROOT/Cargo.toml" >&2
        GENERATOR=$TARGET/release/weir-nexmark
    fi
    "$GENERATOR" generate --events "$EVENTS" --rate "$RATE" --seed "$SEED" \
        --format "$FORMAT" --out "$DATA" >&2
fi
# Q13's side table: key 0..9999 and a value per key.
if [[ ! -s $SIDE_INPUT/side_input.csv ]]; then
    mkdir -p "$SIDE_INPUT"
    awk 'BEGIN { for (k = 0; k < 10000; k++) printf "%d,side-%d\n", k, k }' >"$SIDE_INPUT/side_input.csv"
fi

# --- helpers -------------------------------------------------------------------------------
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
    log "warning: the machine stayed busy for ${QUIET_WAIT}s (load $(cut -d' ' -f1-3 /proc/loadavg)); measuring anyway (see other_cpu_s)"
}

# Writes the runnable SQL of query $1 with sink options $2 to $3: the DDL, then the query,
# with the variables filled in (so that every engine runs exactly the same text).
compose() {
    local query=$1 sink=$2 out=$3
    EVENTS_PATH="$DATA" FORMAT="$FORMAT" SINK="$sink" SIDE_INPUT_PATH="$SIDE_INPUT" \
        python3 -c 'import os, string, sys
text = "".join(open(f).read() + "\n" for f in sys.argv[1:])
sys.stdout.write(string.Template(text).safe_substitute(os.environ))' \
        "$HERE/sql/ddl.sql" "$HERE/sql/$query.sql" >"$out"
}

# The sink options that write CSV files under directory $1.
csv_sink() { echo "'connector' = 'filesystem', 'path' = '$1', 'format' = 'csv'"; }

# Appends a result line for Flink from run_sql's JSON line in file $2 (query $1, status $3).
flink_result() {
    python3 "$HERE/report.py" flink-line "$1" "$EVENTS" "$PARALLELISM" "$3" "$2" >>"$RESULTS"
}

# --- Flink ---------------------------------------------------------------------------------
# Queries whose result depends on the order rows arrive in: the deduplication and Top-N of
# rows that tie on the ORDER BY (equal times in Q18, equal prices in Q19) keep the row that
# arrived last or first. Flink's batch mode breaks ties in its own order, so their output is
# Flink's streaming changelog (a print sink) folded into the final rows, as Weir's is.
ARRIVAL_ORDER_QUERIES=" q18 q19 "

# Writes Flink's final rows of query $1 from its streaming changelog.
flink_streaming_output() {
    local q=$1 out=$WORK/outputs/flink/$1
    compose "$q" "'connector' = 'print'" "$WORK/sql/$q.flink-out.sql"
    log "Flink $q output (streaming changelog, folded) -> $out"
    rm -rf "$out"
    if timeout --kill-after=30 "$TIMEOUT" "$FLINK_RUN" -p "$PARALLELISM" -m streaming \
        "$WORK/sql/$q.flink-out.sql" >"$WORK/logs/$q.flink-out.log" 2>&1; then
        mkdir -p "$out"
        python3 "$HERE/fold_changelog.py" "$WORK/logs/$q.flink-out.log" "$out/part-0"
    else
        log "Flink $q: the streaming output run failed (see $WORK/logs/$q.flink-out.log)"
    fi
}

run_flink() {
    local q=$1 sql=$WORK/sql/$q.flink.sql json=$WORK/logs/$q.flink.json status=ok
    compose "$q" "'connector' = 'blackhole'" "$sql"
    wait_quiet
    log "Flink $q (streaming, p=$PARALLELISM)"
    rm -f "$json"
    if ! timeout --kill-after=30 "$TIMEOUT" "$FLINK_RUN" -p "$PARALLELISM" -m streaming \
        --rows "$EVENTS" --json-out "$json" \
        --label "$q" "$sql" >"$WORK/logs/$q.flink.log" 2>&1; then
        status=failed
        grep -q 'exit=' "$WORK/logs/$q.flink.log" || echo "killed after ${TIMEOUT}s (TIMEOUT)" >>"$WORK/logs/$q.flink.log"
        log "Flink $q failed: $(grep -m1 -oE '[A-Za-z.]*(Exception|Error): .*|killed after .*' "$WORK/logs/$q.flink.log" | cut -c1-300 || true) (log: $WORK/logs/$q.flink.log)"
    fi
    flink_result "$q" "$json" "$status"
    # Q12 is in processing time: its output depends on the run's speed.
    if ((OUTPUTS)) && [[ $status == ok && $ARRIVAL_ORDER_QUERIES == *" $q "* ]]; then
        flink_streaming_output "$q"
    elif ((OUTPUTS)) && [[ $status == ok && $q != q12 ]]; then
        local out=$WORK/outputs/flink/$q
        compose "$q" "$(csv_sink "$out")" "$WORK/sql/$q.flink-out.sql"
        log "Flink $q output -> $out"
        # Batch mode gives final results; a query batch mode cannot plan (Q11's session group
        # window) runs in streaming mode, where a windowed query emits final rows too.
        local mode
        for mode in batch streaming; do
            rm -rf "$out"
            if timeout --kill-after=30 "$TIMEOUT" "$FLINK_RUN" -p "$PARALLELISM" -m "$mode" \
                "$WORK/sql/$q.flink-out.sql" \
                >"$WORK/logs/$q.flink-out.log" 2>&1; then
                break
            fi
            log "Flink $q: the $mode output run failed (see $WORK/logs/$q.flink-out.log)"
        done
    fi
}

# --- Weir ----------------------------------------------------------------------------------
WEIR_GIVEN=${WEIR:+1}
WEIR=${WEIR:-$TARGET/release/weir}
weir_has_sql() { [[ -x $WEIR ]] && "$WEIR" sql --help >/dev/null 2>&1; }

# Queries with an updating result (non-windowed aggregations, joins of them, Top-N and deduplication): a
# filesystem sink takes inserts only (Flink's in streaming mode too), so Weir prints the
# changelog and fold_changelog.py applies it into the final rows that Flink's batch run writes.
UPDATING_QUERIES=" q4 q5 q9 q15 q16 q17 q18 q19 "

run_weir() {
    local q=$1 sql=$WORK/sql/$q.weir.sql timef=$WORK/logs/$q.weir.time status=ok
    # The measured run writes to a blackhole sink, as Flink's measured run does.
    compose "$q" "'connector' = 'blackhole'" "$sql"
    wait_quiet
    log "Weir $q (p=$PARALLELISM)"
    local before after
    before=$(busy_ticks)
    if ! timeout --kill-after=30 "$TIMEOUT" /usr/bin/time -v -o "$timef" \
        "$WEIR" sql -p "$PARALLELISM" -f "$sql" \
        >"$WORK/logs/$q.weir.log" 2>&1; then
        status=failed
        log "Weir $q failed: $(tail -n 1 "$WORK/logs/$q.weir.log")"
    fi
    after=$(busy_ticks)
    python3 "$HERE/report.py" weir-line "$q" "$EVENTS" "$PARALLELISM" "$status" "$timef" \
        "$(((after - before)))" >>"$RESULTS"
    if ((OUTPUTS)) && [[ $status == ok && $q != q12 ]]; then weir_output "$q"; fi
}

# A second, unmeasured run of query $1 that keeps its output: CSV files, or for an updating
# query the printed changelog folded into its final rows.
weir_output() {
    local q=$1 sql=$WORK/sql/$q.weir-out.sql out=$WORK/outputs/weir/$1 sink
    rm -rf "$out"
    if [[ $UPDATING_QUERIES == *" $q "* ]]; then sink="'connector' = 'print'"; else sink=$(csv_sink "$out"); fi
    compose "$q" "$sink" "$sql"
    log "Weir $q output -> $out"
    if ! timeout --kill-after=30 "$TIMEOUT" "$WEIR" sql -p "$PARALLELISM" -f "$sql" \
        >"$WORK/logs/$q.weir-out.log" 2>&1; then
        log "Weir $q: the output run failed (see $WORK/logs/$q.weir-out.log)"
        return 0
    fi
    if [[ $UPDATING_QUERIES == *" $q "* ]]; then
        mkdir -p "$out"
        python3 "$HERE/fold_changelog.py" "$WORK/logs/$q.weir-out.log" "$out/part-0"
    fi
}

if ((RUN_WEIR)); then
    [[ -n $WEIR_GIVEN ]] || cargo build --release -p weir-cli --manifest-path "$ROOT/Cargo.toml" >&2 || true
    if ! weir_has_sql; then
        log "skipping Weir: '$WEIR sql' does not exist yet (Weir's SQL layer has not landed on this branch)"
        RUN_WEIR=0
    fi
fi
if ((RUN_FLINK)) && [[ ! -x $FLINK_RUN ]]; then
    log "skipping Flink: $FLINK_RUN not found"
    RUN_FLINK=0
fi

# --- differential correctness ------------------------------------------------------------
# Compares Weir's output of query $1 with Flink's, ignoring row order, when both exist.
compare_outputs() {
    local q=$1 flink=$WORK/outputs/flink/$1 weir=$WORK/outputs/weir/$1 status=different
    [[ -d $flink && -d $weir ]] || return 0
    if python3 "$HERE/compare.py" "$flink" "$weir" >"$WORK/logs/$q.compare" 2>&1; then
        status=equal
    fi
    log "outputs of $q: $(head -n 1 "$WORK/logs/$q.compare")"
    python3 "$HERE/report.py" compare-line "$q" "$EVENTS" "$PARALLELISM" "$status" >>"$RESULTS"
}

for q in $QUERIES; do
    [[ -f $HERE/sql/$q.sql ]] || { log "no such query: $q"; continue; }
    if ((RUN_WEIR)); then run_weir "$q"; fi
    if ((RUN_FLINK)); then run_flink "$q"; fi
    if ((RUN_WEIR && RUN_FLINK && OUTPUTS)); then compare_outputs "$q"; fi
done

python3 "$HERE/report.py" table "$RESULTS" | tee "$WORK/results.md"
log "results: $RESULTS and $WORK/results.md; outputs under $WORK/outputs/"
