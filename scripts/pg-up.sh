#!/usr/bin/env bash
# Starts a throwaway PostgreSQL 15 on a free loopback port, as root or as a normal user, and
# prints the environment to use it:
#   pgenv=$(scripts/pg-up.sh) && eval "$pgenv"
# Stop it with scripts/pg-down.sh (reads MES_PG_RUN_DIR). fsync is off: for tests and demos only.
#   PGPORT=5544 scripts/pg-up.sh   picks the port instead of a free one.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
[ -x "$PGBIN/initdb" ] || die "PostgreSQL server binaries not found (apt-get install postgresql); set PGBIN to their folder"
port=${PGPORT:-$(free_port)}
port_in_use "$port" && die "port $port is already in use"

run=$(mktemp -d /tmp/mes-pg-XXXXXX)
chmod 755 "$run"
mkdir -p "$run/sock"
if [ "$(id -u)" = 0 ]; then
    # PostgreSQL refuses to run as root: the cluster belongs to the postgres user.
    id postgres >/dev/null 2>&1 || die "running as root needs the 'postgres' user (apt-get install postgresql)"
    chown -R postgres:postgres "$run"
    as_pg() { runuser -u postgres -- "$@"; }
else
    as_pg() { "$@"; }
fi

echo postgres > "$run/pwfile"
as_pg "$PGBIN/initdb" -D "$run/data" -U postgres --pwfile="$run/pwfile" --auth-local=trust \
    --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 --no-sync >"$run/initdb.log" 2>&1 \
    || { cat "$run/initdb.log" >&2; die "initdb failed"; }
cat >> "$run/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$run/sock'
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
CONF
as_pg "$PGBIN/pg_ctl" -D "$run/data" -l "$run/server.log" -w -t 60 start >/dev/null \
    || { cat "$run/server.log" >&2; die "PostgreSQL did not start"; }
as_pg "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$run/sock" -p "$port" -U postgres -d postgres \
    -c "CREATE ROLE mes LOGIN CREATEDB CREATEROLE PASSWORD 'mes'" -c "CREATE DATABASE mes OWNER mes" >/dev/null

url="postgresql://mes:mes@127.0.0.1:$port/mes"
echo "export MES_PG_RUN_DIR=$run"
echo "export MES_DATABASE_URL=$url"
echo "export MES_TEST_DATABASE_URL=$url"
echo "export PGHOST=127.0.0.1 PGPORT=$port PGUSER=mes PGPASSWORD=mes PGDATABASE=mes"
