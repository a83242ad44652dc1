#!/usr/bin/env bash
# Messages in doubt after kill -9 (tests/api/crash.rs, `in_doubt_after_kill_9`): ten times, a real
# `wabahub serve` dispatches 1,000 messages to a fake Meta Cloud API on 127.0.0.1 that counts what
# it receives, is killed with SIGKILL part-way (after 100 to 820 sends) and restarted until nothing
# is queued. Prints per kill: recipients messaged twice (must be 0), messages in doubt, and how many
# of those the fake never received. SQLite by default; TEST_DATABASE_URL (an admin URL) runs it
# on PostgreSQL. Debug build (the figures are counts, not speeds). Every wait is bounded.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
cargo test --locked --test api in_doubt_after_kill_9 -- --ignored --nocapture --test-threads 1 2>&1 \
    | grep -oE '(kill +[0-9]+:|10 kills).*'
