# Shared by the bench scripts: build, start and stop the release server. Source it; do not run it.
# Every server listens on 127.0.0.1 only, and every wait is bounded in time.

BENCH_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="$BENCH_ROOT/target/release/wabahub"
PORT="${BENCH_PORT:-18080}"
BASE="http://127.0.0.1:$PORT"
SERVER_PID=""
SCRATCH="$(mktemp -d /tmp/wabahub-bench.XXXXXX)"

cleanup() {
    stop_server
    rm -rf "$SCRATCH"
}
trap cleanup EXIT

build_release() {
    echo "building: cargo build --release" >&2
    (cd "$BENCH_ROOT" && cargo build --release --locked --quiet)
}

now_ns() { date +%s%N; }

# Starts `wabahub serve` on 127.0.0.1:$PORT with data in $1 (and DATABASE_URL $2 when given),
# from a scratch folder so no .env is read; waits (at most 30 s) until /healthz answers.
# Sets SERVER_PID and START_MS (exec until the first 200 from /healthz, in milliseconds).
start_server() {
    local data="$1" url="${2:-}" t0 deadline
    if curl -s -o /dev/null "$BASE/healthz"; then
        echo "something already answers on $BASE; set BENCH_PORT" >&2
        return 1
    fi
    t0=$(now_ns)
    (cd "$SCRATCH" && exec env -i PATH="$PATH" RUST_LOG="${RUST_LOG:-warn}" WABAHUB_DATA_DIR="$data" \
        ${url:+DATABASE_URL="$url"} "$BIN" serve --bind "127.0.0.1:$PORT" 2>>"$SCRATCH/server.log") &
    SERVER_PID=$!
    deadline=$((t0 + 30000000000))
    until curl -s -o /dev/null --max-time 1 "$BASE/healthz"; do
        if ! kill -0 "$SERVER_PID" 2>/dev/null || [ "$(now_ns)" -gt "$deadline" ]; then
            echo "the server did not start; its log:" >&2
            cat "$SCRATCH/server.log" >&2
            return 1
        fi
        sleep 0.005
    done
    START_MS=$(( ($(now_ns) - t0) / 1000000 ))
}

stop_server() {
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID"
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    SERVER_PID=""
}

# Resident memory of the running server, in MiB.
server_rss_mib() {
    awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$SERVER_PID/status"
}

# The median of the numbers given as arguments.
median() {
    printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
