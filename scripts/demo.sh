#!/usr/bin/env bash
# The main job, from nothing: installs what it needs, builds `mes`, starts a private PostgreSQL,
# and builds the MES schema in it with `mes migrate`. On a terminal it keeps the database up
# until Ctrl-C and prints how to connect; otherwise it stops it at once.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
forget_inherited_servers

scripts/install-deps.sh
echo "== building mes"
swift build --product mes
mes=.build/debug/mes

cleanup() { [ -n "${MES_PG_RUN_DIR:-}" ] && scripts/pg-down.sh "$MES_PG_RUN_DIR" || true; }
trap cleanup EXIT
echo "== starting a private PostgreSQL"
pgenv=$(scripts/pg-up.sh) && eval "$pgenv"

echo "== mes migrate"
"$mes" migrate
"$mes" migrate --status
echo "== tables"
psql -X -At -c "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1" | paste -sd ' ' -

if [ -t 0 ]; then
    echo
    echo "PostgreSQL is running. In another shell:"
    echo "  export MES_DATABASE_URL=$MES_DATABASE_URL"
    echo "  $mes migrate --status"
    echo "Press Ctrl-C to stop it and delete its data."
    while true; do sleep 3600; done
fi
