#!/usr/bin/env bash
# Scale-out on one machine: two `mes serve` nodes, each with its collector in one MQTT shared
# subscription and its ERP jobs, on one PostgreSQL and one Mosquitto. Checks, by counting:
#   - every simulated machine message is received by exactly one collector and stored once,
#     and both collectors took a share;
#   - both nodes' event streams carry the same notifications, and the last state each shows
#     for every machine is the one in the database;
#   - every outbox entry reaches the ERP (a webhook receiver that logs every delivery) once,
#     with each entry sent by one node only, while both nodes run the dispatcher;
#   - with the test Tryton (scripts/test.sh starts it), both nodes pulling every half second
#     never run a pull at the same time, and the orders arrive once.
# Needs MES_TEST_DATABASE_URL and MES_TEST_MQTT_URL (scripts/test.sh sets them) and a built mes.
#   scripts/check-scaleout.sh [MACHINES] [SECONDS]     the simulated plant (default 40 machines, 6 s)
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
[ -n "${MES_TEST_DATABASE_URL:-}" ] && [ -n "${MES_TEST_MQTT_URL:-}" ] || die "MES_TEST_DATABASE_URL and MES_TEST_MQTT_URL must be set (scripts/test.sh sets them)"
machines=${1:-40}
seconds=${2:-6}
mes=$(pwd)/${MES_BIN:-.build/debug/mes}
[ -x "$mes" ] || die "$mes not found: run swift build first"
work=$(mktemp -d /tmp/mes-scaleout-XXXXXX)
database="mes_scaleout_$$"
url="${MES_TEST_DATABASE_URL%/*}/$database"
pids=()
passed=0 failed=0
check() {  # check NAME ACTUAL EXPECTED
    if [ "$2" = "$3" ]; then passed=$((passed + 1)); echo "ok   $1"; else failed=$((failed + 1)); echo "FAIL $1: got '$2', wanted '$3'"; return 1; fi
}
stop_nodes() {
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null; done
    pids=()
}
cleanup() {
    stop_nodes
    psql "$MES_TEST_DATABASE_URL" -X -q -c "DROP DATABASE IF EXISTS $database WITH (FORCE)" >/dev/null 2>&1
    rm -rf "$work"
}
trap cleanup EXIT
sql() { psql "$url" -X -At -c "$1"; }
# Polls the SQL $1 until it prints $2, up to 30 s.
wait_for() { for _ in $(seq 1 300); do [ "$(sql "$1")" = "$2" ] && return 0; sleep 0.1; done; return 1; }

psql "$MES_TEST_DATABASE_URL" -X -q -c "CREATE DATABASE $database" >/dev/null || die "cannot create $database"
"$mes" migrate --database-url "$url" >/dev/null 2>&1 || die "migrate failed"
sql "INSERT INTO site (code, name, time_zone) VALUES ('S1', 'Plant 1', 'UTC'), ('ERP1', 'ERP plant', 'UTC')" >/dev/null

# The ERP for the push: a webhook receiver that logs the delivery id of every request it gets.
hook_port=$(free_port)
python3 - "$hook_port" "$work/deliveries" >"$work/hook.log" 2>&1 <<'PY' &
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
port, log = int(sys.argv[1]), open(sys.argv[2], "a", buffering=1)
class Hook(BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        log.write(self.headers["X-MES-Delivery"] + "\n")
        self.send_response(200)
        self.end_headers()
    def log_message(self, *args):
        pass
ThreadingHTTPServer(("127.0.0.1", port), Hook).serve_forever()
PY
hook_pid=$!
trap 'kill $hook_pid 2>/dev/null; cleanup' EXIT
for _ in $(seq 1 100); do port_in_use "$hook_port" && break; sleep 0.05; done

# Starts node $1 with extra environment settings; its port goes to $work/$1.port.
start_node() {
    local node=$1
    shift
    env MES_DATABASE_URL="$url" MES_MQTT_URL="$MES_TEST_MQTT_URL" MES_NODE="$node" MES_COLLECTOR_ID="scale-$node-$$" \
        MES_COLLECTOR_SHARE="scale$$" MES_SPOOL_DIR="$work/spool-$node" MES_LOG_LEVEL=warning "$@" \
        "$mes" serve --http-address 127.0.0.1:0 >"$work/$node.log" 2>&1 &
    pids+=($!)
    served_port "$work/$node.log" >"$work/$node.port"
    [ -s "$work/$node.port" ] || { cat "$work/$node.log"; die "node $node did not start"; }
}
hook=(MES_WEBHOOK_URL="http://127.0.0.1:$hook_port/hook" MES_WEBHOOK_SECRET=scaleout-secret-0123456789 MES_ERP_PUSH_INTERVAL=0.2)
start_node a "${hook[@]}"
start_node b "${hook[@]}"
port_a=$(cat "$work/a.port") port_b=$(cat "$work/b.port")
curl -sSN --max-time 120 "http://127.0.0.1:$port_a/events" >"$work/events-a.txt" 2>/dev/null &
curl_a=$!
curl -sSN --max-time 120 "http://127.0.0.1:$port_b/events" >"$work/events-b.txt" 2>/dev/null &
curl_b=$!
sleep 0.5

# 400 outbox entries over 40 work orders, as the floor would have written them.
sql "INSERT INTO erp_outbox (idempotency_key, stream, kind, payload)
     SELECT 'scrap:' || o || '-' || n, 'work_order:WO-' || o, 'scrap',
            jsonb_build_object('operation', jsonb_build_object('workOrder', 'WO-' || o, 'sequence', 10), 'quantity', 1,
                               'reason', 'DIM', 'reportedAt', '2026-11-23T10:00:00Z')
     FROM generate_series(1, 40) o, generate_series(1, 10) n ORDER BY o, n" >/dev/null

"$mes" simulate --mqtt-url "$MES_TEST_MQTT_URL" --machines "$machines" --seconds "$seconds" --speed 300 --seed 11 >"$work/simulate.log" 2>&1
published=$(grep -o 'published [0-9]*' "$work/simulate.log" | grep -o '[0-9]*$')
[ -n "$published" ] || { cat "$work/simulate.log"; die "the simulator published nothing"; }
wait_for "SELECT count(*) FROM machine_event" "$published"
check "every one of the $published machine messages is stored once" "$(sql "SELECT count(*) FROM machine_event")" "$published"
received() { curl -sS "http://127.0.0.1:$1/metrics" | grep -o '^mes_mqtt_messages_received_total [0-9]*' | grep -o '[0-9]*$'; }
ra=$(received "$port_a") rb=$(received "$port_b")
check "the two collectors received $published between them, each message once" "$((ra + rb))" "$published"
check "both collectors took a share (a: $ra, b: $rb)" "$([ "${ra:-0}" -gt 0 ] && [ "${rb:-0}" -gt 0 ] && echo yes)" yes

# Both event streams: the same notifications, and the last state of each machine as stored.
sleep 1
kill "$curl_a" "$curl_b" 2>/dev/null
wait "$curl_a" "$curl_b" 2>/dev/null
grep '^data: {"machines"' "$work/events-a.txt" | sort >"$work/a.data"
grep '^data: {"machines"' "$work/events-b.txt" | sort >"$work/b.data"
check "node a's event stream carried machine updates" "$([ -s "$work/a.data" ] && echo yes)" yes
check "both nodes' streams carried the same $(wc -l <"$work/a.data") notifications" "$(cmp -s "$work/a.data" "$work/b.data" && echo same)" same
last_states() {  # machine=state, the last each stream said, in stream order
    grep '^data: {"machines"' "$1" | sed 's/^data: //' | python3 -c '
import json, sys
last = {}
for line in sys.stdin:
    for m in json.loads(line)["machines"]:
        last[m["machine"]] = m["state"]
print(" ".join(f"{k}={v}" for k, v in sorted(last.items())))'
}
stored=$(sql "SELECT string_agg(m.code || '=' || s.state, ' ' ORDER BY m.code) FROM machine_status s JOIN machine m ON m.id = s.machine_id")
check "node a's stream ends with every machine's stored state" "$(last_states "$work/events-a.txt")" "$stored"
check "node b's stream ends with every machine's stored state" "$(last_states "$work/events-b.txt")" "$stored"

wait_for "SELECT count(*) FILTER (WHERE state = 'sent') FROM erp_outbox" 400
check "all 400 outbox entries are sent" "$(sql "SELECT count(*) FILTER (WHERE state = 'sent') || '/' || count(*) FROM erp_outbox")" "400/400" \
    || sql "SELECT last_error FROM erp_outbox WHERE last_error IS NOT NULL LIMIT 1"
check "the receiver got 400 deliveries, 400 different ones" "$(wc -l <"$work/deliveries") $(sort -u "$work/deliveries" | wc -l)" "400 400"
check "no entry was sent by two nodes" "$(sql "SELECT count(*) FROM (SELECT outbox_id FROM erp_outbox_attempt WHERE outcome = 'sent' GROUP BY outbox_id HAVING count(*) > 1) x")" 0
echo "     (sent by node a: $(sql "SELECT count(*) FROM erp_outbox_attempt WHERE outcome = 'sent' AND node = 'a'"), by node b: $(sql "SELECT count(*) FROM erp_outbox_attempt WHERE outcome = 'sent' AND node = 'b'"))"
stop_nodes

# The pull: both nodes against Tryton, every half second for 8 s.
if [ -n "${MES_TEST_TRYTON_URL:-}" ] && [ -n "${MES_TRYTON_STATE_DIR:-}" ]; then
    MES_TRYTON_RESET=1 scripts/tryton-up.sh >/dev/null 2>"$work/tryton-reset.log" || { cat "$work/tryton-reset.log"; die "Tryton could not be reset"; }
    erp=(MES_ERP_URL="$MES_TEST_TRYTON_URL" MES_ERP_DATABASE="$MES_TEST_TRYTON_DATABASE" MES_ERP_USER="$MES_TEST_TRYTON_USER"
         MES_ERP_PASSWORD="$MES_TEST_TRYTON_PASSWORD" MES_ERP_SITE=ERP1 MES_ERP_PULL_INTERVAL=0.5)
    start_node a "${erp[@]}"
    start_node b "${erp[@]}"
    sleep 8
    stop_nodes
    runs=$(sql "SELECT count(*) || ' runs by ' || count(DISTINCT node) || ' nodes' FROM erp_pull_run WHERE outcome = 'done'")
    echo "     (pulls: $runs)"
    check "pulls ran, and none failed" "$(sql "SELECT count(*) > 1 AND bool_and(outcome = 'done') FROM erp_pull_run")" t
    check "no two pulls overlapped in time" "$(sql "SELECT count(*) FROM erp_pull_run x JOIN erp_pull_run y ON x.id < y.id
        AND tstzrange(x.started_at, x.finished_at) && tstzrange(y.started_at, y.finished_at)")" 0
    check "Tryton's two open orders arrived once" "$(sql "SELECT count(*) || ' ' || count(DISTINCT erp_ref) FROM work_order WHERE erp_ref IS NOT NULL")" "2 2"
else
    echo "skip the pull across nodes: no test Tryton (MES_TEST_TRYTON_URL and MES_TRYTON_STATE_DIR; scripts/test.sh starts it)"
fi

echo "scale-out: $passed passed, $failed failed"
[ "$failed" = 0 ]
