#!/usr/bin/env bash
# Outbox dispatch rate against a local fake Meta Cloud API (examples/outbox_bench.rs):
#  1. rate limits off, SQLite (and PostgreSQL when BENCH_DATABASE_URL is set): messages per second;
#  2. one number limited to 80 msg/s: the sustained rate and the busiest 1-second window.
# Everything listens on 127.0.0.1; every wait is bounded. Prints its figures.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
MESSAGES="${MESSAGES:-20000}"
LIMITED="${LIMITED_MESSAGES:-2400}"

echo "building: cargo build --release (server and bench program)" >&2
cargo build --release --locked --quiet
cargo build --release --locked --quiet --features bench-tools --example outbox_bench
BENCH=target/release/examples/outbox_bench

echo "== SQLite, rate limits off, $MESSAGES messages"
"$BENCH" --messages "$MESSAGES"

if [ -n "${BENCH_DATABASE_URL:-}" ]; then
    db="wabahub_outbox_bench_$$"
    psql "$BENCH_DATABASE_URL" -qc "CREATE DATABASE $db"
    trap 'psql "$BENCH_DATABASE_URL" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true' EXIT
    echo "== PostgreSQL, rate limits off, $MESSAGES messages"
    "$BENCH" --messages "$MESSAGES" --database-url "${BENCH_DATABASE_URL%/*}/$db"
fi

echo "== SQLite, one number limited to 80 msg/s, $LIMITED messages"
"$BENCH" --messages "$LIMITED" --rate 80
