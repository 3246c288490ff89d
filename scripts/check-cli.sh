#!/usr/bin/env bash
# End-to-end checks of the `mes` executable against a real PostgreSQL: what an operator sees.
# Needs MES_TEST_DATABASE_URL (a role with CREATEDB) and a built .build/debug/mes.
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
[ -n "${MES_TEST_DATABASE_URL:-}" ] || die "MES_TEST_DATABASE_URL is not set (scripts/test.sh sets it)"
mes=${MES_BIN:-.build/debug/mes}
[ -x "$mes" ] || die "$mes not found: run swift build first"

passed=0
failed=0
work=$(mktemp -d /tmp/mes-cli-XXXXXX)
database="mes_cli_$$"
base=${MES_TEST_DATABASE_URL%/*}
psql "$MES_TEST_DATABASE_URL" -X -q -c "CREATE DATABASE $database" >/dev/null || die "cannot create database $database"
trap 'psql "$MES_TEST_DATABASE_URL" -X -q -c "DROP DATABASE IF EXISTS $database WITH (FORCE)" >/dev/null; rm -rf "$work"' EXIT
url="$base/$database"

# expect NAME EXIT_CODE PATTERN -- COMMAND...: runs COMMAND, checks its exit code and that its
# combined output matches PATTERN (an extended regex). The output is kept in $work/last.out.
expect() {
    local name=$1 code=$2 pattern=$3
    shift 4
    local output actual
    output=$(env -u MES_DATABASE_URL "$@" 2>&1)
    actual=$?
    printf '%s\n' "$output" >"$work/last.out"
    if [ "$actual" = "$code" ] && grep -Eq -- "$pattern" <<<"$output"; then
        passed=$((passed + 1))
        echo "ok   $name"
    else
        failed=$((failed + 1))
        echo "FAIL $name: exit $actual (wanted $code), output:"
        sed 's/^/     /' <<<"$output"
    fi
}

expect "migrate builds the schema on an empty database" 0 "applied 0001_plant_model.sql.*schema is up to date" -- \
    "$mes" migrate --database-url "$url"
expect "migrate again changes nothing" 0 "schema is up to date \([0-9]+ migrations\)" -- \
    "$mes" migrate --database-url "$url"
expect "migrate --status lists applied migrations" 0 "applied  0004_users_and_roles.sql" -- \
    "$mes" migrate --status --database-url "$url"
expect "the database URL can come from MES_DATABASE_URL" 0 "schema is up to date" -- \
    env MES_DATABASE_URL="$url" "$mes" migrate
expect "the plant tables exist" 0 "work_order_operation" -- \
    psql "$url" -X -At -c "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"

cp -r Migrations "$work/Migrations"
echo "-- an edit after the fact" >> "$work/Migrations/0001_plant_model.sql"
expect "an edited applied migration is refused" 1 "0001_plant_model.sql was changed after it was applied" -- \
    "$mes" migrate --database-url "$url" --migrations "$work/Migrations"

mkdir -p "$work/bad"
echo "SELECT 1;" > "$work/bad/7_oops.sql"
expect "a badly named migration file is named in the error" 1 "7_oops.sql: the version must be at least four digits" -- \
    "$mes" migrate --database-url "$url" --migrations "$work/bad"
expect "a missing migrations folder is reported" 1 "migrations directory .?/nonexistent.? does not exist" -- \
    "$mes" migrate --database-url "$url" --migrations /nonexistent
expect "no database URL says how to give one" 64 "MES_DATABASE_URL: no database given" -- \
    "$mes" migrate
expect "an unreachable database is reported with its redacted URL" 1 "cannot connect to postgresql://mes:\*\*\*@127.0.0.1:1/mes" -- \
    "$mes" migrate --database-url "postgresql://mes:secret@127.0.0.1:1/mes"
expect "a bad MES_HTTP_ADDRESS names the variable" 64 "MES_HTTP_ADDRESS: 'nowhere' has no port" -- \
    env MES_HTTP_ADDRESS=nowhere "$mes" config
expect "mes config masks passwords" 0 "MES_DATABASE_URL +postgresql://mes:\*\*\*@" -- \
    env MES_DATABASE_URL="$url" "$mes" config
expect "mes --help lists the subcommands" 0 "migrate.*" -- \
    "$mes" --help

# mes spc: the published p-chart example, SVG output, and bad files.
printf 'defectives,sample_size\n' > "$work/juice.csv"
for d in 12 15 8 10 4 7 16 9 14 10 5 6 17 12 22 8 10 5 13 11 20 18 24 15 9 12 7 13 9 6; do echo "$d,50" >> "$work/juice.csv"; done
expect "mes spc p reproduces Montgomery's orange-juice limits" 0 '"ucl":0\.4102' -- "$mes" spc p "$work/juice.csv"
expect "mes spc flags samples 15 and 23" 0 '"index":15,"lcl":[0-9.e-]+,"signals":\["N1"' -- "$mes" spc p "$work/juice.csv"
expect "mes spc draws SVG" 0 '^<svg xmlns="http://www.w3.org/2000/svg"' -- "$mes" spc p "$work/juice.csv" --format svg
printf '310\n288\noops\n' > "$work/bad.csv"
expect "mes spc names the bad line" 1 "bad.csv:3: 'oops' is not a number" -- "$mes" spc imr "$work/bad.csv"
expect "mes spc refuses an unknown chart" 64 "unknown chart 'pareto'" -- "$mes" spc pareto "$work/bad.csv"
expect "mes spc reports a missing file" 1 "nowhere.csv: cannot be read" -- "$mes" spc imr "$work/nowhere.csv"

# mes oee: the oee.com worked example, and a file with overlapping intervals.
cat > "$work/shift.json" <<'JSON'
{"window": {"start": "2026-11-23T06:00:00Z", "end": "2026-11-23T14:00:00Z"},
 "intervals": [
  {"start": "2026-11-23T06:00:00Z", "end": "2026-11-23T08:00:00Z", "state": "running"},
  {"start": "2026-11-23T08:00:00Z", "end": "2026-11-23T08:15:00Z", "state": "planned_stop"},
  {"start": "2026-11-23T08:15:00Z", "end": "2026-11-23T09:20:00Z", "state": "running"},
  {"start": "2026-11-23T09:20:00Z", "end": "2026-11-23T10:07:00Z", "state": "unplanned_stop", "reason": "spindle"},
  {"start": "2026-11-23T10:07:00Z", "end": "2026-11-23T10:30:00Z", "state": "running"},
  {"start": "2026-11-23T10:30:00Z", "end": "2026-11-23T11:00:00Z", "state": "planned_stop"},
  {"start": "2026-11-23T11:00:00Z", "end": "2026-11-23T12:30:00Z", "state": "running"},
  {"start": "2026-11-23T12:30:00Z", "end": "2026-11-23T12:45:00Z", "state": "planned_stop"},
  {"start": "2026-11-23T12:45:00Z", "end": "2026-11-23T14:00:00Z", "state": "running"}],
 "counts": [{"part": "widget", "ideal_cycle_seconds": 1.0, "total": 19271, "reject": 423}]}
JSON
expect "mes oee reproduces the oee.com example (OEE 74.79 %)" 0 '"oee":0\.7479' -- "$mes" oee "$work/shift.json"
sed 's/T08:15:00Z", "state": "planned_stop"/T08:25:00Z", "state": "planned_stop"/' "$work/shift.json" > "$work/overlap.json"
expect "mes oee refuses overlapping intervals" 1 "intervals 2 and 3 overlap" -- "$mes" oee "$work/overlap.json"
cat > "$work/plant.json" <<'JSON'
{"window": {"start": "2026-11-23T00:00:00+01:00", "end": "2026-11-24T00:00:00+01:00"},
 "calendar": {"time_zone": "Europe/Berlin", "shifts": [{"name": "early", "start": "06:00", "end": "14:00"}]},
 "machines": [
  {"machine": "M1", "line": "L1",
   "intervals": [{"start": "2026-11-23T06:00:00+01:00", "end": "2026-11-23T14:00:00+01:00", "state": "running"}],
   "counts": [{"part": "P-1", "ideal_cycle_seconds": 10, "total": 2880, "reject": 0, "time": "2026-11-23T14:00:00+01:00"}]},
  {"machine": "M2", "line": "L1",
   "intervals": [{"start": "2026-11-23T06:00:00+01:00", "end": "2026-11-23T14:00:00+01:00", "state": "unplanned_stop"}],
   "counts": []}]}
JSON
expect "mes oee rolls two machines up by line over a Berlin calendar (OEE 50 %)" 0 \
    '"by":"line","flags":\[\],"key":"L1","losses":\{[^}]*\},"oee":0\.5,' -- "$mes" oee "$work/plant.json" --by line,shift
expect "mes oee refuses an unknown grouping" 64 "'site' is not one of machine, line, shift" -- "$mes" oee "$work/plant.json" --by site

# mes serve: health, static files, the NOTIFY-to-event-stream relay, and a graceful stop on SIGTERM.
mkdir -p "$work/public"
echo "body { color: #333; }" > "$work/public/site.css"
"$mes" serve --database-url "$url" --http-address 127.0.0.1:0 --public "$work/public" --grace-period 5 --no-collect >"$work/serve.log" 2>&1 &
serve_pid=$!
port=$(served_port "$work/serve.log")
base_url="http://127.0.0.1:$port"
expect "mes serve answers /health after checking the database" 0 "^ok$" -- curl -sS --fail "$base_url/health"
expect "/healthz answers while the process runs" 0 "^ok$" -- curl -sS --fail "$base_url/healthz"
expect "/readyz is ready when the database answers and the schema is current" 0 "^ready$" -- curl -sS --fail "$base_url/readyz"
expect "mes serve serves static files" 0 "color: #333" -- curl -sS --fail "$base_url/static/site.css"
expect "mes serve refuses path traversal" 0 "^404$" -- curl -sS -o /dev/null -w "%{http_code}" --path-as-is "$base_url/static/../serve.log"

# The REST API: each answer's status is checked here, and every body against docs/api/openapi.json.
psql "$url" -X -q -c "
    INSERT INTO site (code, name, time_zone) VALUES ('HQ', 'Plant 1', 'Europe/Berlin');
    INSERT INTO machine (site_id, code, name) SELECT id, 'M-01', 'Lathe 1' FROM site WHERE code = 'HQ';
    INSERT INTO part (code, name) VALUES ('P-1', 'Shaft');
    INSERT INTO routing (part_id, name) SELECT id, 'P-1 routing' FROM part;
    INSERT INTO routing_operation (routing_id, sequence, name, machine_id, ideal_cycle_seconds)
        SELECT r.id, 10, 'Turning', m.id, 30 FROM routing r, machine m;" >/dev/null
read_token=$("$mes" token create --database-url "$url" --name "dashboards" --scope plant:read)
write_token=$("$mes" token create --database-url "$url" --name "ERP interface" --scope orders:write --scope plant:read --scope erp:admin)
expect "mes token create prints a token once" 0 "^mes_[0-9a-f]{8}_[0-9a-f]{32}$" -- echo "$write_token"
: >"$work/api-calls.txt"
calls=0
# api NAME STATUS METHOD TEMPLATE PATH [curl arguments]: one call, its status checked, its body kept.
api() {
    local name=$1 status=$2 method=$3 template=$4 path=$5
    shift 5
    calls=$((calls + 1))
    local body="$work/api-$calls.json"
    expect "$name" 0 "^$status$" -- curl -sS -o "$body" -w "%{http_code}" -X "$method" "$@" "$base_url$path"
    echo "$method $template $status $body" >>"$work/api-calls.txt"
}
auth=(-H "Authorization: Bearer $write_token")
json=(-H "Content-Type: application/json")
api "the API refuses a call without a token" 401 GET "/api/v1/work-orders/{number}" /api/v1/work-orders/WO-1
api "the API refuses a token without the route's scope" 403 PUT "/api/v1/work-orders/{number}" /api/v1/work-orders/WO-1 \
    -H "Authorization: Bearer $read_token" "${json[@]}" -d '{"part": "P-1", "quantity": 5, "site": "HQ"}'
api "PUT creates a work order" 201 PUT "/api/v1/work-orders/{number}" /api/v1/work-orders/WO-1 "${auth[@]}" "${json[@]}" \
    -d '{"part": "P-1", "quantity": 5, "site": "HQ", "due": "2026-11-30T14:00:00Z", "reference": "SO-77"}'
api "the same PUT again is unchanged" 200 PUT "/api/v1/work-orders/{number}" /api/v1/work-orders/WO-1 "${auth[@]}" "${json[@]}" \
    -d '{"part": "P-1", "quantity": 5, "site": "HQ", "due": "2026-11-30T14:00:00Z", "reference": "SO-77"}'
expect "an unchanged PUT says so" 0 '"outcome":"unchanged"' -- cat "$work/api-$calls.json"
api "a PUT naming an unknown part is 404" 404 PUT "/api/v1/work-orders/{number}" /api/v1/work-orders/WO-2 "${auth[@]}" "${json[@]}" \
    -d '{"part": "NOPE", "quantity": 5, "site": "HQ"}'
api "a PUT with a negative quantity is 422" 422 PUT "/api/v1/work-orders/{number}" /api/v1/work-orders/WO-2 "${auth[@]}" "${json[@]}" \
    -d '{"part": "P-1", "quantity": -5, "site": "HQ"}'
api "a PUT that is not JSON is 400" 400 PUT "/api/v1/work-orders/{number}" /api/v1/work-orders/WO-2 "${auth[@]}" "${json[@]}" -d '{"part": '
api "release copies the routing's operations" 200 POST "/api/v1/work-orders/{number}/release" /api/v1/work-orders/WO-1/release "${auth[@]}"
expect "the released order has operation 10 on M-01" 0 '"machine":"M-01".*"sequence":10' -- cat "$work/api-$calls.json"
api "releasing twice is 409" 409 POST "/api/v1/work-orders/{number}/release" /api/v1/work-orders/WO-1/release "${auth[@]}"
api "GET reads the order" 200 GET "/api/v1/work-orders/{number}" /api/v1/work-orders/WO-1 "${auth[@]}"
printf 'number,part,quantity,site,due,release\nWO-10,P-1,40,HQ,2026-12-01,yes\nWO-11,P-1,x,HQ,,no\nWO-12,P-1,5,S9,,\n' >"$work/orders-bad.csv"
api "a CSV import with a bad line imports nothing and names the line" 422 POST /api/v1/work-orders/import /api/v1/work-orders/import \
    "${auth[@]}" -H "Content-Type: text/csv" --data-binary @"$work/orders-bad.csv"
expect "the CSV error names line 3" 0 "line 3: quantity 'x' is not a positive number" -- cat "$work/api-$calls.json"
printf 'number,part,quantity,site,due,release\r\nWO-10,P-1,40,HQ,2026-12-01,yes\r\n"WO-11","P-1","7","HQ",,no\r\n' >"$work/orders.csv"
api "a good CSV file imports every order" 200 POST /api/v1/work-orders/import /api/v1/work-orders/import \
    "${auth[@]}" -H "Content-Type: text/csv" --data-binary @"$work/orders.csv"
expect "two orders were created" 0 '"created":2' -- cat "$work/api-$calls.json"
api "WIP per operation" 200 GET "/api/v1/sites/{site}/wip" /api/v1/sites/HQ/wip "${auth[@]}"
api "machine states" 200 GET "/api/v1/sites/{site}/machines" /api/v1/sites/HQ/machines "${auth[@]}"
api "an unknown site is 404" 404 GET "/api/v1/sites/{site}/machines" /api/v1/sites/NOPE/machines "${auth[@]}"
api "OEE per machine" 200 GET "/api/v1/sites/{site}/oee" "/api/v1/sites/HQ/oee?from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z" "${auth[@]}"
api "OEE without a window is 400" 400 GET "/api/v1/sites/{site}/oee" /api/v1/sites/HQ/oee "${auth[@]}"
psql "$url" -X -q -c "INSERT INTO shift_pattern (site_id, name, start_minute, end_minute) SELECT id, 'Early', 360, 840 FROM site WHERE code = 'HQ'" >/dev/null
api "attainment per day" 200 GET "/api/v1/sites/{site}/attainment" "/api/v1/sites/HQ/attainment?from=2026-11-30T00:00:00Z&to=2026-12-02T00:00:00Z" "${auth[@]}"
expect "the order due on the 30th is planned that day" 0 '"day":"2026-11-30".*"planned":5' -- cat "$work/api-$calls.json"
api "attainment per shift" 200 GET "/api/v1/sites/{site}/attainment" "/api/v1/sites/HQ/attainment?from=2026-11-30T00:00:00Z&to=2026-12-02T00:00:00Z&by=shift" "${auth[@]}"
expect "and in the early shift of the 30th" 0 '"day":"2026-11-30".*"shift":"Early"' -- cat "$work/api-$calls.json"
api "the outbox ledger" 200 GET /api/v1/outbox "/api/v1/outbox?state=dead" "${auth[@]}"
api "replaying an entry that is not dead is 409" 409 POST "/api/v1/outbox/{id}/replay" /api/v1/outbox/1/replay "${auth[@]}"
# Quality: a measurement against the released WO-1's turning operation, traces, recall, holds.
psql "$url" -X -q -c "
    INSERT INTO quality_characteristic (part_id, operation_sequence, code, name, lsl, usl) SELECT id, 10, 'BORE', 'Bore', 24.95, 25.05 FROM part WHERE code = 'P-1';
    INSERT INTO part (code, name) VALUES ('BAR', 'Bar stock');
    INSERT INTO lot (part_id, code, kind, quantity, created_at) SELECT id, 'H-1', 'lot', 10, now() FROM part WHERE code = 'BAR';" >/dev/null
quality_token=$("$mes" token create --database-url "$url" --name "gauges" --scope quality:write --scope quality:read)
operation_id=$(psql "$url" -X -At -c "SELECT o.id FROM work_order_operation o JOIN work_order wo ON wo.id = o.work_order_id WHERE wo.number = 'WO-1' AND o.sequence = 10")
quality=(-H "Authorization: Bearer $quality_token")
api "a measurement out of specification is recorded and judged" 201 POST /api/v1/measurements /api/v1/measurements "${quality[@]}" "${json[@]}" \
    -d "{\"operation_id\": $operation_id, \"characteristic\": \"BORE\", \"values\": [25.2], \"request_key\": \"cli-1\"}"
expect "it opened a nonconformance and a hold" 0 '"nonconformance_id":[0-9]+' -- cat "$work/api-$calls.json"
api "the same request key again is the first result" 200 POST /api/v1/measurements /api/v1/measurements "${quality[@]}" "${json[@]}" \
    -d "{\"operation_id\": $operation_id, \"characteristic\": \"BORE\", \"values\": [25.2], \"request_key\": \"cli-1\"}"
api "a subgroup of the wrong size is 422" 422 POST /api/v1/measurements /api/v1/measurements "${quality[@]}" "${json[@]}" \
    -d "{\"operation_id\": $operation_id, \"characteristic\": \"BORE\", \"values\": [25, 25]}"
api "open holds" 200 GET /api/v1/holds /api/v1/holds "${quality[@]}"
api "what an operation consumed and produced is recorded" 201 POST /api/v1/genealogy /api/v1/genealogy "${quality[@]}" "${json[@]}" \
    -d "{\"operation_id\": $operation_id, \"consumed\": [{\"part\": \"BAR\", \"lot\": \"H-1\", \"quantity\": 1}], \"produced\": [{\"part\": \"P-1\", \"lot\": \"SN-1\", \"quantity\": 1, \"kind\": \"serial\"}]}"
api "a lot's trace" 200 GET "/api/v1/lots/{part}/{lot}/trace" "/api/v1/lots/BAR/H-1/trace?direction=forward" "${quality[@]}"
api "a recall's impact" 200 GET "/api/v1/lots/{part}/{lot}/recall" /api/v1/lots/BAR/H-1/recall "${quality[@]}"
api "an unknown lot is 404" 404 GET "/api/v1/lots/{part}/{lot}/recall" /api/v1/lots/BAR/H-9/recall "${quality[@]}"
curl -sS "$base_url/metrics" >"$work/metrics.txt"
expect "/metrics counts the requests above in Prometheus's text format" 0 'mes_http_requests_total\{status="2xx"\} [1-9]' -- cat "$work/metrics.txt"
expect "/metrics has request durations" 0 'mes_http_request_duration_seconds_count [1-9]' -- cat "$work/metrics.txt"
expect "/metrics reads the outbox, the pool and the dead letters" 0 'mes_erp_outbox_entries\{state="pending"\} [0-9]' -- \
    bash -c "grep -q 'mes_db_pool_connections{state=\"open\"}' '$work/metrics.txt' && grep -q '^mes_mqtt_dead_letters ' '$work/metrics.txt' && cat '$work/metrics.txt'"
"$mes" token revoke --database-url "$url" "$(echo "$read_token" | cut -d_ -f2)" >/dev/null
api "a revoked token is refused" 401 GET "/api/v1/work-orders/{number}" /api/v1/work-orders/WO-1 -H "Authorization: Bearer $read_token"
if openapi_python=$(scripts/py-venv.sh openapi openapi_spec_validator 'openapi-spec-validator==0.9.0' 'jsonschema==4.26.0' 2>"$work/openapi-venv.log"); then
    expect "the OpenAPI 3.1 file is valid and every API answer above matches it" 0 "failed$" -- \
        "$openapi_python" scripts/check-openapi.py docs/api/openapi.json "$work/api-calls.txt"
    expect "every answer was checked" 0 "0 failed" -- cat "$work/last.out"
else
    failed=$((failed + 1))
    echo "FAIL the OpenAPI validator could not be installed: $(tail -3 "$work/openapi-venv.log")"
fi

curl -sSN --max-time 10 "$base_url/events" >"$work/events.txt" 2>/dev/null &
curl_pid=$!
for _ in $(seq 1 100); do grep -q "retry" "$work/events.txt" 2>/dev/null && break; sleep 0.05; done
psql "$url" -X -q -c "SELECT pg_notify('mes_events', '{\"machine\":\"M-01\",\"state\":\"down\"}')" >/dev/null
for _ in $(seq 1 100); do grep -q "M-01" "$work/events.txt" 2>/dev/null && break; sleep 0.05; done
expect "/metrics counts the open event stream" 0 '^mes_sse_clients 1' -- curl -sS "$base_url/metrics"
kill -TERM "$serve_pid"
serve_status=0
wait "$serve_pid" || serve_status=$?
wait "$curl_pid" 2>/dev/null || true
expect "a NOTIFY on mes_events reaches the event stream" 0 'data: \{"machine":"M-01","state":"down"\}' -- cat "$work/events.txt"
expect "SIGTERM ends event streams with a shutdown event" 0 "event: shutdown" -- cat "$work/events.txt"
expect "mes serve exits 0 after draining on SIGTERM" 0 "exit 0" -- echo "exit $serve_status"

# Secrets never reach the logs or the error messages: a role with a password found nowhere
# else, the server at debug level (requests, a failing one, the shutdown), and failures to
# connect with the password in the URL.
secret="Pw-9f3k2-never-logged"
psql "$url" -X -q -c "CREATE ROLE mes_secret_probe LOGIN PASSWORD '$secret'" -c "GRANT mes TO mes_secret_probe" >/dev/null 2>&1
secret_url="postgresql://mes_secret_probe:$secret@${url#*@}"
MES_LOG_LEVEL=debug "$mes" serve --database-url "$secret_url" --http-address 127.0.0.1:0 --no-collect --no-sync \
    --mqtt-url "mqtt://mes:$secret@127.0.0.1:1" >"$work/secret.log" 2>&1 &
secret_pid=$!
secret_port=$(served_port "$work/secret.log")
for path in /readyz /metrics /login /no-such-page /api/v1/machines; do curl -sS -o /dev/null "http://127.0.0.1:$secret_port$path"; done
kill -TERM "$secret_pid"; wait "$secret_pid" 2>/dev/null
"$mes" migrate --database-url "postgresql://mes:$secret@127.0.0.1:1/mes" >>"$work/secret.log" 2>&1
"$mes" collect --database-url "$url" --mqtt-url "mqtt://mes:$secret@127.0.0.1:1" --spool "$work/secret-spool" >>"$work/secret.log" 2>&1
MES_ERP_URL=http://127.0.0.1:1 MES_ERP_DATABASE=x MES_ERP_USER=mes MES_ERP_PASSWORD="$secret" MES_ERP_SITE=S1 \
    "$mes" sync --once --database-url "$url" >>"$work/secret.log" 2>&1
MES_ERP_PASSWORD="$secret" "$mes" config --database-url "$secret_url" >>"$work/secret.log" 2>&1
expect "no password appears in the logs, the error messages or mes config (debug level, failed connections)" 0 "^0 [1-9]" -- \
    bash -c "echo \$(grep -c -- '$secret' '$work/secret.log') \$(wc -l <'$work/secret.log')"
psql "$url" -X -q -c "DROP ROLE mes_secret_probe" >/dev/null 2>&1

# The live path: mes simulate → Mosquitto → mes collect → PostgreSQL → NOTIFY → mes serve → browser.
if [ -n "${MES_TEST_MQTT_URL:-}" ]; then
    psql "$url" -X -q -c "INSERT INTO site (code, name, time_zone) VALUES ('S1', 'Plant 1', 'Europe/Berlin')" >/dev/null
    "$mes" serve --database-url "$url" --http-address 127.0.0.1:0 --public "$work/public" --no-collect >"$work/serve2.log" 2>&1 &
    serve_pid=$!
    port=$(served_port "$work/serve2.log")
    curl -sSN --max-time 20 "http://127.0.0.1:$port/events" >"$work/live.txt" 2>/dev/null &
    curl_pid=$!
    "$mes" collect --database-url "$url" --mqtt-url "$MES_TEST_MQTT_URL" --client-id "mes-cli-$$" \
        --spool "$work/spool" --metrics-address 127.0.0.1:0 >"$work/collect.log" 2>&1 &
    collect_pid=$!
    for _ in $(seq 1 100); do grep -q "metrics at" "$work/collect.log" 2>/dev/null && break; sleep 0.05; done
    "$mes" simulate --mqtt-url "$MES_TEST_MQTT_URL" --machines 20 --seconds 3 --speed 600 --seed 7 >"$work/simulate.log" 2>&1
    expect "mes simulate publishes a plant of 20 machines" 0 "published [0-9]+ machine messages" -- cat "$work/simulate.log"
    published=$(grep -o 'published [0-9]*' "$work/simulate.log" | grep -o '[0-9]*$' || echo none)
    sleep 1
    metrics_url=$(grep -o 'metrics at http://[0-9.:]*/metrics' "$work/collect.log" | grep -o 'http://.*')
    for _ in $(seq 1 50); do curl -sS "$metrics_url" | grep -q "^mes_mqtt_messages_stored_total $published\$" && break; sleep 0.1; done
    expect "mes collect --metrics-address counts the messages received and stored" 0 \
        "^mes_mqtt_messages_received_total $published mes_mqtt_messages_stored_total $published\$" -- \
        bash -c "curl -sS '$metrics_url' | grep -E '^mes_mqtt_messages_(received|stored)_total ' | sort | tr '\n' ' ' | sed 's/ \$//'"
    expect "and the batch sizes as a histogram" 0 'mes_collector_batch_size_bucket\{le="5000.0"\} [1-9]' -- curl -sS "$metrics_url"
    kill -TERM "$collect_pid"
    collect_status=0
    wait "$collect_pid" || collect_status=$?
    expect "mes collect stores every message and exits 0 on SIGTERM" 0 "exit 0: mes collect: received $published, stored $published, duplicates 0, dead letters 0, spooled batches 0, still waiting 0" -- \
        bash -c "echo \"exit $collect_status: \$(grep -o 'mes collect: received.*' '$work/collect.log')\""
    expect "every simulated machine has a live status" 0 "^20$" -- psql "$url" -X -At -c "SELECT count(*) FROM machine_status"
    expect "state intervals and part counts were derived" 0 "^t$" -- \
        psql "$url" -X -At -c "SELECT (SELECT count(*) FROM machine_state_interval) > 20 AND (SELECT sum(quantity) FROM production_count) > 0"
    for _ in $(seq 1 100); do grep -q '"machines":\[' "$work/live.txt" 2>/dev/null && break; sleep 0.05; done
    expect "machine states reach the browser's event stream" 0 'data: \{"machines":\[\{"machine":"M0' -- cat "$work/live.txt"
    kill -TERM "$serve_pid"
    wait "$serve_pid" 2>/dev/null || true
    kill "$curl_pid" 2>/dev/null || true
else
    failed=$((failed + 1))
    echo "FAIL the live path: MES_TEST_MQTT_URL is not set (scripts/test.sh starts Mosquitto)"
fi

# Sparkplug B: mes collect as the primary host, fed payloads captured from a real edge node.
if [ -n "${MES_TEST_MQTT_URL:-}" ]; then
    broker=${MES_TEST_MQTT_URL#mqtt://}
    mqtt_args=(-h "${broker#*@}" -u "${broker%%:*}" -P "$(echo "${broker%@*}" | cut -d: -f2)")
    mqtt_args[1]=${mqtt_args[1]%:*}
    mqtt_args+=(-p "${broker##*:}")
    python3 - "$work" <<'PY'
import re, sys
source = open("Tests/CollectorTests/SparkplugVectors.swift").read()
for name, hexdata in re.findall(r'static let (v\d+_\w+) = bytes\("([0-9a-f]+)"\)', source):
    open(f"{sys.argv[1]}/{name}.bin", "wb").write(bytes.fromhex(hexdata))
PY
    psql "$url" -X -q -c "INSERT INTO site (code, name, time_zone) VALUES ('Plant1', 'Sparkplug plant', 'UTC')" >/dev/null
    echo '{"measurements": ["Gauge/BoreDiameter"]}' >"$work/mapping.json"
    "$mes" collect --database-url "$url" --mqtt-url "$MES_TEST_MQTT_URL" --client-id "mes-spb-$$" --spool "$work/spool-spb" \
        --sparkplug-host "mes-cli-$$" --sparkplug-mapping "$work/mapping.json" --sparkplug-reorder-timeout 500 >"$work/spb.log" 2>&1 &
    collect_pid=$!
    for _ in $(seq 1 100); do grep -q "Sparkplug B host" "$work/spb.log" 2>/dev/null && break; sleep 0.05; done
    expect "the Sparkplug host publishes its STATE online, retained" 0 '"online":true' -- \
        mosquitto_sub "${mqtt_args[@]}" -t "spBv1.0/STATE/mes-cli-$$" -C 1 -W 5
    mosquitto_sub "${mqtt_args[@]}" -t "spBv1.0/Plant1/NCMD/#" -C 1 -W 10 -F '%t' >"$work/ncmd.txt" 2>&1 &
    sub_pid=$!
    sleep 0.3
    spb() { mosquitto_pub "${mqtt_args[@]}" -t "spBv1.0/Plant1/$1" -f "$work/$2.bin" -q 0; sleep 0.1; }
    spb NBIRTH/Line1-Gateway v02_nbirth
    spb DBIRTH/Line1-Gateway/CNC-01 v03_dbirthCnc01
    spb DDATA/Line1-Gateway/CNC-01 v05_ddataFirst
    spb DDATA/Line1-Gateway/CNC-01 v06_ddataAlarm
    wait "$sub_pid" 2>/dev/null || true
    expect "a gap in the sequence numbers still open after the 500 ms reorder window makes the host ask the edge node for a rebirth" 0 "^spBv1.0/Plant1/NCMD/Line1-Gateway$" -- cat "$work/ncmd.txt"
    spb NDEATH/Line1-Gateway v15_ndeathLibraryCleanOffbyone
    sleep 0.5
    expect "an NDEATH from another session is ignored (dead-lettered), the machine stays up" 0 "^unplanned_stop 1$" -- \
        psql "$url" -X -At -F ' ' -c "SELECT s.state, (SELECT count(*) FROM dead_letter WHERE reason LIKE 'NDEATH ignored%') FROM machine_status s JOIN machine m ON m.id = s.machine_id WHERE m.code = 'CNC-01'"
    spb NDEATH/Line1-Gateway v13_ndeathWill
    sleep 0.5
    expect "the edge node's will marks its machine offline" 0 "^offline edge node offline$" -- \
        psql "$url" -X -At -F ' ' -c "SELECT s.state, s.reason FROM machine_status s JOIN machine m ON m.id = s.machine_id WHERE m.code = 'CNC-01'"
    expect "births and data were stored: states, counts, the alarm" 0 "^t$" -- \
        psql "$url" -X -At -c "SELECT count(*) FILTER (WHERE kind = 'state') >= 3 AND count(*) FILTER (WHERE kind = 'count') >= 4 AND count(*) FILTER (WHERE kind = 'alarm') = 1 FROM machine_event e JOIN machine m ON m.id = e.machine_id WHERE m.code = 'CNC-01'"
    "$mes" simulate --mqtt-url "$MES_TEST_MQTT_URL" --machines 20 --seconds 3 --speed 600 --seed 11 --site Plant1 --sparkplug \
        >"$work/simulate-spb.log" 2>&1
    expect "mes simulate --sparkplug publishes 20 machines from 2 edge nodes" 0 "published [0-9]+ machine messages as Sparkplug B from 2 edge nodes" -- \
        cat "$work/simulate-spb.log"
    published=$(grep -o 'published [0-9]*' "$work/simulate-spb.log" | grep -o '[0-9]*$' || echo none)
    stored_sql="SELECT (SELECT count(*) FROM machine_event e JOIN machine m ON m.id = e.machine_id WHERE m.code LIKE 'M0%' AND m.site_id = s.id), (SELECT count(*) FROM machine_status t JOIN machine m ON m.id = t.machine_id WHERE m.code LIKE 'M0%' AND m.site_id = s.id) FROM site s WHERE s.code = 'Plant1'"
    for _ in $(seq 1 100); do [ "$(psql "$url" -X -At -F ' ' -c "$stored_sql")" = "$published 20" ] && break; sleep 0.1; done
    expect "every simulated Sparkplug machine message was stored, and every machine has a status" 0 "^$published 20$" -- \
        psql "$url" -X -At -F ' ' -c "$stored_sql"
    # A third-party peer: an edge node written with pysparkplug (scripts/spb-edge.py), through a
    # seq gap, an unknown alias, a reconnect, a stale NDEATH and a counter reset.
    if spb_python=$(scripts/spb-venv.sh 2>"$work/spb-venv.log"); then
        peer_ignored_before=$(psql "$url" -X -At -c "SELECT count(*) FROM dead_letter WHERE reason LIKE 'NDEATH ignored%' AND topic LIKE '%Peer-Line%'")
        expect "the pysparkplug edge node gets a rebirth request after a seq gap and after an unknown alias" 0 '"rebirths": 2' -- \
            "$spb_python" scripts/spb-edge.py --url "$MES_TEST_MQTT_URL" --group Plant1 --node Peer-Line --device PEER-01 --cycles 10
        expected_parts=$(grep -o '"parts": [0-9]*' "$work/last.out" 2>/dev/null | grep -o '[0-9]*$' || echo none)
        peer_sql="SELECT (SELECT coalesce(sum(quantity), 0) FROM production_count c WHERE c.machine_id = m.id AND c.counter = 'total'),
                         (SELECT count(*) FROM production_count c WHERE c.machine_id = m.id AND c.counter_reset),
                         (SELECT count(*) FROM dead_letter WHERE reason LIKE 'unknown alias 99%'),
                         (SELECT count(*) FROM dead_letter WHERE reason LIKE 'NDEATH ignored%' AND topic LIKE '%Peer-Line%') - $peer_ignored_before,
                         s.state || '/' || coalesce(s.reason, '-')
                  FROM machine m JOIN machine_status s ON s.machine_id = m.id WHERE m.code = 'PEER-01'"
        for _ in $(seq 1 50); do psql "$url" -X -At -F ' ' -c "$peer_sql" | grep -q "offline/edge node offline$" && break; sleep 0.1; done
        expect "pysparkplug peer: every part counted across the rebirths and the reset, the unknown alias and the stale NDEATH dead-lettered, offline at the real NDEATH" \
            0 "^$expected_parts 1 1 1 offline/edge node offline$" -- psql "$url" -X -At -F ' ' -c "$peer_sql"
    else
        failed=$((failed + 1))
        echo "FAIL the pysparkplug peer could not be installed: $(tail -3 "$work/spb-venv.log")"
    fi
    kill -TERM "$collect_pid"
    wait "$collect_pid" 2>/dev/null || true
    expect "on SIGTERM the host publishes its STATE offline, retained" 0 '"online":false' -- \
        mosquitto_sub "${mqtt_args[@]}" -t "spBv1.0/STATE/mes-cli-$$" -C 1 -W 5
fi

# The ERP jobs against the test Tryton (scripts/tryton-up.sh), reset to its seed first.
if [ -n "${MES_TEST_TRYTON_URL:-}" ] && [ -n "${MES_TRYTON_STATE_DIR:-}" ]; then
    MES_TRYTON_RESET=1 scripts/tryton-up.sh >/dev/null 2>"$work/tryton-reset.log" \
        || { failed=$((failed + 1)); echo "FAIL Tryton could not be reset: $(tail -3 "$work/tryton-reset.log")"; }
    psql "$url" -X -q -c "INSERT INTO site (code, name, time_zone) VALUES ('ERP1', 'ERP plant', 'Europe/Berlin') ON CONFLICT DO NOTHING" >/dev/null
    erp=(env MES_DATABASE_URL="$url" MES_ERP_URL="$MES_TEST_TRYTON_URL" MES_ERP_DATABASE="$MES_TEST_TRYTON_DATABASE"
         MES_ERP_USER="$MES_TEST_TRYTON_USER" MES_ERP_PASSWORD="$MES_TEST_TRYTON_PASSWORD" MES_ERP_SITE=ERP1 MES_NODE=cli)
    expect "mes sync --once pulls Tryton's two open orders" 0 '"work_orders":\{"created":2,' -- "${erp[@]}" "$mes" sync --once
    expect "a second mes sync --once finds them unchanged" 0 '"work_orders":\{"created":0,"skipped":0,"unchanged":2,"updated":0\}' -- \
        "${erp[@]}" "$mes" sync --once
    expect "the pulled orders are released with Tryton's operations" 0 "^1 released 3 2 released 3$" -- \
        psql "$url" -X -At -c "SELECT string_agg(number || ' ' || state || ' ' || (SELECT count(*) FROM work_order_operation o WHERE o.work_order_id = w.id), ' ' ORDER BY number) FROM work_order w WHERE erp_ref IS NOT NULL"
    expect "mes sync names an unreachable ERP and exits 1" 1 "unreachable: http://127.0.0.1:1/" -- \
        "${erp[@]}" MES_ERP_URL=http://127.0.0.1:1 "$mes" sync --once
    expect "a wrong ERP password is refused, not retried forever" 1 "refused: Tryton refused common.db.login" -- \
        "${erp[@]}" MES_ERP_PASSWORD=wrong "$mes" sync --once
    expect "MES_ERP_URL without its database names the missing setting" 64 "MES_ERP_DATABASE: MES_ERP_URL is set" -- \
        env MES_ERP_URL=http://127.0.0.1:8000 "$mes" config
    expect "a webhook without a long enough secret is refused at start" 64 "MES_WEBHOOK_SECRET: a webhook needs a signing secret" -- \
        env MES_WEBHOOK_URL=http://127.0.0.1:9/hook MES_WEBHOOK_SECRET=short "$mes" config
    expect "a push concurrency out of range names the setting" 64 "MES_ERP_PUSH_CONCURRENCY: '0' is not a whole number from 1 to 32" -- \
        env MES_ERP_PUSH_CONCURRENCY=0 "$mes" config
    expect "a negative Sparkplug reorder timeout is refused" 64 "sparkplug-reorder-timeout must be 0 or more" -- \
        "$mes" collect --sparkplug-reorder-timeout=-1
    expect "mes outbox list prints the (empty) ledger" 0 "^$" -- env MES_DATABASE_URL="$url" "$mes" outbox list --state dead
    expect "mes outbox replay refuses an entry that is not dead" 1 "entry 42 does not exist or is not dead" -- \
        env MES_DATABASE_URL="$url" "$mes" outbox replay 42

    # mes demo --erp tryton: its own Tryton beside the demo plant, and the ERP's orders pulled in.
    erp_demo=$(mktemp -d /tmp/mes-demo-erp-XXXXXX)
    chmod 755 "$erp_demo"
    "$mes" demo --data "$erp_demo/d" --http-address 127.0.0.1:0 --speed 30 --erp tryton >"$work/demo-erp.log" 2>&1 &
    erp_demo_pid=$!
    for _ in $(seq 1 3000); do grep -q "running at" "$work/demo-erp.log" && break; kill -0 "$erp_demo_pid" 2>/dev/null || break; sleep 0.1; done
    erp_orders=0
    for _ in $(seq 1 150); do
        erp_orders=$(psql "postgresql://mes:mes@127.0.0.1:$(cat "$erp_demo/d/pg/port" 2>/dev/null || echo 1)/mes" -X -At \
            -c "SELECT count(*) FROM work_order WHERE erp_ref IS NOT NULL" 2>/dev/null || echo 0)
        [ "$erp_orders" -ge 2 ] 2>/dev/null && break
        sleep 0.2
    done
    expect "mes demo --erp tryton pulls Tryton's open orders into the demo plant" 0 "^2$" -- echo "$erp_orders"
    kill -INT "$erp_demo_pid"; erp_demo_status=0; wait "$erp_demo_pid" || erp_demo_status=$?
    expect "and stops Tryton with everything else" 0 "^0 0$" -- echo "$erp_demo_status $(pgrep -f "$erp_demo/d/" | wc -l)"
    rm -rf "$erp_demo"
else
    failed=$((failed + 1))
    echo "FAIL no test Tryton: MES_TEST_TRYTON_URL and MES_TRYTON_STATE_DIR are not set (scripts/test.sh starts it)"
fi

# mes serve collects too when a broker is configured: one machine message reaches the database.
if [ -n "${MES_TEST_MQTT_URL:-}" ]; then
    MES_MQTT_URL="$MES_TEST_MQTT_URL" MES_COLLECTOR_ID="mes-cli-serve-$$" \
        "$mes" serve --database-url "$url" --http-address 127.0.0.1:0 --no-sync >"$work/serve4.log" 2>&1 &
    collecting_pid=$!
    for _ in $(seq 1 100); do grep -q "collecting from" "$work/serve4.log" 2>/dev/null && break; sleep 0.05; done
    mosquitto_pub -L "$MES_TEST_MQTT_URL/mes/HQ/A1/L1/M-77/state" -q 1 -m "{\"state\": \"running\", \"ts\": $(date +%s)000}"
    for _ in $(seq 1 100); do
        [ "$(psql "$url" -X -At -c "SELECT count(*) FROM machine_event e JOIN machine m ON m.id = e.machine_id WHERE m.code = 'M-77'")" = 1 ] && break
        sleep 0.05
    done
    expect "mes serve runs the collector beside the web server" 0 "^1$" -- \
        psql "$url" -X -At -c "SELECT count(*) FROM machine_event e JOIN machine m ON m.id = e.machine_id WHERE m.code = 'M-77'"
    kill -TERM "$collecting_pid"; wait "$collecting_pid" 2>/dev/null
fi

# Readiness refuses a database whose schema is behind.
psql "$MES_TEST_DATABASE_URL" -X -q -c "CREATE DATABASE ${database}_bare" >/dev/null
"$mes" serve --database-url "$base/${database}_bare" --http-address 127.0.0.1:0 --no-sync --no-collect >"$work/serve3.log" 2>&1 &
bare_pid=$!
bare_port=$(served_port "$work/serve3.log")
expect "/readyz is 503 and says why when migrations are pending" 0 "^503 [0-9]+ migrations are pending: run mes migrate" -- \
    bash -c "curl -sS -w '%{http_code} ' -o '$work/ready.txt' http://127.0.0.1:$bare_port/readyz; cat '$work/ready.txt'"
kill -TERM "$bare_pid"; wait "$bare_pid" 2>/dev/null
psql "$MES_TEST_DATABASE_URL" -X -q -c "DROP DATABASE ${database}_bare WITH (FORCE)" >/dev/null

# mes demo: its own PostgreSQL and Mosquitto in a data folder, the seeded plant, the simulator,
# the collector and the server; signed in as the demo supervisor, the wall shows machines
# running; Ctrl-C stops everything; a second run reuses the data, --reset starts over.
demo_data=$(mktemp -d /tmp/mes-demo-XXXXXX)
chmod 755 "$demo_data"
demo_run() {
    "$mes" demo --data "$demo_data/demo" --http-address 127.0.0.1:0 --speed 30 "$@" >"$work/demo.log" 2>&1 &
    demo_pid=$!
    demo_url=""
    for _ in $(seq 1 600); do
        demo_url=$(grep -o 'running at http://127.0.0.1:[0-9]*' "$work/demo.log" | grep -o 'http://.*' || true)
        [ -n "$demo_url" ] && break
        kill -0 "$demo_pid" 2>/dev/null || break
        sleep 0.1
    done
}
demo_stop() { kill -INT "$demo_pid"; demo_status=0; wait "$demo_pid" || demo_status=$?; }
demo_run
expect "mes demo makes its database and seeds the plant" 0 "seeding a 22-machine plant" -- cat "$work/demo.log"
expect "mes demo prints the URL and the demo sign-ins" 0 "supervisor  sam / demo-sam-2026" -- cat "$work/demo.log"
demo_token=$(curl -sS -c "$work/demo.jar" "$demo_url/login" | grep -o 'name="_csrf" value="[0-9a-f]*"' | grep -o '[0-9a-f]\{64\}')
curl -sS -b "$work/demo.jar" -c "$work/demo.jar" -o /dev/null --data "_csrf=$demo_token&username=sam&password=demo-sam-2026&next=/" "$demo_url/login"
for _ in $(seq 1 100); do
    curl -sS -b "$work/demo.jar" "$demo_url/wall/S1" 2>/dev/null | grep -q 'tile state-running' && break
    sleep 0.2
done
expect "the demo's wall screen shows its 22 machines, some running" 0 "^22 [1-9]" -- \
    bash -c "page=\$(curl -sS -b '$work/demo.jar' '$demo_url/wall/S1'); echo \$(grep -c 'class=\"tile ' <<<\"\$page\") \$(grep -c 'tile state-running' <<<\"\$page\")"
expect "the demo's /metrics counts the simulator's messages as they arrive" 0 '^mes_mqtt_messages_received_total [1-9]' -- \
    curl -sS "$demo_url/metrics"
demo_stop
demo_left=$(pgrep -f "$demo_data/demo/" | wc -l)
expect "Ctrl-C stops the demo cleanly, its database and broker too" 0 "^0 0$" -- echo "$demo_status $demo_left"
demo_run
expect "a second run reuses the demo plant" 0 "reusing the demo plant" -- cat "$work/demo.log"
demo_stop
demo_run --reset
expect "--reset deletes the data folder" 0 "deleting .*demo$" -- cat "$work/demo.log"
expect "--reset then seeds the plant again" 0 "seeding a 22-machine plant" -- cat "$work/demo.log"
demo_stop
rm -rf "$demo_data"

# The audit trail: intact after everything above, then tampered with by the database owner.
expect "mes audit verify finds the trail intact and prints its head" 0 "^audit trail intact: [0-9]+ records; head [0-9]+:[0-9a-f]{64}$" -- \
    "$mes" audit verify --database-url "$url"
head=$(grep -Eo '[0-9]+:[0-9a-f]{64}' "$work/last.out")
expect "mes audit history prints a record's changes" 0 '"action":"measurement.recorded"' -- \
    "$mes" audit history --database-url "$url" measurement "$(psql "$url" -X -At -c "SELECT min(id) FROM measurement")"
expect "a malformed anchor is refused" 64 "--anchor '12:xyz' is not SEQ:HASH" -- "$mes" audit verify --database-url "$url" --anchor 12:xyz
psql "$url" -X -q -c "ALTER TABLE audit_log DISABLE TRIGGER USER" -c "UPDATE audit_log SET actor = 'mallory' WHERE seq = 2" \
    -c "DELETE FROM audit_log WHERE seq = (SELECT max(seq) FROM audit_log)" >/dev/null
expect "a rewritten record is found and named" 1 "record 2 \(.*\) was changed after it was written" -- "$mes" audit verify --database-url "$url"
expect "a record cut from the end is found by the anchor" 1 "the anchored record [0-9]+ is gone" -- \
    "$mes" audit verify --database-url "$url" --anchor "$head"

echo "cli: $passed passed, $failed failed"
[ "$failed" = 0 ]
