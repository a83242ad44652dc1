#!/usr/bin/env bash
# The OpenAPI contract, checked two ways:
#   1. openapi-spec-validator on the committed openapi/openapi.json (no errors allowed);
#   2. schemathesis against a debug `wabahub serve` on SQLite (127.0.0.1, a throw-away data folder,
#      a signed-up user's token), failing on any 5xx, any response that does not match its
#      documented schema and any undocumented status code. `delete_user` and `update_user` are left
#      out: deleting or demoting the fuzzing user (id 1) would turn every later request into a 401
#      or 403 (tests/api/users.rs covers them).
# Both tools are installed, pinned, from PyPI into a venv under target/ (kept between runs).
#
# Usage: .ci/fuzz-api.sh              validate, then fuzz
#        .ci/fuzz-api.sh validate     only the validator
# Settings: FUZZ_MAX_EXAMPLES (default 10 per operation), FUZZ_MAX_TIME (seconds, default 240),
#           FUZZ_SEED (default 1; "random" for a new one), FUZZ_PORT (default 18181),
#           FUZZ_VENV (default target/api-contract-venv), FUZZ_ARGS (more schemathesis options).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

OPENAPI_SPEC_VALIDATOR_VERSION=0.9.0
SCHEMATHESIS_VERSION=4.32.5
VENV="${FUZZ_VENV:-target/api-contract-venv}"
PORT="${FUZZ_PORT:-18181}"
MAX_EXAMPLES="${FUZZ_MAX_EXAMPLES:-10}"
MAX_TIME="${FUZZ_MAX_TIME:-240}"
SEED="${FUZZ_SEED:-1}"

log() { printf 'fuzz-api: %s\n' "$*"; }
die() { printf 'fuzz-api: %s\n' "$*" >&2; exit 1; }

install_tools() {
    command -v python3 >/dev/null || die "python3 is required"
    if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
        log "installing python3-venv"
        local sudo=()
        if [ "$(id -u)" -ne 0 ]; then sudo=(sudo -n); fi
        "${sudo[@]}" apt-get update -qq
        DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends python3-venv </dev/null
    fi
    [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
    local want="openapi-spec-validator==$OPENAPI_SPEC_VALIDATOR_VERSION schemathesis==$SCHEMATHESIS_VERSION"
    if [ "$(cat "$VENV/.installed" 2>/dev/null)" != "$want" ]; then
        # shellcheck disable=SC2086
        "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check $want
        echo "$want" >"$VENV/.installed"
    fi
}

validate() {
    log "openapi-spec-validator $OPENAPI_SPEC_VALIDATOR_VERSION on openapi/openapi.json"
    "$VENV/bin/openapi-spec-validator" --validation-errors all openapi/openapi.json
}

SERVER_PID=""
DATA=""
cleanup() {
    if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
    if [ -n "$DATA" ]; then rm -rf "$DATA"; fi
}

fuzz() {
    log "building the server"
    cargo build --locked --quiet --bin wabahub
    DATA="$(mktemp -d /tmp/wabahub-fuzz.XXXXXX)"
    trap cleanup EXIT
    local base="http://127.0.0.1:$PORT"
    # Providers point at a closed local port: nothing leaves the machine, and calls fail fast (502).
    # That port is private, so the public-address guard is lifted (ALLOW_PRIVATE_URLS) for this server.
    env -i PATH="$PATH" HOME="${HOME:-/tmp}" \
        WABAHUB_DATA_DIR="$DATA" DATABASE_URL="sqlite://$DATA/wabahub.db" WABAHUB_BIND="127.0.0.1:$PORT" \
        PUBLIC_BASE_URL="$base" ALLOW_SIGNUP=true ACCESS_TOKEN_TTL_SECS=3600 WABAHUB_WORKERS=2 \
        META_GRAPH_URL="http://127.0.0.1:9" TATA_BASE_URL="http://127.0.0.1:9" PROVIDER_TIMEOUT_SECS=2 ALLOW_PRIVATE_URLS=true \
        RUST_LOG=warn target/debug/wabahub serve >"$DATA/server.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 1 100); do
        if curl -fsS "$base/healthz" >/dev/null 2>&1; then break; fi
        kill -0 "$SERVER_PID" 2>/dev/null || { cat "$DATA/server.log" >&2; die "the server did not start"; }
        sleep 0.2
    done
    local signup token
    signup="$(curl -fsS -X POST "$base/api/v1/auth/signup" -H 'Content-Type: application/json' \
        -d '{"tenant_name":"Fuzz","name":"Fuzz Owner","email":"owner@fuzz.example","password":"fuzz-password-1"}')" \
        || die "signup failed"
    token="$("$VENV/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["tokens"]["access_token"])' <<<"$signup")"
    local seed=(--seed "$SEED")
    if [ "$SEED" = random ]; then seed=(); fi
    log "schemathesis $SCHEMATHESIS_VERSION: at most $MAX_EXAMPLES examples per operation, ${MAX_TIME}s"
    local status=0
    # shellcheck disable=SC2086
    "$VENV/bin/schemathesis" run "$base/openapi.json" \
        --header "Authorization: Bearer $token" \
        --checks not_a_server_error,response_schema_conformance,status_code_conformance \
        --phases examples,coverage,fuzzing \
        --max-examples "$MAX_EXAMPLES" --max-time "$MAX_TIME" "${seed[@]}" \
        --workers 2 --request-timeout 20 --no-color \
        --suppress-health-check all --generation-database none --generation-with-security-parameters false \
        --exclude-operation-id delete_user --exclude-operation-id update_user \
        --report-dir "$DATA/report" ${FUZZ_ARGS:-} || status=$?
    if [ "$status" -ne 0 ]; then
        log "server log (last 50 lines):"
        tail -n 50 "$DATA/server.log" >&2
        die "schemathesis found contract violations (exit $status)"
    fi
}

install_tools
validate
if [ "${1:-}" != validate ]; then fuzz; fi
log "ok"
