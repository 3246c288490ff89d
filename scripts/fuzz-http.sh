#!/usr/bin/env bash
# Fuzzes the HTTP request parser with libFuzzer and AddressSanitizer for a bounded time.
#   scripts/fuzz-http.sh [SECONDS]      (default 60)
# Inputs that crash are written to .fuzz/crashes and the script fails. Builds in .build-fuzz
# so the instrumented objects never mix with the normal build.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
swift build --product http-fuzz --scratch-path .build-fuzz \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -D -Xswiftc FUZZING -Xswiftc -use-ld=lld 2>&1 | grep -v 'Cannot export local symbol' | grep -E 'error|warning: ' || true
binary=$(swift build --product http-fuzz --scratch-path .build-fuzz -Xswiftc -sanitize=fuzzer,address -Xswiftc -D -Xswiftc FUZZING -Xswiftc -use-ld=lld --show-bin-path)/http-fuzz
mkdir -p .fuzz/corpus .fuzz/crashes
cp Fuzz/corpus/http/* .fuzz/corpus/
"$binary" .fuzz/corpus -max_total_time="$seconds" -max_len=4096 -timeout=5 -rss_limit_mb=2048 \
    -artifact_prefix=.fuzz/crashes/ -print_final_stats=1 2>&1 | tail -n 12
echo "fuzz: no crash in $seconds s"
