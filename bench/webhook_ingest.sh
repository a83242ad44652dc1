#!/usr/bin/env bash
# Inbound webhook ingest (examples/webhook_bench.rs): signed Meta status webhooks per second that
# `wabahub serve` answers 200 after storing them durably, on SQLite and on PostgreSQL (a throw-away
# database beside BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/postgres; set
# BENCH_DATABASE_URL=none to skip it), and the yardstick: a minimal actix-web handler that reads
# the body and answers 200, under the same client and bodies. After each wabahub run the server is
# killed with SIGKILL and every body answered 200 must be in the database.
# Everything listens on 127.0.0.1; every wait is bounded. Prints its figures and the ratios.
# Usage: bench/webhook_ingest.sh   (EVENTS=50000 CONNECTIONS=64 by default)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
EVENTS="${EVENTS:-50000}"
CONNECTIONS="${CONNECTIONS:-64}"
PG_ADMIN="${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"

echo "building: cargo build --release (server and bench program)" >&2
cargo build --release --locked --quiet --bin wabahub
cargo build --release --locked --quiet --features bench-tools --example webhook_bench
BENCH=(target/release/examples/webhook_bench --events "$EVENTS" --connections "$CONNECTIONS")
RESULTS="$(mktemp /tmp/wabahub-webhook-bench.XXXXXX)"
db="wabahub_webhook_bench_$$"
cleanup() {
    rm -f "$RESULTS"
    if [ "$PG_ADMIN" != none ]; then
        psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
    fi
}
trap cleanup EXIT

echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo); client and server share them"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

echo "== yardstick: minimal actix-web handler"
"${BENCH[@]}" --target yardstick | tee -a "$RESULTS"

echo "== wabahub, SQLite"
"${BENCH[@]}" --target wabahub | tee -a "$RESULTS"

if [ "$PG_ADMIN" != none ]; then
    psql "$PG_ADMIN" -qc "CREATE DATABASE $db"
    echo "== wabahub, PostgreSQL"
    "${BENCH[@]}" --target wabahub --database-url "${PG_ADMIN%/*}/$db" | tee -a "$RESULTS"
fi

echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
awk '
    $1 == "RESULT" { rate[$2] = $3 }
    END {
        y = rate["yardstick"]
        printf "yardstick (minimal actix handler): %d requests/s\n", y
        for (k in rate) if (k != "yardstick")
            printf "%s: %d events/s accepted and stored, %.2f of the yardstick\n", k, rate[k], rate[k] / y
    }
' "$RESULTS"
