#!/usr/bin/env bash
# Campaign benchmarks (examples/campaign_bench.rs):
#  1. audience resolution + preview (JSON and CSV) over 100,000 IVR calls (goal: under 2 s on SQLite);
#  2. campaign throughput with rate limits off against a local fake Meta API (goal: >= 1,000 msg/s).
# SQLite by default; PostgreSQL too when BENCH_DATABASE_URL is set. Prints its figures.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
CALLS="${CALLS:-100000}"
RECIPIENTS="${RECIPIENTS:-20000}"

echo "building: cargo build --release (server and bench program)" >&2
cargo build --release --locked --quiet
cargo build --release --locked --quiet --features bench-tools --example campaign_bench
BENCH=target/release/examples/campaign_bench

echo "== SQLite"
"$BENCH" --calls "$CALLS" --recipients "$RECIPIENTS"

if [ -n "${BENCH_DATABASE_URL:-}" ]; then
    db="wabahub_campaign_bench_$$"
    psql "$BENCH_DATABASE_URL" -qc "CREATE DATABASE $db"
    trap 'psql "$BENCH_DATABASE_URL" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true' EXIT
    echo "== PostgreSQL"
    "$BENCH" --calls "$CALLS" --recipients "$RECIPIENTS" --database-url "${BENCH_DATABASE_URL%/*}/$db"
fi
