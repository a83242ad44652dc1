#!/usr/bin/env bash
# Inbound webhook ingest (examples/webhook_bench.rs): signed Meta status webhooks per second that
# `wabahub serve` answers 200 after storing them durably, on SQLite and on PostgreSQL (a throw-away
# database beside BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/postgres; set
# BENCH_DATABASE_URL=none to skip it), and the yardstick: a minimal actix-web handler that reads
# the body and answers 200, under the same client and bodies. After each wabahub run the server is
# killed with SIGKILL and every body answered 200 must be in the database. The statuses are for
# messages stored beforehand, so applying them does the real work; the program also reports how
# fast the processor applies them once the burst is over.
# Each target runs ROUNDS times, interleaved (the machine's speed drifts); the medians are compared.
# Everything listens on 127.0.0.1; every wait is bounded. Prints its figures and the ratios.
# Usage: bench/webhook_ingest.sh   (EVENTS=50000 CONNECTIONS=64 ROUNDS=3 by default)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
EVENTS="${EVENTS:-50000}"
CONNECTIONS="${CONNECTIONS:-64}"
ROUNDS="${ROUNDS:-3}"
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

for round in $(seq 1 "$ROUNDS"); do
    echo "== round $round of $ROUNDS: yardstick (minimal actix-web handler)"
    "${BENCH[@]}" --target yardstick | tee -a "$RESULTS"

    echo "== round $round of $ROUNDS: wabahub, SQLite"
    "${BENCH[@]}" --target wabahub | tee -a "$RESULTS"

    if [ "$PG_ADMIN" != none ]; then
        psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
        echo "== round $round of $ROUNDS: wabahub, PostgreSQL"
        "${BENCH[@]}" --target wabahub --database-url "${PG_ADMIN%/*}/$db" | tee -a "$RESULTS"
    fi
done

echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
awk '
    $1 == "RESULT" { n[$2]++; rate[$2, n[$2]] = $3 }
    function median(k,    i, j, t, v, c) {
        c = n[k]
        for (i = 1; i <= c; i++) v[i] = rate[k, i]
        for (i = 1; i <= c; i++) for (j = i + 1; j <= c; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
        return c % 2 ? v[(c + 1) / 2] : (v[c / 2] + v[c / 2 + 1]) / 2
    }
    function runs(k,    i, s) {
        for (i = 1; i <= n[k]; i++) s = s (i > 1 ? ", " : "") rate[k, i]
        return s
    }
    END {
        y = median("yardstick")
        printf "yardstick (minimal actix handler): median %d requests/s (runs: %s)\n", y, runs("yardstick")
        for (k in n) if (k != "yardstick")
            printf "%s: median %d events/s accepted and stored, %.2f of the yardstick (runs: %s)\n", k, median(k), median(k) / y, runs(k)
    }
' "$RESULTS"
