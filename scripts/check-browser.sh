#!/usr/bin/env bash
# Browser tests: the web app in a real headless Chromium (Selenium), against a real PostgreSQL,
# Mosquitto, `mes serve` and `mes collect`. Signs in as each role, drives the operator's tablet
# from badge to measurement, watches a wall-screen tile follow an MQTT message, and saves
# screenshots at desktop (1440x900), wall (1920x1080) and tablet (1024x768, 1280x800) sizes
# under test-artifacts/browser/.
# Needs MES_TEST_DATABASE_URL, MES_TEST_MQTT_URL (scripts/test.sh sets both), a built
# .build/debug/mes, and chromium with chromium-driver (scripts/install-deps.sh --browser).
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
[ -n "${MES_TEST_DATABASE_URL:-}" ] && [ -n "${MES_TEST_MQTT_URL:-}" ] || die "MES_TEST_DATABASE_URL and MES_TEST_MQTT_URL must be set (scripts/test.sh sets them)"
mes=${MES_BIN:-.build/debug/mes}
[ -x "$mes" ] || die "$mes not found: run swift build first"
command -v chromium >/dev/null && command -v chromedriver >/dev/null || die "chromium and chromedriver are missing: scripts/install-deps.sh --browser"
python=$(scripts/py-venv.sh browser selenium 'selenium==4.51.0') || die "cannot install selenium from PyPI"

work=$(mktemp -d /tmp/mes-browser-XXXXXX)
database="mes_browser_$$"
artifacts=${MES_TEST_ARTIFACTS:-test-artifacts}/browser
mkdir -p "$artifacts"
url="${MES_TEST_DATABASE_URL%/*}/$database"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
    psql "$MES_TEST_DATABASE_URL" -X -q -c "DROP DATABASE IF EXISTS $database WITH (FORCE)" >/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

psql "$MES_TEST_DATABASE_URL" -X -q -c "CREATE DATABASE $database" >/dev/null || die "cannot create $database"
"$mes" migrate --database-url "$url" >/dev/null || die "migrate failed"
psql "$url" -X -q -v ON_ERROR_STOP=1 <<'SQL' >/dev/null || die "seeding failed"
INSERT INTO site (code, name, time_zone) VALUES ('S1', 'Plant 1', 'UTC');
INSERT INTO area (site_id, code, name) SELECT id, 'A1', 'Machining' FROM site;
INSERT INTO line (area_id, code, name) SELECT id, 'L1', 'Line 1' FROM area;
INSERT INTO machine (site_id, line_id, code, name) SELECT s.id, l.id, m, 'CNC ' || m FROM site s, line l, unnest(ARRAY['M1', 'M2', 'M3', 'M4']) m;
INSERT INTO machine_status (machine_id, state, since) SELECT id, 'running', now() - interval '12 minutes' FROM machine;
INSERT INTO part (code, name) VALUES ('P-100', 'Drive shaft');
INSERT INTO routing (part_id, name) SELECT id, 'Drive shaft' FROM part;
INSERT INTO routing_operation (routing_id, sequence, name, machine_id, ideal_cycle_seconds) SELECT r.id, 10, 'Turning', m.id, 45 FROM routing r, machine m WHERE m.code = 'M1';
INSERT INTO work_order (number, part_id, routing_id, site_id, quantity_planned, state, released_at)
    SELECT 'WO-1001', p.id, r.id, s.id, 40, 'released', now() FROM part p, routing r, site s;
INSERT INTO work_order_operation (work_order_id, routing_operation_id, sequence, name, machine_id, ideal_cycle_seconds)
    SELECT wo.id, ro.id, 10, 'Turning', ro.machine_id, 45 FROM work_order wo, routing_operation ro;
INSERT INTO quality_characteristic (part_id, operation_sequence, code, name, nominal, lsl, usl, sampling_minutes)
    SELECT id, 10, 'BORE', 'Bore diameter', 25, 24.95, 25.05, 60 FROM part;
INSERT INTO characteristic_limits (characteristic_id, effective_from, center, sigma) SELECT id, now() - interval '1 day', 25, 0.012 FROM quality_characteristic;
INSERT INTO reason_code (kind, code, description) VALUES ('scrap', 'DIM', 'Out of tolerance'), ('rework', 'BURR', 'Burr');
SQL
add_user() { printf '%s\n%s\n' "$3" "${5:-}" | "$mes" user add --database-url "$url" "$1" --name "$2" --role "$4" ${5:+--badge 0412} >/dev/null || die "cannot add $1"; }
add_user ana "Ana Ruiz" "secret-ana-1" operator 1234
add_user sue "Sue Park" "secret-sue-1" supervisor
add_user quinn "Quinn Ode" "secret-quinn-1" quality
add_user mia "Mia Lund" "secret-mia-1" manager
add_user adam "Adam Hale" "secret-adam-1" admin

"$mes" serve --database-url "$url" --http-address 127.0.0.1:0 --no-sync --no-collect >"$work/serve.log" 2>&1 &
pids+=($!)
port=$(served_port "$work/serve.log")
[ -n "$port" ] || { cat "$work/serve.log"; die "mes serve did not start"; }
"$mes" collect --database-url "$url" --mqtt-url "$MES_TEST_MQTT_URL" --client-id "mes-browser-$$" --spool "$work/spool" >"$work/collect.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 200); do grep -q "subscribed" "$work/collect.log" 2>/dev/null && break; sleep 0.05; done

"$python" scripts/browser-test.py "http://127.0.0.1:$port" "$MES_TEST_MQTT_URL" "$artifacts"
status=$?
[ "$status" = 0 ] || { echo "--- mes serve log"; tail -20 "$work/serve.log"; echo "--- mes collect log"; tail -20 "$work/collect.log"; }
exit "$status"
