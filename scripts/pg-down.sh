#!/usr/bin/env bash
# Stops a PostgreSQL started by pg-up.sh and deletes its files.
#   scripts/pg-down.sh [RUN_DIR]     (default: $MES_PG_RUN_DIR)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
run=${1:-${MES_PG_RUN_DIR:-}}
[ -n "$run" ] || die "which server? pass the run folder or set MES_PG_RUN_DIR"
case "$run" in /tmp/mes-pg-*) ;; *) die "$run is not a folder made by pg-up.sh" ;; esac
[ -d "$run/data" ] || die "$run holds no PostgreSQL data folder"
PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
if [ "$(id -u)" = 0 ]; then as_pg() { runuser -u postgres -- "$@"; }; else as_pg() { "$@"; }; fi
as_pg "$PGBIN/pg_ctl" -D "$run/data" -m fast -w -t 30 stop >/dev/null 2>&1 || true
rm -rf "$run"
