#!/usr/bin/env bash
# Runs Weir's whole test suite: formatting, then every crate's unit, integration and doc
# tests (the end-to-end tests start `weir run` processes; the Kafka tests start one Tansu
# broker each with scripts/kafka-broker.sh, installed here first so that a missing broker
# fails at once). The suite is built with the RocksDB state backend (cargo feature `rocksdb`,
# whose build needs libclang: scripts/rocksdb-build-deps.sh), so that the state and
# checkpoint tests run on both backends. Every test binary runs even when an earlier one
# fails (--no-fail-fast), so that one run shows every failure.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fmt --all -- --check
scripts/kafka-broker.sh install >/dev/null
scripts/rocksdb-build-deps.sh
cargo test --workspace --locked --no-fail-fast --features weir-state/rocksdb,weir-datastream/rocksdb,weir-bench/rocksdb,weir-sql/rocksdb
