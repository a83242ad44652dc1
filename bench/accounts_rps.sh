#!/usr/bin/env bash
# Throughput and latency of the authenticated account list, GET /api/v1/accounts (50 accounts),
# on SQLite, and also on PostgreSQL when BENCH_DATABASE_URL is given (an admin URL such as
# postgres://postgres@127.0.0.1:5432/test: a throw-away database is created beside it and dropped).
# The load tool is wrk (Debian package `wrk`), against 127.0.0.1 only, for DURATION seconds.
# If this build has no /api/v1/accounts (404), GET /api/v1/users over 50 users is measured
# instead, and the output says so.
# Usage: bench/accounts_rps.sh   (DURATION=15 CONNECTIONS=32 THREADS=2 BENCH_PORT=18080 by default)
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
DURATION="${DURATION:-15}"
CONNECTIONS="${CONNECTIONS:-32}"
THREADS="${THREADS:-2}"
ITEMS=50

for tool in curl jq wrk; do
    command -v "$tool" >/dev/null || { echo "$tool is required (apt-get install -y $tool)" >&2; exit 1; }
done
build_release

# POSTs JSON with the bearer token; prints the HTTP status, the body goes to $SCRATCH/body.
post() {
    curl -s -o "$SCRATCH/body" -w '%{http_code}' -X POST "$BASE$1" --max-time 10 \
        -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' -d "$2"
}

# Signs up a tenant, creates $ITEMS rows to list, then runs wrk. $1 names the backend.
measure() {
    local label="$1" status path
    TOKEN=""
    status=$(post /api/v1/auth/signup \
        '{"tenant_name":"Bench Ltd","name":"Bench","email":"bench@example.com","password":"bench-password"}')
    [ "$status" = 201 ] || { echo "signup failed: $status $(cat "$SCRATCH/body")" >&2; return 1; }
    TOKEN=$(jq -r .tokens.access_token "$SCRATCH/body")

    path=/api/v1/accounts
    status=$(post "$path" '{"name":"Account 1","provider":"sandbox"}')
    if [ "$status" = 404 ]; then
        path=/api/v1/users
        echo "NOTE: POST /api/v1/accounts is 404 in this build; measuring GET /api/v1/users (stand-in)"
        for i in $(seq 1 $((ITEMS - 1))); do
            status=$(post "$path" "{\"email\":\"user$i@example.com\",\"name\":\"User $i\",\"role\":\"member\",\"password\":\"password-$i\"}")
            [ "$status" = 201 ] || { echo "creating user $i: $status $(cat "$SCRATCH/body")" >&2; return 1; }
        done
    else
        [ "$status" = 201 ] || { echo "creating account 1: $status $(cat "$SCRATCH/body")" >&2; return 1; }
        for i in $(seq 2 "$ITEMS"); do
            status=$(post "$path" "{\"name\":\"Account $i\",\"provider\":\"sandbox\"}")
            [ "$status" = 201 ] || { echo "creating account $i: $status $(cat "$SCRATCH/body")" >&2; return 1; }
        done
    fi
    local count
    count=$(curl -s --max-time 10 -H "authorization: Bearer $TOKEN" "$BASE$path" | jq '.data | length')
    [ "$count" = "$ITEMS" ] || { echo "GET $path returned $count items, expected $ITEMS" >&2; return 1; }

    echo "== $label: GET $path ($ITEMS items per response), wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s"
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --timeout 5s --latency \
        -H "Authorization: Bearer $TOKEN" "$BASE$path" | tee "$SCRATCH/wrk.txt"
    if grep -q 'Non-2xx' "$SCRATCH/wrk.txt"; then
        echo "some responses were not 2xx: the figures are not valid" >&2
        return 1
    fi
    awk -v label="$label" '
        /Requests\/sec/ { rps = $2 }
        $1 == "50%" { p50 = $2 } $1 == "90%" { p90 = $2 } $1 == "99%" { p99 = $2 }
        END { printf "RESULT %s: %s requests/s, latency p50 %s, p90 %s, p99 %s\n", label, rps, p50, p90, p99 }
    ' "$SCRATCH/wrk.txt" | tee -a "$SCRATCH/results"
}

echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo); wrk and the server share them"
start_server "$SCRATCH/sqlite-data"
measure "SQLite"
stop_server

if [ -n "${BENCH_DATABASE_URL:-}" ]; then
    command -v psql >/dev/null || { echo "psql is required for BENCH_DATABASE_URL" >&2; exit 1; }
    db="wabahub_bench_$$"
    pg_url="${BENCH_DATABASE_URL%/*}/$db"
    psql -q "$BENCH_DATABASE_URL" -c "CREATE DATABASE \"$db\""
    drop_db() { psql -q "$BENCH_DATABASE_URL" -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" || true; }
    trap 'cleanup; drop_db' EXIT
    start_server "$SCRATCH/pg-data" "$pg_url"
    measure "PostgreSQL"
    stop_server
fi

echo
cat "$SCRATCH/results"
