#!/usr/bin/env bash
# Kafka through a keyed window back to Kafka on Weir: records/s and records/s per core at
# parallelism 1 and 2, with the at-least-once and the exactly-once sink (checkpoints every
# second), against a Kafka-protocol broker (Tansu, scripts/kafka-broker.sh). Each run is
# checked: the committed counts in its output topic add up to the input's clicks.
#
#   bench/kafka/run.sh                     # 1M clicks, release build
#   EVENTS=5000000 PROFILE=dev bench/kafka/run.sh
#
# Environment: EVENTS (default 1000000), PORT (default 9392), PROFILE (cargo profile of the
# `weir` binary, default release), WEIR (a `weir` binary to use instead of building one),
# PARTITIONS of the input topic (default 2).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
HERE="$ROOT/bench/kafka"
EVENTS="${EVENTS:-1000000}"
PORT="${PORT:-9392}"
PROFILE="${PROFILE:-release}"
PARTITIONS="${PARTITIONS:-2}"
BOOTSTRAP="127.0.0.1:$PORT"
WORK="$(mktemp -d)"
cd "$ROOT"
if [[ -z "${WEIR:-}" ]]; then
    cargo build --profile "$PROFILE" -p weir-cli >&2
    WEIR="${CARGO_TARGET_DIR:-$ROOT/target}/$([[ "$PROFILE" == dev ]] && echo debug || echo "$PROFILE")/weir"
fi
TANSU="$(scripts/kafka-broker.sh install)"

scripts/kafka-broker.sh start "$PORT" >&2
trap 'scripts/kafka-broker.sh stop "$PORT" >&2; rm -rf "$WORK"' EXIT

topic() { "$TANSU" topic create "$1" --partitions "$2" --broker "tcp://$BOOTSTRAP" >/dev/null; }
sql() { "$WEIR" sql --var "BOOTSTRAP=$BOOTSTRAP" "$@"; }

topic clicks "$PARTITIONS"
sql -f "$HERE/produce.sql" --var "EVENTS=$EVENTS" --var "LAST=$((EVENTS - 1))" >/dev/null

echo "| p | sink | clicks | secs | rec/s | CPU s | rec/s/core | peak RSS |"
echo "|---|---|---|---|---|---|---|---|"
for parallelism in 1 2; do
    for guarantee in at-least-once exactly-once; do
        out="counts-p$parallelism-$guarantee"
        topic "$out" 1
        /usr/bin/time -f "%e %U %S %M" -o "$WORK/time" "$WEIR" sql -p "$parallelism" \
            -D execution.checkpointing.interval=1s \
            -D "execution.checkpointing.dir=$WORK/checkpoints" \
            --var "BOOTSTRAP=$BOOTSTRAP" --var "OUT=$out" --var "GUARANTEE=$guarantee" \
            -f "$HERE/window.sql" >/dev/null
        # The last insert or update of the running total.
        counted="$(sql --var "OUT=$out" -f "$HERE/total.sql" | grep -E '^\| \+[IU] ' | tail -1 |
            grep -oE '[0-9]+')"
        if [[ "$counted" != "$EVENTS" ]]; then
            echo "p=$parallelism $guarantee: the output counts $counted clicks, the input has $EVENTS" >&2
            exit 1
        fi
        read -r secs user sys rss_kb <"$WORK/time"
        awk -v p="$parallelism" -v g="$guarantee" -v n="$EVENTS" -v s="$secs" -v u="$user" \
            -v y="$sys" -v r="$rss_kb" 'BEGIN {
                cpu = u + y
                printf "| %d | %s | %d | %.2f | %.0f | %.2f | %.0f | %.1f MB |\n",
                    p, g, n, s, n / s, cpu, n / cpu, r / 1024
            }'
    done
done
