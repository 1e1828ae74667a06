#!/usr/bin/env bash
# Non-windowed aggregation beside Apache Flink: `GROUP BY k` (COUNT, SUM) over generated rows
# (group_by.sql), without mini-batch, with mini-batch in one phase and in two phases, on Weir
# and then on Flink, one run after the other. Prints one line per run: rows/s, CPU seconds,
# rows per CPU second and peak RSS. Figures, never a pass/fail.
#
#   bench/sql/run.sh [--rows 20000000] [--keys 1000] [--skip-weir] [--skip-flink]
#
# WEIR: the weir binary (default: target/release/weir, built if missing). RUN_SQL: Flink's
# run_sql.sh (default ../shared/peers/flink/run_sql.sh). Mini-batch: allow-latency 2 s, size
# 5000 (MINI_BATCH_LATENCY, MINI_BATCH_SIZE).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
ROWS=20000000
KEYS=1000
SKIP_WEIR=0
SKIP_FLINK=0
while [[ $# -gt 0 ]]; do
    case $1 in
        --rows) ROWS=$2; shift 2 ;;
        --keys) KEYS=$2; shift 2 ;;
        --skip-weir) SKIP_WEIR=1; shift ;;
        --skip-flink) SKIP_FLINK=1; shift ;;
        -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
done
WEIR=${WEIR:-${CARGO_TARGET_DIR:-$ROOT/target}/release/weir}
RUN_SQL=${RUN_SQL:-$ROOT/../shared/peers/flink/run_sql.sh}
[[ -x $RUN_SQL ]] || RUN_SQL=/work/shared/peers/flink/run_sql.sh
LATENCY=${MINI_BATCH_LATENCY:-2 s}
SIZE=${MINI_BATCH_SIZE:-5000}
SQL=$ROOT/bench/sql/group_by.sql
LOG=${TMPDIR:-/tmp}/weir-bench-sql
mkdir -p "$LOG"

# The settings of each variant, as -D arguments.
variant_args() {
    case $1 in
        off) ;;
        mini-batch|two-phase)
            local strategy=ONE_PHASE
            [[ $1 == two-phase ]] && strategy=TWO_PHASE
            printf '%s\n' -D table.exec.mini-batch.enabled=true \
                -D "table.exec.mini-batch.allow-latency=$LATENCY" \
                -D "table.exec.mini-batch.size=$SIZE" \
                -D "table.optimizer.agg-phase-strategy=$strategy" ;;
    esac
}

source "$ROOT/bench/sql/measure.sh"

report_header
if [[ $SKIP_WEIR == 0 ]]; then
    [[ -x $WEIR ]] || cargo build --release -p weir-cli >&2
    for variant in off mini-batch two-phase; do
        mapfile -t args < <(variant_args "$variant")
        measure_weir "$variant" "$SQL" --var "ROWS=$ROWS" --var "KEYS=$KEYS" "${args[@]}"
    done
fi
if [[ $SKIP_FLINK == 0 ]]; then
    for variant in off mini-batch two-phase; do
        mapfile -t args < <(variant_args "$variant")
        measure_flink "$variant" "$SQL" "${args[@]}" --var "ROWS=$ROWS" --var "KEYS=$KEYS"
    done
fi
