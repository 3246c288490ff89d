#!/usr/bin/env bash
# Fault injection with the real components, under a simulated plant publishing all along:
#   1. PostgreSQL stopped for PG_SECONDS (default 60), then started again;
#   2. Mosquitto stopped and started again;
#   3. the collector killed with SIGKILL and started again, now with its spool on a 1 MB tmpfs;
#   4. PostgreSQL stopped again until that spool is full ("disk full"), then started;
#   5. Tryton stopped for TRYTON_SECONDS (default 300) from the start, with 20 finished work
#      orders (80 outbox entries) waiting for it; once it is back, the server pushing them is
#      killed with SIGKILL mid-push and started again.
# Then it counts: every machine message published is stored once, except at most what the
# killed collector held in memory (the documented loss bound: under a second of traffic), no
# dead letters, an empty spool; every outbox entry sent, none dead, and in Tryton exactly one
# done cycle per operation and 20 done productions. Figures go to docs/reliability.md.
# Starts its own PostgreSQL and Mosquitto (it stops them); uses the Tryton of scripts/test.sh
# (MES_TEST_TRYTON_URL, MES_TRYTON_STATE_DIR), or starts one.
#   scripts/check-faults.sh [PG_SECONDS] [TRYTON_SECONDS] [MACHINES]
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
pg_seconds=${1:-60}
tryton_seconds=${2:-300}
machines=${3:-200}
mes=$(pwd)/${MES_BIN:-.build/debug/mes}
[ -x "$mes" ] || die "$mes not found: run swift build first"
unset MES_PG_RUN_DIR MES_MQTT_RUN_DIR PGPORT
work=$(mktemp -d /tmp/mes-faults-XXXXXX)
chmod 755 "$work"
own_tryton=''
pids=()
passed=0 failed=0
started=$(date +%s)
say() { echo "--   [$(( $(date +%s) - started )) s] $*"; }
check() {  # check NAME ACTUAL EXPECTED
    if [ "$2" = "$3" ]; then passed=$((passed + 1)); echo "ok   $1"; else failed=$((failed + 1)); echo "FAIL $1: got '$2', wanted '$3'"; return 1; fi
}
cleanup() {
    for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null; done
    mountpoint -q "$work/small-spool" 2>/dev/null && umount "$work/small-spool"
    [ -n "${MES_MQTT_RUN_DIR:-}" ] && scripts/mqtt-down.sh "$MES_MQTT_RUN_DIR" >/dev/null 2>&1
    [ -n "${MES_PG_RUN_DIR:-}" ] && scripts/pg-down.sh "$MES_PG_RUN_DIR" >/dev/null 2>&1
    [ -n "$own_tryton" ] && scripts/tryton-down.sh --purge "$MES_TRYTON_STATE_DIR" >/dev/null 2>&1
    rm -rf "$work"
}
trap cleanup EXIT

pgenv=$(scripts/pg-up.sh) && eval "$pgenv" || die "PostgreSQL did not start"
mqttenv=$(scripts/mqtt-up.sh) && eval "$mqttenv" || die "Mosquitto did not start"
if [ -z "${MES_TEST_TRYTON_URL:-}" ] || [ -z "${MES_TRYTON_STATE_DIR:-}" ]; then
    say "starting Tryton (1-3 minutes the first time)"
    own_tryton=yes
    MES_TRYTON_STATE_DIR=$(mktemp -d /tmp/mes-tryton-XXXXXX)
    export MES_TRYTON_STATE_DIR
    trytonenv=$(scripts/tryton-up.sh 2>"$work/tryton.log") && eval "$trytonenv" || { cat "$work/tryton.log"; die "Tryton did not start"; }
else
    MES_TRYTON_RESET=1 scripts/tryton-up.sh >/dev/null 2>"$work/tryton.log" || { cat "$work/tryton.log"; die "Tryton could not be reset"; }
fi
PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)}
if [ "$(id -u)" = 0 ]; then as_pg() { runuser -u postgres -- "$@"; }; else as_pg() { "$@"; }; fi
pg_stop() { as_pg "$PGBIN/pg_ctl" -D "$MES_PG_RUN_DIR/data" -m fast -w -t 30 stop >/dev/null; }
pg_start() { as_pg "$PGBIN/pg_ctl" -D "$MES_PG_RUN_DIR/data" -l "$MES_PG_RUN_DIR/server.log" -w -t 60 start >/dev/null; }
broker_stop() { local pid; pid=$(cat "$MES_MQTT_RUN_DIR/mosquitto.pid"); kill -TERM "$pid"; while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done; }
broker_start() { "$(command -v mosquitto || echo /usr/sbin/mosquitto)" -c "$MES_MQTT_RUN_DIR/mosquitto.conf" -d 2>/dev/null; }
sql() { psql "$MES_DATABASE_URL" -X -At -c "$1"; }
tryton_python=${MES_TRYTON_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/mes/venv-tryton}/bin/python

"$mes" migrate >/dev/null 2>&1 || die "migrate failed"
sql "INSERT INTO site (code, name, time_zone) VALUES ('S1', 'Plant 1', 'UTC'), ('ERP1', 'ERP plant', 'UTC')" >/dev/null
"$tryton_python" scripts/bench_erp_seed.py -c "$MES_TRYTON_STATE_DIR/trytond.conf" -d "$MES_TEST_TRYTON_DATABASE" --orders 20 >/dev/null \
    || die "cannot make 20 productions in Tryton"
export MES_ERP_URL=$MES_TEST_TRYTON_URL MES_ERP_DATABASE=$MES_TEST_TRYTON_DATABASE MES_ERP_USER=$MES_TEST_TRYTON_USER \
    MES_ERP_PASSWORD=$MES_TEST_TRYTON_PASSWORD MES_ERP_SITE=ERP1 MES_ERP_PULL_INTERVAL=3600 MES_ERP_PUSH_INTERVAL=0.5 MES_LOG_LEVEL=warning
"$mes" sync --once >/dev/null 2>"$work/pull.log" || { cat "$work/pull.log"; die "the pull from Tryton failed"; }
orders=$(sql "SELECT count(*) FROM work_order WHERE erp_ref IS NOT NULL")
[ "$orders" -ge 20 ] || die "only $orders orders were pulled from Tryton"

start_collector() {  # start_collector SPOOL
    "$mes" collect --client-id mes-faults --spool "$1" --metrics-address 127.0.0.1:0 >>"$work/collect.log" 2>&1 &
    collector=$!
    pids+=("$collector")
    for _ in $(seq 1 200); do [ "$(grep -c 'metrics at' "$work/collect.log")" -ge "$2" ] && break; sleep 0.05; done
    collector_metrics=$(grep -o 'metrics at http://[0-9.:]*/metrics' "$work/collect.log" | tail -1 | grep -o 'http://.*')
}
start_server() {
    "$mes" serve --http-address 127.0.0.1:0 --no-collect >>"$work/serve.log" 2>&1 &
    server=$!
    pids+=("$server")
    for _ in $(seq 1 200); do [ "$(grep -c 'listening on' "$work/serve.log")" -ge "$1" ] && break; sleep 0.05; done
    server_url=$(grep -o 'listening on http://[0-9.:]*' "$work/serve.log" | tail -1 | grep -o 'http://.*')
}
# A counter of the collector's /metrics; 0 while it cannot be read.
metric() { local value; value=$(curl -sS "$collector_metrics" 2>/dev/null | grep -o "^$1 [0-9]*" | grep -o '[0-9]*$'); echo "${value:-0}"; }
stored_by_collector() { echo $(( $(metric mes_mqtt_messages_stored_total) + $(metric mes_mqtt_duplicates_total) + $(metric mes_mqtt_dead_lettered_total) )); }
# Waits until the collector has written everything it received (up to $1 s); prints the seconds.
drained() {
    local t0=$EPOCHREALTIME
    for _ in $(seq 1 $(( $1 * 10 ))); do
        [ "$(metric mes_mqtt_messages_received_total)" = "$(stored_by_collector)" ] && break
        sleep 0.1
    done
    awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'
}

start_collector "$work/spool" 1
start_server 1
# About 3 messages a second per machine, all run long.
"$mes" simulate --machines "$machines" --speed 60 --seed 5 >"$work/simulate.log" 2>&1 &
simulator=$!
pids+=("$simulator")
sleep 5

say "stopping Tryton for $tryton_seconds s, with 20 finished orders' outbox waiting"
tryton_stopped=$(date +%s)
scripts/tryton-down.sh "$MES_TRYTON_STATE_DIR" >/dev/null 2>&1 || die "cannot stop Tryton"
sql "WITH chosen AS (SELECT id, number, erp_ref FROM work_order WHERE erp_ref IS NOT NULL ORDER BY id LIMIT 20)
     INSERT INTO erp_outbox (idempotency_key, stream, kind, payload)
     SELECT key, stream, kind, payload FROM (
         SELECT 'operation:' || o.id AS key, 'work_order:' || c.number AS stream, 'operation_done' AS kind, c.id AS order_id, o.sequence AS position,
                jsonb_build_object('operation', jsonb_build_object('workOrder', c.number, 'workOrderRef', c.erp_ref, 'sequence', o.sequence,
                                   'operationRef', o.erp_ref), 'runSeconds', 600, 'setupSeconds', 60, 'good', 1, 'scrap', 0, 'rework', 0,
                                   'employeeRef', NULL, 'completedAt', '2026-11-23T10:00:00Z') AS payload
         FROM chosen c JOIN work_order_operation o ON o.work_order_id = c.id
         UNION ALL
         SELECT 'order:' || c.id, 'work_order:' || c.number, 'order_done', c.id, 100000,
                jsonb_build_object('workOrder', c.number, 'workOrderRef', c.erp_ref, 'good', 1, 'scrap', 0, 'completedAt', '2026-11-23T10:30:00Z')
         FROM chosen c) x
     ORDER BY order_id, position" >/dev/null
entries=$(sql "SELECT count(*) FROM erp_outbox")

say "1. PostgreSQL stopped for $pg_seconds s"
pg_stop
sleep 2
ready_while_down=$(curl -s -o /dev/null -w '%{http_code}' "$server_url/readyz")
sleep $(( pg_seconds - 2 ))
spooled=$(metric mes_collector_spooled_batches_total)
pg_start
took=$(drained 120)
say "   PostgreSQL back; the collector wrote its backlog ($spooled batches spooled) in $took s"
check "/readyz says 503 while PostgreSQL is away" "$ready_while_down" 503
check "and 200 once it is back" "$(curl -s -o /dev/null -w '%{http_code}' "$server_url/readyz")" 200
check "the collector spooled while PostgreSQL was away" "$([ "${spooled:-0}" -gt 0 ] && echo yes)" yes

say "2. Mosquitto stopped and started again"
broker_stop
sleep 3
broker_start
sleep 5
took=$(drained 60)
say "   the collector is back and caught up in $took s"

say "3. the collector killed with SIGKILL"
before=$(sql "SELECT count(*) FROM machine_event")
in_memory=$(( $(metric mes_mqtt_messages_received_total) - $(stored_by_collector) ))
kill -KILL "$collector"
wait "$collector" 2>/dev/null
killed_at=$EPOCHREALTIME
sleep 2
if mkdir -p "$work/small-spool" && mount -t tmpfs -o size=1m tmpfs "$work/small-spool" 2>/dev/null; then
    small_spool=yes
else
    small_spool=''
    say "   (cannot mount a tmpfs here: the disk-full step is skipped; it needs root with CAP_SYS_ADMIN)"
fi
start_collector "$work/small-spool" 2
took=$(drained 60)
say "   restarted; it took the broker's queue for its session and caught up in $took s ($in_memory messages were in its memory 0.1 s before the kill)"

if [ -n "$small_spool" ]; then
    say "4. PostgreSQL stopped until the collector's 1 MB spool is full"
    pg_stop
    for _ in $(seq 1 600); do grep -q "spool failed" "$work/collect.log" && break; sleep 0.1; done
    full=$(grep -c "spool failed" "$work/collect.log")
    sleep 3
    pg_start
    took=$(drained 120)
    say "   the spool was full ($full refused batches kept in memory instead); all written $took s after PostgreSQL came back"
    check "the full spool was noticed and its batches kept in memory" "$([ "$full" -gt 0 ] && echo yes)" yes
fi

left=$(( tryton_seconds - ($(date +%s) - tryton_stopped) ))
if [ "$left" -gt 0 ]; then say "   waiting $left s more for the end of Tryton's outage"; sleep "$left"; fi
check "nothing was sent while Tryton was away, and nothing died" "$(sql "SELECT count(*) FILTER (WHERE state = 'sent') || ' ' || count(*) FILTER (WHERE state = 'dead') FROM erp_outbox")" "0 0"
retries=$(sql "SELECT count(*) FROM erp_outbox_attempt WHERE outcome = 'retry'")
say "5. Tryton back after $(( $(date +%s) - tryton_stopped )) s ($retries failed attempts logged meanwhile)"
MES_TRYTON_RESET=0 scripts/tryton-up.sh >/dev/null 2>>"$work/tryton.log" || { cat "$work/tryton.log"; die "Tryton did not start again"; }
back=$(date +%s)
for _ in $(seq 1 600); do [ "$(sql "SELECT count(*) FROM erp_outbox WHERE state = 'sent'")" -ge 8 ] && break; sleep 0.1; done
say "   the server killed with SIGKILL mid-push ($(sql "SELECT count(*) FROM erp_outbox WHERE state = 'sent'") of $entries sent), and started again"
kill -KILL "$server"
wait "$server" 2>/dev/null
start_server 2
for _ in $(seq 1 1800); do [ "$(sql "SELECT count(*) FROM erp_outbox WHERE state <> 'sent'")" = 0 ] && break; sleep 0.2; done
say "   the outbox was empty $(( $(date +%s) - back )) s after Tryton came back"

kill -INT "$simulator"
wait "$simulator"
published=$(grep -o 'published [0-9]*' "$work/simulate.log" | grep -o '[0-9]*$')
drained 60 >/dev/null
kill -TERM "$collector"
wait "$collector"
stored=$(sql "SELECT count(*) FROM machine_event")
lost=$(( published - stored ))
elapsed=$(( $(date +%s) - started ))
rate=$(( published / elapsed ))
say "published $published machine messages in $elapsed s ($rate a second); stored $stored; lost $lost, all at the SIGKILL"
check "no message was lost but what the killed collector held (lost $lost; bound: a second of traffic, $rate)" \
    "$([ "$lost" -ge 0 ] && [ "$lost" -le "$rate" ] && echo within)" within
check "nothing was dead-lettered" "$(sql "SELECT count(*) FROM dead_letter")" 0
check "the spools are empty" "$(find "$work/spool" "$work/small-spool" -type f 2>/dev/null | wc -l)" 0
check "the collector stopped with nothing waiting" "$(grep -o 'still waiting [0-9]*' "$work/collect.log" | tail -1)" "still waiting 0"
check "every outbox entry was sent, none dead" "$(sql "SELECT count(*) FILTER (WHERE state = 'sent') || '/' || count(*) FROM erp_outbox")" "$entries/$entries"
# In Tryton: one done cycle on each of the 20 orders' works, and the 20 productions done.
counts=$("$tryton_python" - "$MES_TEST_TRYTON_URL/$MES_TEST_TRYTON_DATABASE/rpc/" "$MES_TEST_TRYTON_USER" "$MES_TEST_TRYTON_PASSWORD" \
    "$(sql "SELECT string_agg(erp_ref, ',') FROM (SELECT erp_ref FROM work_order WHERE erp_ref IS NOT NULL ORDER BY id LIMIT 20) x")" <<'PY'
import base64, json, sys, urllib.request
url, user, password, refs = sys.argv[1:5]
productions = [int(r) for r in refs.split(",")]
def call(method, params, auth=None):
    headers = {"Content-Type": "application/json"}
    if auth: headers["Authorization"] = auth
    body = json.dumps({"id": 1, "method": method, "params": params}).encode()
    return json.load(urllib.request.urlopen(urllib.request.Request(url, body, headers)))["result"]
uid, key, _ = call("common.db.login", [user, {"password": password}, "en"])
auth = "Session " + base64.b64encode(f"{user}:{uid}:{key}".encode()).decode()
context = {"company": 1}
works = call("model.production.work.search", [[["production", "in", productions]], 0, None, None, context], auth)
cycles = call("model.production.work.cycle.search_read", [[["work", "in", works]], 0, None, None, ["work", "state"], context], auth)
done = call("model.production.search_count", [[["id", "in", productions], ["state", "=", "done"]], context], auth)
per_work = {}
for cycle in cycles:
    per_work[cycle["work"]] = per_work.get(cycle["work"], 0) + 1
print(len(works), sum(1 for c in cycles if c["state"] == "done"), max(per_work.values(), default=0), done)
PY
)
check "in Tryton: 60 works, 60 done cycles, at most one per work, 20 productions done" "$counts" "60 60 1 20"

echo "faults: $passed passed, $failed failed"
[ "$failed" = 0 ]
