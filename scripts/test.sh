#!/usr/bin/env bash
# The whole test suite, from nothing: installs the Debian packages it needs (as root), starts its
# own PostgreSQL and Mosquitto on free loopback ports, builds, runs `swift test`, checks the `mes`
# command end to end and lints the Dockerfile, then stops everything it started.
#   scripts/test.sh                  everything
#   scripts/test.sh --filter PGPool  only the Swift tests matching the filter (and the CLI checks)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

filter=()
if [ "${1:-}" = "--filter" ]; then filter=(--filter "$2"); fi

started=$(date +%s)
step() { echo "== $* ($(( $(date +%s) - started )) s)"; }

step "installing packages"
scripts/install-deps.sh

cleanup() {
    [ -n "${MES_MQTT_RUN_DIR:-}" ] && scripts/mqtt-down.sh "$MES_MQTT_RUN_DIR" || true
    [ -n "${MES_PG_RUN_DIR:-}" ] && scripts/pg-down.sh "$MES_PG_RUN_DIR" || true
}
trap cleanup EXIT

step "starting PostgreSQL and Mosquitto"
# `x=$(...) && eval "$x"`, not `eval "$(...)"`, so a failed start stops the run.
pgenv=$(scripts/pg-up.sh) && eval "$pgenv"
mqttenv=$(scripts/mqtt-up.sh) && eval "$mqttenv"

step "building"
swift build --build-tests

step "running swift test"
swift test --skip-build "${filter[@]}"

step "replaying the fuzz corpus, then fuzzing the HTTP parser"
.build/debug/http-fuzz Fuzz/corpus/http/*
scripts/fuzz-http.sh "${MES_FUZZ_SECONDS:-60}"

step "checking the mes command end to end"
scripts/check-cli.sh

step "linting the Dockerfile"
scripts/lint-dockerfile.sh

step "all tests passed"
