#!/usr/bin/env bash
# Stops the trytond and the PostgreSQL that scripts/tryton-up.sh started.
#   scripts/tryton-down.sh [--purge] [STATE_DIR]     (default: $MES_TRYTON_STATE_DIR)
# Without --purge the data stay, and tryton-up.sh with MES_TRYTON_STATE_DIR=STATE_DIR starts
# them again in seconds; --purge deletes the state dir. The venv is kept either way.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
purge=0 state=${MES_TRYTON_STATE_DIR:-}
for arg in "$@"; do
    case $arg in
        --purge) purge=1 ;;
        -*) die "unknown option $arg (usage: tryton-down.sh [--purge] [STATE_DIR])" ;;
        *) state=$arg ;;
    esac
done
[ -n "$state" ] || die "which instance? pass its state dir or set MES_TRYTON_STATE_DIR"
[ -f "$state/.mes-tryton" ] || die "$state is not a state dir made by tryton-up.sh"
state=$(cd "$state" && pwd)

# trytond: only the process whose command line names this state dir's config
pid=$(cat "$state/trytond.pid" 2>/dev/null || true)
if [ -n "$pid" ] && tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q "trytond -c $state/trytond.conf"; then
    kill "$pid"
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid"; fi
    echo "tryton-down: trytond (pid $pid) stopped" >&2
fi
rm -f "$state/trytond.pid"

# PostgreSQL runs as the owner of its data dir (postgres when tryton-up.sh ran as root)
data=$state/pg/data
if [ -f "$data/postmaster.pid" ]; then
    PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
    owner=$(stat -c %U "$data")
    if [ "$(id -u)" = 0 ] && [ "$owner" != root ]; then
        as_owner() { runuser -u "$owner" -- "$@"; }
    else
        as_owner() { "$@"; }
    fi
    as_owner "$PGBIN/pg_ctl" -D "$data" -m fast -w -t 30 stop >/dev/null \
        && echo "tryton-down: PostgreSQL stopped" >&2
fi

if [ "$purge" = 1 ]; then
    rm -rf "$state"
    echo "tryton-down: $state deleted" >&2
fi
