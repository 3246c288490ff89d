#!/usr/bin/env bash
# Fuzzes the HTTP request parser for a bounded time (scripts/fuzz.sh http-fuzz).
#   scripts/fuzz-http.sh [SECONDS]      (default 60)
exec "$(dirname "$0")/fuzz.sh" http-fuzz "${1:-60}"
