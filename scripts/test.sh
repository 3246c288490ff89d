#!/usr/bin/env bash
# The whole test suite, from nothing: installs the Debian packages it needs (as root), starts its
# own PostgreSQL, Mosquitto and Tryton (the ERP) on free loopback ports, builds, runs `swift test`,
# checks the `mes` command end to end, drives the web app in headless Chromium (screenshots in
# test-artifacts/browser/), lints the Dockerfile, and runs the README's demo command in a fresh
# clone (scripts/check-readme.sh), then stops everything it started.
# Tryton installs from PyPI into a cached venv and activates its modules (1-3 minutes cold); it
# starts in the background while Swift builds.
#   scripts/test.sh                  everything
#   scripts/test.sh --filter PGPool  only the Swift tests matching the filter (and the CLI checks)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
forget_inherited_servers

filter=()
if [ "${1:-}" = "--filter" ]; then filter=(--filter "$2"); fi

started=$(date +%s)
step() { echo "== $* ($(( $(date +%s) - started )) s)"; }

step "installing packages"
scripts/install-deps.sh --browser

tryton_pid=''
cleanup() {
    [ -n "$tryton_pid" ] && kill "$tryton_pid" 2>/dev/null && wait "$tryton_pid" 2>/dev/null || true
    [ -n "${MES_TRYTON_STATE_DIR:-}" ] && scripts/tryton-down.sh --purge "$MES_TRYTON_STATE_DIR" || true
    [ -n "${MES_MQTT_RUN_DIR:-}" ] && scripts/mqtt-down.sh "$MES_MQTT_RUN_DIR" || true
    [ -n "${MES_PG_RUN_DIR:-}" ] && scripts/pg-down.sh "$MES_PG_RUN_DIR" || true
}
trap cleanup EXIT

step "starting PostgreSQL and Mosquitto"
# `x=$(...) && eval "$x"`, not `eval "$(...)"`, so a failed start stops the run.
pgenv=$(scripts/pg-up.sh) && eval "$pgenv"
mqttenv=$(scripts/mqtt-up.sh) && eval "$mqttenv"

step "starting Tryton in the background"
MES_TRYTON_STATE_DIR=$(mktemp -d /tmp/mes-tryton-XXXXXX)
export MES_TRYTON_STATE_DIR
tryton_out=$MES_TRYTON_STATE_DIR.env
MES_TRYTON_STATE_DIR=$MES_TRYTON_STATE_DIR scripts/tryton-up.sh >"$tryton_out" 2>"$tryton_out.log" &
tryton_pid=$!

step "building"
swift build --build-tests

step "waiting for Tryton"
status=0
wait "$tryton_pid" || status=$?
tryton_pid=''
cat "$tryton_out.log"
[ "$status" = 0 ] || die "Tryton did not start (exit $status)"
tryton_env=$(cat "$tryton_out") && eval "$tryton_env"
rm -f "$tryton_out" "$tryton_out.log"

step "running swift test"
swift test --skip-build "${filter[@]}"

step "replaying the fuzz corpora, then fuzzing the HTTP parser, the multipart parser and the payload decoders"
.build/debug/http-fuzz Fuzz/corpus/http/*
.build/debug/multipart-fuzz Fuzz/corpus/multipart/*
.build/debug/payload-fuzz Fuzz/corpus/payloads/*
scripts/fuzz.sh http-fuzz "${MES_FUZZ_SECONDS:-60}"
scripts/fuzz.sh multipart-fuzz "${MES_FUZZ_SECONDS:-60}"
scripts/fuzz.sh payload-fuzz "${MES_FUZZ_SECONDS:-60}"

step "the test suite under ThreadSanitizer"
scripts/sanitize.sh thread "${filter[@]}"

step "the test suite under AddressSanitizer"
scripts/sanitize.sh address "${filter[@]}"

step "checking the mes command end to end"
scripts/check-cli.sh

step "two nodes and two collectors on one database"
scripts/check-scaleout.sh

step "faults: PostgreSQL, Mosquitto, the collector, the server and Tryton taken away under load"
scripts/check-faults.sh "${MES_FAULT_PG_SECONDS:-60}" "${MES_FAULT_TRYTON_SECONDS:-300}"

step "a short soak: 2,000 event streams, 200 page views a second, 500 machines at 5 messages a second"
scripts/bench-soak "${MES_SOAK_SECONDS:-60}" --debug

step "driving the web app in headless Chromium"
scripts/check-browser.sh

step "linting the Dockerfile"
scripts/lint-dockerfile.sh

step "running the README's command in a fresh clone"
scripts/check-readme.sh

step "all tests passed"
