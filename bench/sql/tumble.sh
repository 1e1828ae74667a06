#!/usr/bin/env bash
# A 15 s event-time TUMBLE count per page over a CSV file of `page,timestamp_ms` lines
# (tumble.sql) beside Apache Flink: generates the file once with Flink's peer tool
# gen_clicks.py (bounded disorder, no late line) with the exact expected counts, runs Weir and
# then Flink on it, one after the other, and checks each engine's counts against the expected
# ones (check_tumble.py). Prints one line per engine: rows/s, CPU seconds, rows per CPU second
# and peak RSS. Figures, never a pass/fail (but a wrong result is reported as such).
#
#   bench/sql/tumble.sh [--lines 10000000] [--skip-weir] [--skip-flink]
#
# WEIR: the weir binary (default: target/release/weir, built if missing). RUN_SQL: Flink's
# run_sql.sh (default ../shared/peers/flink/run_sql.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
ROWS=10000000
SKIP_WEIR=0
SKIP_FLINK=0
while [[ $# -gt 0 ]]; do
    case $1 in
        --lines) ROWS=$2; shift 2 ;;
        --skip-weir) SKIP_WEIR=1; shift ;;
        --skip-flink) SKIP_FLINK=1; shift ;;
        -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
done
WEIR=${WEIR:-${CARGO_TARGET_DIR:-$ROOT/target}/release/weir}
RUN_SQL=${RUN_SQL:-$ROOT/../shared/peers/flink/run_sql.sh}
[[ -x $RUN_SQL ]] || RUN_SQL=/work/shared/peers/flink/run_sql.sh
PEER=$(dirname "$RUN_SQL")
SQL=$ROOT/bench/sql/tumble.sql
LOG=${TMPDIR:-/tmp}/weir-bench-tumble
DATA=$LOG/clicks-$ROWS.csv
mkdir -p "$LOG"
source "$ROOT/bench/sql/measure.sh"

if [[ ! -s $DATA ]]; then
    python3 "$PEER/gen_clicks.py" "$DATA" --lines "$ROWS" --expected "$DATA.expected" \
        --window-ms 15000 >&2
fi

# check ENGINE: compares the engine's counts with the expected ones.
check() {
    if python3 "$PEER/check_tumble.py" "$LOG/out-$1" "$DATA.expected" >"$LOG/check-$1" 2>&1; then
        echo "$1: counts equal the expected ones ($(wc -l <"$DATA.expected") windows x pages)" >&2
    else
        echo "$1: WRONG counts: $(head -n 3 "$LOG/check-$1")" >&2
    fi
}

report_header
if [[ $SKIP_WEIR == 0 ]]; then
    [[ -x $WEIR ]] || cargo build --release -p weir-cli >&2
    rm -rf "$LOG/out-weir"
    measure_weir tumble "$SQL" --var "INPUT=$DATA" --var "OUT=$LOG/out-weir"
    check weir
fi
if [[ $SKIP_FLINK == 0 ]]; then
    rm -rf "$LOG/out-flink"
    measure_flink tumble "$SQL" --var "INPUT=$DATA" --var "OUT=$LOG/out-flink"
    check flink
fi
