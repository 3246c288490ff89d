#!/usr/bin/env bash
# Fuzzes one of the libFuzzer targets with AddressSanitizer for a bounded time, starting from
# its corpus in the repository:
#   scripts/fuzz.sh http-fuzz [SECONDS]       the HTTP request parser and body decoders
#   scripts/fuzz.sh payload-fuzz [SECONDS]    the Sparkplug B and JSON payload decoders
#   scripts/fuzz.sh multipart-fuzz [SECONDS]  the multipart/form-data parser, with a round trip
# Inputs that crash are written to .fuzz/<target>/crashes and the script fails. Builds in
# .build-fuzz so the instrumented objects never mix with the normal build.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
target=${1:?usage: fuzz.sh http-fuzz|payload-fuzz|multipart-fuzz [SECONDS]}
seconds=${2:-60}
case $target in
    http-fuzz) corpus=Fuzz/corpus/http; max_len=4096 ;;
    payload-fuzz) corpus=Fuzz/corpus/payloads; max_len=8192 ;;
    multipart-fuzz) corpus=Fuzz/corpus/multipart; max_len=4096 ;;
    *) die "unknown fuzz target $target (http-fuzz, payload-fuzz or multipart-fuzz)" ;;
esac
flags=(--product "$target" --scratch-path .build-fuzz -Xswiftc -sanitize=fuzzer,address -Xswiftc -D -Xswiftc FUZZING -Xswiftc -use-ld=lld)
swift build "${flags[@]}" 2>&1 | grep -v 'Cannot export local symbol' | grep -E 'error|warning: ' || true
binary=$(swift build "${flags[@]}" --show-bin-path)/$target
work=.fuzz/$target
mkdir -p "$work/corpus" "$work/crashes"
cp "$corpus"/* "$work/corpus/"
"$binary" "$work/corpus" -max_total_time="$seconds" -max_len="$max_len" -timeout=5 -rss_limit_mb=2048 \
    -artifact_prefix="$work/crashes/" -print_final_stats=1 2>&1 | tail -n 12
echo "fuzz: $target, no crash in $seconds s"
