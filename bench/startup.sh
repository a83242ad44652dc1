#!/usr/bin/env bash
# Cold start and idle memory of `wabahub serve` on SQLite.
#   cold start: exec until /healthz first answers 200, with a fresh data folder (so the run creates
#               the database, migrates it and generates development keys), median of RUNS runs;
#   restart:    the same, on the data folder the previous run left (database and keys exist);
#   idle RSS:   VmRSS from /proc/<pid>/status one second after start, median of the cold runs.
# Usage: bench/startup.sh            (RUNS=7 BENCH_PORT=18080 by default)
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
RUNS="${RUNS:-7}"

build_release
command -v curl >/dev/null || { echo "curl is required" >&2; exit 1; }

cold=() warm=() rss=()
for i in $(seq 1 "$RUNS"); do
    data="$SCRATCH/data-$i"
    start_server "$data"
    cold+=("$START_MS")
    sleep 1
    rss+=("$(server_rss_mib)")
    stop_server
    start_server "$data"
    warm+=("$START_MS")
    stop_server
    printf 'run %d: cold start %s ms, restart %s ms, idle RSS %s MiB\n' "$i" "${cold[-1]}" "${warm[-1]}" "${rss[-1]}"
done

echo
echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(uname -sr)"
echo "binary:  $(du -h "$BIN" | cut -f1) ($BIN)"
printf 'cold start (fresh SQLite data dir), median of %d: %s ms\n' "$RUNS" "$(median "${cold[@]}")"
printf 'restart (existing data dir), median of %d:        %s ms\n' "$RUNS" "$(median "${warm[@]}")"
printf 'idle RSS after start, median of %d:               %s MiB\n' "$RUNS" "$(median "${rss[@]}")"
