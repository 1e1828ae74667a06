#!/usr/bin/env bash
# Runs Weir's whole test suite: formatting, then every crate's unit, integration and doc
# tests (the end-to-end tests start `weir run` processes).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fmt --all -- --check
cargo test --workspace --locked
