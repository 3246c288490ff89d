#!/usr/bin/env bash
# The newcomer's path, tested as a newcomer takes it: clones this repository (its committed
# HEAD) into a fresh temporary folder, runs the README's run command there (scripts/demo.sh,
# on a free port) under a time limit, waits for the URL it prints, signs in as the demo
# supervisor in headless Chromium, and checks that the wall screen shows the 22 demo machines
# with some of them running and that the plant overview counts parts. Then Ctrl-C, and
# nothing it started may be left running. The clone builds from nothing, so this takes a few
# minutes. Screenshot: test-artifacts/readme/.
#   scripts/check-readme.sh [SECONDS]      the time limit for the build and start (default 1200)
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
forget_inherited_servers
limit=${1:-1200}
case "$limit" in *[!0-9]* | '') die "the time limit '$limit' is not a number of seconds" ;; esac
git rev-parse --git-dir >/dev/null 2>&1 || die "$(pwd) is not a git clone"
command -v chromium >/dev/null && command -v chromedriver >/dev/null || die "chromium and chromedriver are missing: scripts/install-deps.sh --browser"
python=$(scripts/py-venv.sh browser selenium 'selenium==4.51.0') || die "cannot install selenium from PyPI"
artifacts=$(pwd)/${MES_TEST_ARTIFACTS:-test-artifacts}/readme
mkdir -p "$artifacts"

work=$(mktemp -d /tmp/mes-readme-XXXXXX)
chmod 755 "$work"  # as root, the demo's PostgreSQL runs as the postgres user and must reach .mes/
demo_pid=''
cleanup() {
    [ -n "$demo_pid" ] && kill -INT "$demo_pid" 2>/dev/null && wait "$demo_pid" 2>/dev/null
    pkill -f "$work/" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

git clone -q . "$work/mes" || die "cannot clone $(pwd)"
command=$(grep -o '^scripts/demo.sh' README.md | head -1)
[ -n "$command" ] || die "README.md no longer names scripts/demo.sh as its run command"
started=$(date +%s)
(cd "$work/mes" && exec timeout --signal=INT "$limit" "$command" --http-address 127.0.0.1:0 --speed 30) >"$work/demo.log" 2>&1 &
demo_pid=$!
url=''
while [ -z "$url" ] && kill -0 "$demo_pid" 2>/dev/null; do
    url=$(grep -o 'running at http://127.0.0.1:[0-9]*' "$work/demo.log" | grep -o 'http://.*')
    [ -z "$url" ] && sleep 1
done
if [ -z "$url" ]; then
    tail -40 "$work/demo.log"
    die "the README's command printed no URL within ${limit} s"
fi
echo "readme: $command built and started the demo in $(( $(date +%s) - started )) s: $url"
grep -q "supervisor  sam / demo-sam-2026" "$work/demo.log" || die "the demo did not print the supervisor's sign-in"

status=0
"$python" scripts/readme-test.py "$url" "$artifacts" || status=1

kill -INT "$demo_pid"
wait "$demo_pid"
demo_status=$?
demo_pid=''
sleep 0.5
left=$(pgrep -f "$work/" | wc -l)
if [ "$demo_status" = 0 ] && [ "$left" = 0 ]; then
    echo "ok   Ctrl-C stops the demo and everything it started"
else
    echo "FAIL Ctrl-C: exit $demo_status, $left processes left"; pgrep -af "$work/"
    status=1
fi
[ "$status" = 0 ] || { echo "--- demo log"; tail -40 "$work/demo.log"; }
exit "$status"
