#!/usr/bin/env bash
# The seeds' Kafka SQL jobs on Weir, in one command: starts a Kafka-protocol broker (Tansu,
# scripts/kafka-broker.sh), then for each job writes its input with `weir sql`, runs the job
# and shows what it wrote.
#
#   examples/sql-kafka/run.sh [spend-report|payments]...    (default: both)
#
# PORT (default 9092) is the broker's port; PROFILE (default release) the cargo profile
# the programs are built with.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
HERE="$ROOT/examples/sql-kafka"
PORT="${PORT:-9092}"
PROFILE="${PROFILE:-release}"
BOOTSTRAP="127.0.0.1:$PORT"
cd "$ROOT"
cargo build --profile "$PROFILE" -p weir-cli -p weir-sql-kafka-examples
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/$([[ "$PROFILE" == dev ]] && echo debug || echo "$PROFILE")"
[[ $# -gt 0 ]] || set -- spend-report payments

scripts/kafka-broker.sh start "$PORT"
trap 'scripts/kafka-broker.sh stop "$PORT"' EXIT

sql() {
    echo "== weir sql -f $1"
    "$BIN/weir" sql -f "$HERE/sql/$1" --var "BOOTSTRAP=$BOOTSTRAP"
}

for job in "$@"; do
    case "$job" in
    spend-report)
        sql produce_transactions.sql
        sql spend_report.sql
        sql show_spend_report.sql
        ;;
    payments)
        sql produce_payments.sql
        echo "== payments_by_province $BOOTSTRAP"
        "$BIN/payments_by_province" "$BOOTSTRAP"
        sql show_province_pay_amount.sql
        ;;
    *)
        echo "unknown job '$job' (spend-report or payments)" >&2
        exit 2
        ;;
    esac
done
