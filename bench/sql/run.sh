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

# CPU seconds all processes have used so far.
busy_s() { awk '/^cpu /{printf "%.1f", ($2+$3+$4+$7+$8+$9)/100; exit}' /proc/stat; }

report() { # engine variant wall_s cpu_s rss_mb other_cpu_s
    awk -v e="$1" -v v="$2" -v w="$3" -v c="$4" -v r="$5" -v o="$6" -v n="$ROWS" 'BEGIN {
        printf "| %s | %s | %d | %.1f | %.2fM | %.1f | %.2fM | %.0f MB | %.1f |\n",
            e, v, n, w, n / w / 1e6, c, n / c / 1e6, r, o }'
}

echo "| engine | variant | rows | wall s | rows/s | CPU s | rows/s per core | peak RSS | other CPU s |"
echo "|---|---|---|---|---|---|---|---|---|"
if [[ $SKIP_WEIR == 0 ]]; then
    [[ -x $WEIR ]] || cargo build --release -p weir-cli >&2
    for variant in off mini-batch two-phase; do
        mapfile -t args < <(variant_args "$variant")
        before=$(busy_s)
        /usr/bin/time -v "$WEIR" sql -f "$SQL" --var "ROWS=$ROWS" --var "KEYS=$KEYS" "${args[@]}" \
            >"$LOG/weir-$variant.out" 2>"$LOG/weir-$variant.time"
        after=$(busy_s)
        t=$LOG/weir-$variant.time
        wall=$(awk -F': ' '/Elapsed \(wall clock\)/{n=split($2,p,":"); s=0; for(i=1;i<=n;i++) s=s*60+p[i]; print s}' "$t")
        cpu=$(awk -F': ' '/User time/{u=$2} /System time/{s=$2} END{print u+s}' "$t")
        rss=$(awk -F': ' '/Maximum resident set size/{print $2/1024}' "$t")
        other=$(awk -v a="$after" -v b="$before" -v c="$cpu" 'BEGIN{o=a-b-c; print (o<0?0:o)}')
        report Weir "$variant" "$wall" "$cpu" "$rss" "$other"
    done
fi
if [[ $SKIP_FLINK == 0 ]]; then
    for variant in off mini-batch two-phase; do
        mapfile -t args < <(variant_args "$variant")
        json=$LOG/flink-$variant.json
        rm -f "$json"
        "$RUN_SQL" "${args[@]}" --var "ROWS=$ROWS" --var "KEYS=$KEYS" --rows "$ROWS" \
            --json-out "$json" "$SQL" >"$LOG/flink-$variant.out" 2>&1
        read -r wall cpu rss other < <(python3 -c '
import json, sys
r = json.loads(open(sys.argv[1]).read().splitlines()[-1])
job = r["jobs"][-1]
ru = r["jvm_rusage"]
print(job["net_runtime_s"], ru["user_cpu_s"] + ru["sys_cpu_s"], ru["max_rss_mb"], r["other_processes_cpu_s"])
' "$json")
        report "Flink (job time; CPU and RSS of the whole JVM)" "$variant" "$wall" "$cpu" "$rss" "$other"
    done
fi
