#!/usr/bin/env bash
# Starts a real Tryton 8.2 ERP (production, routing, work, timesheet) for the integration tests
# and prints, on stdout, only `export VAR=...` lines for the harness to eval:
#   eval "$(scripts/tryton-up.sh)"     ... tests ...     scripts/tryton-down.sh --purge
# Exports MES_TEST_TRYTON_URL, _DATABASE, _USER, _PASSWORD, _ADMIN_PASSWORD, _SEED (the seed's
# ids, JSON) and MES_TRYTON_STATE_DIR. Progress and timings go to stderr.
#
# Steps, each skipped when its result is already there:
#   venv      MES_TRYTON_VENV (default ${XDG_CACHE_HOME:-~/.cache}/mes/venv-tryton), pinned
#             packages from PyPI; needs python3-venv (installed by apt-get when run as root)
#   cluster   a private PostgreSQL in the state dir, on a free loopback port; as root it runs
#             as the postgres user. fsync is off: throw-away test data only
#   database  trytond-admin activates the modules (the slow part: 1-2 minutes), then
#             scripts/tryton_seed.py seeds it and a template copy <db>_seeded is kept
#   server    trytond -d <db> on a free loopback port, in the background, until it answers
#
# Environment:
#   MES_TRYTON_STATE_DIR  reuse this state dir (made if missing); default a new
#                         /tmp/mes-tryton-XXXXXX, so every run without it is a cold start
#   MES_TRYTON_RESET=1    with an existing state dir: restore the database from the seeded
#                         template and restart trytond (a few seconds)
#   MES_TRYTON_PYTHON     interpreter for the venv (python3); MES_TRYTON_DB (mes);
#   MES_TRYTON_PASSWORD, MES_TRYTON_ADMIN_PASSWORD  passwords of the users mes and admin;
#   PGBIN                 PostgreSQL server binaries (newest /usr/lib/postgresql/*/bin)
# A state dir remembers its ports, database and passwords: later runs on it use those.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
exec 3>&1 1>&2    # stdout is kept for the export lines; every command writes to stderr
die() { echo "tryton-up: $*" >&2; exit 1; }

started=$EPOCHREALTIME
mark=$started
seconds() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }
say() { echo "tryton-up [$(seconds "$started")s] $*" >&2; }
took() { say "$1: $(seconds "$mark")s"; mark=$EPOCHREALTIME; }
apt_install() {
    say "apt-get install $*"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get -o DPkg::Lock::Timeout=300 install -y -qq \
        --no-install-recommends "$@" >/dev/null || die "apt-get install $* failed"
}
is_root() { [ "$(id -u)" = 0 ]; }

# The verified set of the notes: Tryton 8.2 talks to PostgreSQL through psycopg 3.
requirements=('trytond[postgresql]==8.2.1' 'psycopg[binary,pool]==3.3.9'
    trytond-company==8.2.0 trytond-party==8.2.0 trytond-product==8.2.0 trytond-stock==8.2.1
    trytond-production==8.2.0 trytond-production-routing==8.2.0
    trytond-production-work==8.2.0 trytond-production-work-timesheet==8.2.0 proteus==8.2.0)
modules=(production production_routing production_work production_work_timesheet)

# --- 1. venv (shared by every state dir) ----------------------------------------------------
reset=${MES_TRYTON_RESET:-0}
[ "$reset" = 1 ] && [ -z "${MES_TRYTON_STATE_DIR:-}" ] \
    && die "MES_TRYTON_RESET=1 needs MES_TRYTON_STATE_DIR (the state dir of an earlier run)"
venv=${MES_TRYTON_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/mes/venv-tryton}
python=${MES_TRYTON_PYTHON:-python3}
stamp=$venv/.mes-tryton-requirements
venv_ready() {
    [ -x "$venv/bin/trytond" ] && [ "$(cat "$stamp" 2>/dev/null)" = "${requirements[*]}" ] \
        && "$venv/bin/python" -c 'import trytond, proteus, psycopg' 2>/dev/null
}
if ! venv_ready; then
    mkdir -p "$(dirname "$venv")"
    exec 9>"$venv.lock"; flock 9          # one installer at a time; the others wait, then reuse
    if ! venv_ready; then
        # Debian's python3 cannot bootstrap pip in a venv without the package python3-venv.
        if ! "$python" -c 'import venv, ensurepip' 2>/dev/null; then
            is_root && command -v apt-get >/dev/null && apt_install python3-venv
            "$python" -c 'import venv, ensurepip' 2>/dev/null \
                || die "'$python -m venv' is unavailable: install the Debian package python3-venv (apt-get install python3-venv)"
        fi
        if [ -e "$venv" ]; then
            [ -f "$venv/pyvenv.cfg" ] || die "$venv exists and is not a venv; set MES_TRYTON_VENV"
            rm -rf "$venv"
        fi
        say "creating $venv (pip install from PyPI)"
        "$python" -m venv "$venv" || die "$python -m venv $venv failed"
        "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${requirements[@]}" \
            || die "pip install failed (is PyPI reachable?)"
        echo "${requirements[*]}" > "$stamp"
        venv_ready || die "Tryton is installed in $venv but does not import"
    fi
    exec 9>&-
fi
took "venv"

# --- settings: a state dir's own file wins over the environment ---------------------------
if [ -n "${MES_TRYTON_STATE_DIR:-}" ]; then
    state=$MES_TRYTON_STATE_DIR
    if [ -d "$state" ] && [ -n "$(ls -A "$state")" ] && ! [ -f "$state/.mes-tryton" ]; then
        die "$state is not empty and was not made by tryton-up.sh; pick another MES_TRYTON_STATE_DIR"
    fi
    mkdir -p "$state"
    fresh=0
else
    state=$(mktemp -d /tmp/mes-tryton-XXXXXX)
    fresh=1
fi
state=$(cd "$state" && pwd)
touch "$state/.mes-tryton"      # tryton-down.sh --purge deletes only folders with this mark
# On failure a state dir made by this run is stopped and deleted; a given one is kept.
on_exit() {
    [ "$1" = 0 ] && return
    if [ "$fresh" = 1 ]; then
        echo "tryton-up: failed; deleting $state (give MES_TRYTON_STATE_DIR to keep the logs)" >&2
        "$here/tryton-down.sh" --purge "$state" 3>&- || true
    else echo "tryton-up: $state is kept; scripts/tryton-down.sh [--purge] $state stops it" >&2; fi
}
trap 'on_exit $?' EXIT
chmod 755 "$state"              # as root, the postgres user must reach $state/pg
db=${MES_TRYTON_DB:-mes}
mes_password=${MES_TRYTON_PASSWORD:-mes-erp-test-1}
admin_password=${MES_TRYTON_ADMIN_PASSWORD:-admin}
pg_password=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
pg_port='' web_port=''
settings=$state/settings
# shellcheck disable=SC1090
[ -f "$settings" ] && . "$settings"
[ "$reset" = 1 ] && ! [ -f "$settings" ] && die "MES_TRYTON_RESET=1: $state holds no earlier run"
save_settings() {
    ( umask 077; for v in db mes_password admin_password pg_password pg_port web_port; do
        printf '%s=%q\n' "$v" "${!v}"; done > "$settings" )
}
save_settings
say "state dir $state"

# --- 2. PostgreSQL ---------------------------------------------------------------------------
PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
if ! [ -x "$PGBIN/initdb" ]; then
    is_root && command -v apt-get >/dev/null \
        || die "PostgreSQL server binaries not found: install the Debian package postgresql, or set PGBIN"
    apt_install postgresql
    PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
fi
pgdir=$state/pg
data=$pgdir/data
if is_root; then
    # PostgreSQL refuses to run as root.
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin postgres
    as_pg() { runuser -u postgres -- "$@"; }
else
    as_pg() { "$@"; }
fi
pg() { as_pg "$PGBIN/$1" -h "$pgdir/sock" -p "$pg_port" -U postgres "${@:2}"; }
db_exists() { [ "$(pg psql -XAtq -d postgres -c "select 1 from pg_database where datname = '$1'")" = 1 ]; }

if ! [ -f "$data/PG_VERSION" ]; then
    rm -rf "$pgdir"
    mkdir -p "$pgdir/sock"
    is_root && chown -R postgres: "$pgdir"
    chmod 700 "$pgdir"
    ( umask 077; echo "$pg_password" > "$pgdir/pwfile" )
    is_root && chown postgres "$pgdir/pwfile"
    as_pg "$PGBIN/initdb" -D "$data" -U postgres --pwfile="$pgdir/pwfile" --auth-local=trust \
        --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 --no-sync >"$state/initdb.log" 2>&1 \
        || { cat "$state/initdb.log" >&2; die "initdb failed"; }
    rm -f "$pgdir/pwfile"
    # TimeZone UTC: Tryton stores create_date/write_date as the server's local time.
    cat >> "$data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$pgdir/sock'
timezone = 'UTC'
fsync = off
synchronous_commit = off
full_page_writes = off
CONF
fi
if as_pg "$PGBIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    pg_port=$(sed -n 4p "$data/postmaster.pid")
    say "PostgreSQL already runs on port $pg_port"
else
    if [ -z "$pg_port" ] || port_in_use "$pg_port"; then pg_port=$(free_port); fi
    save_settings
    # 3>&- : the server must not hold the caller's stdout (a $(...) would never end)
    as_pg "$PGBIN/pg_ctl" -D "$data" -l "$pgdir/server.log" -o "-p $pg_port" -w -t 60 start \
        >/dev/null 3>&- || { tail -n 20 "$pgdir/server.log" >&2; die "PostgreSQL did not start"; }
fi
took "PostgreSQL on 127.0.0.1:$pg_port"

# --- 3. trytond configuration and process helpers ---------------------------------------------
conf=$state/trytond.conf
pidfile=$state/trytond.pid
trytond_pid() {    # the pid of our trytond, if it runs
    local pid
    pid=$(cat "$pidfile" 2>/dev/null) && [ -n "$pid" ] \
        && tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q "trytond -c $conf" && echo "$pid"
}
stop_trytond() {
    local pid
    if pid=$(trytond_pid); then
        say "stopping trytond (pid $pid)"
        kill "$pid"
        for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
    fi
    rm -f "$pidfile"
}
url() { echo "http://127.0.0.1:$web_port"; }
answers() {    # true when common.server.version answers on $web_port
    "$venv/bin/python" - "$(url)/rpc/" 2>/dev/null <<'PY'
import json, sys, urllib.request
body = b'{"id": 0, "method": "common.server.version", "params": []}'
request = urllib.request.Request(sys.argv[1], body, {'Content-Type': 'application/json'})
sys.exit(json.load(urllib.request.urlopen(request, timeout=5)).get('result') is None)
PY
}
running=''
running=$(trytond_pid) || true
if [ -z "$running" ] || [ "$reset" = 1 ]; then
    [ -n "$running" ] && stop_trytond
    running=''
    if [ -z "$web_port" ] || port_in_use "$web_port" || [ "$web_port" = "$pg_port" ]; then
        web_port=$(free_port)
        [ "$web_port" = "$pg_port" ] && web_port=$(free_port)
    fi
    save_settings
fi
cat > "$conf" <<CONF
# written by scripts/tryton-up.sh
[database]
uri = postgresql://postgres:$pg_password@127.0.0.1:$pg_port/

[web]
listen = 127.0.0.1:$web_port
CONF

# --- 4. database: restore from the template, or activate the modules and seed ---------------
template=${db}_seeded
seeded=0
if [ "$reset" = 1 ]; then
    db_exists "$template" || die "MES_TRYTON_RESET=1: no template database $template in $state"
    pg dropdb --force --if-exists "$db"
fi
if db_exists "$db"; then
    say "database $db exists"
    [ -f "$state/seed.json" ] && seeded=1
elif db_exists "$template"; then
    stop_trytond; running=''
    pg createdb -T "$template" "$db"
    seeded=1
    took "database $db restored from $template"
else
    say "activating ${modules[*]} in $db (trytond-admin, 1-2 minutes)"
    pg createdb -E UTF8 -T template0 "$db"
    ( umask 077; echo "$admin_password" > "$state/admin.pass" )
    # --email and TRYTONPASSFILE: on a new database trytond-admin would otherwise prompt.
    TRYTONPASSFILE=$state/admin.pass "$venv/bin/trytond-admin" -c "$conf" -d "$db" --all \
        -u "${modules[@]}" --activate-dependencies --email admin@example.com \
        >"$state/trytond-admin.log" 2>&1 || {
            tail -n 20 "$state/trytond-admin.log" >&2
            pg dropdb "$db" || true
            die "trytond-admin failed (log: $state/trytond-admin.log)"
        }
    took "modules activated"
fi
if [ "$seeded" = 0 ]; then
    "$venv/bin/python" "$here/tryton_seed.py" -c "$conf" -d "$db" --mes-password "$mes_password" \
        --summary "$state/seed.json" >"$state/seed.log" 2>&1 \
        || { tail -n 20 "$state/seed.log" >&2; die "seeding failed (log: $state/seed.log)"; }
    took "seed"
fi
if ! db_exists "$template"; then
    stop_trytond; running=''     # createdb -T needs the source without connections
    pg createdb -T "$db" "$template"
    took "template $template saved"
fi

# --- 5. trytond --------------------------------------------------------------------------
if [ -n "$running" ] && answers; then
    say "trytond already runs (pid $running) on $(url)"
else
    stop_trytond
    port_in_use "$web_port" && die "port $web_port is taken; run again"
    # -d loads the database pool at start: without it the first common.db.login of a fresh
    # trytond 8.2.1 fails with ["'res.user'", ""].
    setsid "$venv/bin/trytond" -c "$conf" -d "$db" --pidfile "$pidfile" \
        </dev/null >>"$state/trytond.log" 2>&1 3>&- &
    server=$!
    for _ in $(seq 240); do
        answers && break
        kill -0 "$server" 2>/dev/null || { tail -n 20 "$state/trytond.log" >&2; die "trytond exited"; }
        sleep 0.5
    done
    answers || { tail -n 20 "$state/trytond.log" >&2; die "trytond did not answer within 2 minutes"; }
    took "trytond on $(url)"
fi
say "ready in $(seconds "$started")s"

for pair in MES_TRYTON_STATE_DIR="$state" MES_TEST_TRYTON_URL="$(url)" \
        MES_TEST_TRYTON_DATABASE="$db" MES_TEST_TRYTON_USER=mes \
        MES_TEST_TRYTON_PASSWORD="$mes_password" MES_TEST_TRYTON_ADMIN_PASSWORD="$admin_password" \
        MES_TEST_TRYTON_SEED="$state/seed.json"; do
    printf 'export %s=%q\n' "${pair%%=*}" "${pair#*=}"
done >&3
