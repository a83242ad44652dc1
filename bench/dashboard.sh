#!/usr/bin/env bash
# Analytics response time with a large message table: examples/dashboard_bench.rs stores MESSAGES
# (default 1,000,000) messages over 30 days and 10 accounts with their daily rollups, runs
# `wabahub serve` on that database (127.0.0.1 only) and times the dashboard. SQLite by default;
# PostgreSQL in a throw-away database when BENCH_DATABASE_URL is set. Prints its figures.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
MESSAGES="${MESSAGES:-1000000}"

echo "building: cargo build --release (server and bench program)" >&2
cargo build --release --locked --quiet
cargo build --release --locked --quiet --features bench-tools --example dashboard_bench
BENCH=target/release/examples/dashboard_bench

echo "== SQLite, $MESSAGES messages"
"$BENCH" --messages "$MESSAGES"

if [ -n "${BENCH_DATABASE_URL:-}" ]; then
    db="wabahub_dashboard_bench_$$"
    psql "$BENCH_DATABASE_URL" -qc "CREATE DATABASE $db"
    trap 'psql "$BENCH_DATABASE_URL" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true' EXIT
    echo "== PostgreSQL, $MESSAGES messages"
    "$BENCH" --messages "$MESSAGES" --database-url "${BENCH_DATABASE_URL%/*}/$db"
fi
