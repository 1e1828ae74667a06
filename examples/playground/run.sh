#!/usr/bin/env bash
# Flink's operations playground on Weir, in one command: starts a Kafka-protocol broker
# (Tansu, scripts/kafka-broker.sh), the click-event generator in the background and the
# ClickEventCount job in the foreground; Ctrl-C stops all three.
#
#   examples/playground/run.sh [JOB OPTIONS]
#
# JOB OPTIONS go to the job, e.g. --checkpointing --event-time --backpressure
# --delivery-guarantee exactly-once; without any, the job runs with --checkpointing
# --event-time. Watch the counts with any Kafka consumer of the topic `output` on
# 127.0.0.1:${PORT:-9092}; checkpoints go to /tmp/weir-playground/checkpoints.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
PORT="${PORT:-9092}"
cd "$ROOT"
cargo build --release -p weir-cli -p weir-playground
WEIR="$ROOT/target/release/weir"
[[ $# -gt 0 ]] || set -- --checkpointing --event-time

scripts/kafka-broker.sh start "$PORT"
generator=""
cleanup() {
    [[ -n "$generator" ]] && kill "$generator" 2>/dev/null || true
    scripts/kafka-broker.sh stop "$PORT"
}
trap cleanup EXIT
export WEIR_KAFKA_BOOTSTRAP="127.0.0.1:$PORT"
"$WEIR" run click_event_generator &
generator=$!
"$WEIR" run \
    -D execution.checkpointing.dir=/tmp/weir-playground/checkpoints \
    -D execution.checkpointing.externalized-checkpoint-retention=RETAIN_ON_CANCELLATION \
    click_event_count "$@"
