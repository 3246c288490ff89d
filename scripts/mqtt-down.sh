#!/usr/bin/env bash
# Stops a broker started by mqtt-up.sh and deletes its files.
#   scripts/mqtt-down.sh [RUN_DIR]     (default: $MES_MQTT_RUN_DIR)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
run=${1:-${MES_MQTT_RUN_DIR:-}}
[ -n "$run" ] || die "which broker? pass the run folder or set MES_MQTT_RUN_DIR"
case "$run" in /tmp/mes-mqtt-*) ;; *) die "$run is not a folder made by mqtt-up.sh" ;; esac
if [ -f "$run/mosquitto.pid" ]; then
    pid=$(cat "$run/mosquitto.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
fi
rm -rf "$run"
