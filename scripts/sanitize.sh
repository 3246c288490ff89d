#!/usr/bin/env bash
# The Swift test suite under a sanitizer: ThreadSanitizer (data races) or AddressSanitizer
# (use after free, overflows, leaks of the C libraries' buffers). Each builds in a folder of its
# own (.build-tsan, .build-asan) so instrumented objects never mix with the normal build.
# A sanitizer report fails the run: TSan and ASan exit non-zero after printing it.
# Needs the same servers as `swift test` (MES_TEST_DATABASE_URL, MES_TEST_MQTT_URL, and the
# Tryton of scripts/test.sh for the ERP tests); scripts/test.sh runs both.
#   scripts/sanitize.sh thread|address [--filter PATTERN]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
sanitizer=${1:?usage: sanitize.sh thread|address [--filter PATTERN]}
shift
case $sanitizer in
    thread) scratch=.build-tsan ;;
    address) scratch=.build-asan ;;
    *) die "unknown sanitizer '$sanitizer' (thread or address)" ;;
esac
filter=()
if [ "${1:-}" = "--filter" ]; then filter=(--filter "$2"); fi
log=$scratch.log
swift build --build-tests --sanitize="$sanitizer" --scratch-path "$scratch" >"$log" 2>&1 || { grep -E "error:" "$log" | sort -u; die "the $sanitizer build failed (log: $log)"; }
# halt_on_error: the first report ends the run with a non-zero exit, its stack symbolized.
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1${TSAN_OPTIONS:+:$TSAN_OPTIONS}"
# Leak checking is off: libpq, libmosquitto and Foundation keep process-lifetime buffers that
# LeakSanitizer would report at exit, and no test can tell those from ours.
export ASAN_OPTIONS="detect_leaks=0:halt_on_error=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
# The time limit matters: a sanitizer's symbolizer can outlive the test process and hold the
# pipe swift test reads, so a failed run could otherwise hang instead of failing.
timeout --kill-after=10 "${MES_SANITIZE_TIMEOUT:-1200}" swift test --skip-build --sanitize="$sanitizer" --scratch-path "$scratch" "${filter[@]}"
echo "sanitize: the test suite passed under the $sanitizer sanitizer"
