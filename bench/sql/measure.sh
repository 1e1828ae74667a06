# Measuring one SQL script on Weir or on Flink, for the scripts of bench/sql (sourced, not
# run). Each function prints one markdown table row: rows/s, CPU seconds, rows per CPU second
# and peak RSS. Needs ROWS (the rows the script reads), WEIR, RUN_SQL and LOG set.

# CPU seconds all processes have used so far.
busy_s() { awk '/^cpu /{printf "%.1f", ($2+$3+$4+$7+$8+$9)/100; exit}' /proc/stat; }

report() { # engine variant wall_s cpu_s rss_mb other_cpu_s
    awk -v e="$1" -v v="$2" -v w="$3" -v c="$4" -v r="$5" -v o="$6" -v n="$ROWS" 'BEGIN {
        printf "| %s | %s | %d | %.1f | %.2fM | %.1f | %.2fM | %.0f MB | %.1f |\n",
            e, v, n, w, n / w / 1e6, c, n / c / 1e6, r, o }'
}

report_header() {
    echo "| engine | variant | rows | wall s | rows/s | CPU s | rows/s per core | peak RSS | other CPU s |"
    echo "|---|---|---|---|---|---|---|---|---|"
}

# measure_weir VARIANT SQL [weir sql arguments...]: runs `weir sql -f SQL` under time -v.
measure_weir() {
    local variant=$1 sql=$2 before after t wall cpu rss other
    shift 2
    before=$(busy_s)
    if ! /usr/bin/time -v "$WEIR" sql -f "$sql" "$@" >"$LOG/weir-$variant.out" 2>"$LOG/weir-$variant.time"; then
        echo "| Weir | $variant | failed: see $LOG/weir-$variant.time |"
        return 0
    fi
    after=$(busy_s)
    t=$LOG/weir-$variant.time
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/{n=split($2,p,":"); s=0; for(i=1;i<=n;i++) s=s*60+p[i]; print s}' "$t")
    cpu=$(awk -F': ' '/User time/{u=$2} /System time/{s=$2} END{print u+s}' "$t")
    rss=$(awk -F': ' '/Maximum resident set size/{print $2/1024}' "$t")
    other=$(awk -v a="$after" -v b="$before" -v c="$cpu" 'BEGIN{o=a-b-c; print (o<0?0:o)}')
    report Weir "$variant" "$wall" "$cpu" "$rss" "$other"
}

# measure_flink VARIANT SQL [run_sql.sh arguments...]: runs the script on Flink; its time is
# the job's, its CPU and RSS the whole JVM's.
measure_flink() {
    local variant=$1 sql=$2 json=$LOG/flink-$1.json wall cpu rss other
    shift 2
    rm -f "$json"
    if ! "$RUN_SQL" "$@" --rows "$ROWS" --json-out "$json" "$sql" >"$LOG/flink-$variant.out" 2>&1; then
        echo "| Flink | $variant | failed: see $LOG/flink-$variant.out |"
        return 0
    fi
    read -r wall cpu rss other < <(python3 -c '
import json, sys
r = json.loads(open(sys.argv[1]).read().splitlines()[-1])
job = r["jobs"][-1]
ru = r["jvm_rusage"]
print(job["net_runtime_s"], ru["user_cpu_s"] + ru["sys_cpu_s"], ru["max_rss_mb"], r["other_processes_cpu_s"])
' "$json")
    report "Flink (job time; CPU and RSS of the whole JVM)" "$variant" "$wall" "$cpu" "$rss" "$other"
}
