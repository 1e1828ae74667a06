#!/usr/bin/env bash
# Regenerates the expected results of the SQL golden tests with real Apache Flink: runs each
# tests/sql/NAME.sql (or the files given) with ../shared/peers/flink/run_sql.sh and keeps
# Flink's printed results in NAME.expected. ${DIR} in a script is this folder; a script with a
# line `-- mode: batch` runs in Flink's batch mode.
# Needs Flink once: ../shared/peers/flink/run_sql.sh --install (about 2 min).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
RUN_SQL="${RUN_SQL:-$HERE/../../../shared/peers/flink/run_sql.sh}"
[[ -x "$RUN_SQL" ]] || RUN_SQL=/work/shared/peers/flink/run_sql.sh
cd "$HERE"
files=("$@")
[[ ${#files[@]} -gt 0 ]] || files=(*.sql)
for f in "${files[@]}"; do
  name="${f%.sql}"
  echo "== $f" >&2
  mode=streaming
  grep -q '^-- mode: batch' "$f" && mode=batch
  "$RUN_SQL" -m "$mode" --var DIR="$HERE" "$f" 2>"/tmp/weir-golden-$name.err" \
    | grep -v '^\[run_sql\]' > "$name.expected" || { cat "/tmp/weir-golden-$name.err" >&2; exit 1; }
done
