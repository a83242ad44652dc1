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

# Microseconds since the epoch, without a fork (bash 5).
now_us() { echo "${EPOCHREALTIME/./}"; }

# Sleeps $1 seconds without a fork: a read that times out on a pipe nobody writes to.
exec {NAP_FD}<> <(:)
nap() { read -r -t "$1" -u "$NAP_FD" _ || true; }

# True when GET /healthz answers 200. Bash builtins only (no curl fork), so polling costs well
# under a millisecond; a connection accepted before the workers run simply waits for the answer.
healthz_ok() {
    local line
    { exec 3<>"/dev/tcp/127.0.0.1/$PORT"; } 2>/dev/null || return 1
    printf 'GET /healthz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
    IFS= read -r -t 5 line <&3 || line=""
    exec 3<&-
    [[ $line == "HTTP/1."?" 200"* ]]
}

# Starts `wabahub serve` on 127.0.0.1:$PORT with data in $1 (and DATABASE_URL $2 when given),
# from a scratch folder so no .env is read; waits (at most 30 s) until /healthz answers.
# Sets SERVER_PID and START_MS (exec until the first 200 from /healthz, in milliseconds, 0.1 ms steps).
start_server() {
    local data="$1" url="${2:-}" t0 deadline
    if healthz_ok; then
        echo "something already answers on $BASE; set BENCH_PORT" >&2
        return 1
    fi
    t0=$(now_us)
    (cd "$SCRATCH" && exec env -i PATH="$PATH" RUST_LOG="${RUST_LOG:-warn}" WABAHUB_DATA_DIR="$data" \
        ${url:+DATABASE_URL="$url"} "$BIN" serve --bind "127.0.0.1:$PORT" 2>>"$SCRATCH/server.log") &
    SERVER_PID=$!
    deadline=$((t0 + 30000000))
    until healthz_ok; do
        if ! kill -0 "$SERVER_PID" 2>/dev/null || [ "$(now_us)" -gt "$deadline" ]; then
            echo "the server did not start; its log:" >&2
            cat "$SCRATCH/server.log" >&2
            return 1
        fi
        nap 0.001
    done
    START_MS=$(awk -v us=$(($(now_us) - t0)) 'BEGIN { printf "%.1f", us / 1000 }')
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
