#!/usr/bin/env bash
# Starts a throwaway Mosquitto broker on a free loopback port (user mes, password mes,
# persistence on) as root or as a normal user, and prints the environment to use it:
#   mqttenv=$(scripts/mqtt-up.sh) && eval "$mqttenv"
# Stop it with scripts/mqtt-down.sh (reads MES_MQTT_RUN_DIR).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
command -v mosquitto >/dev/null || [ -x /usr/sbin/mosquitto ] || die "mosquitto not found (apt-get install mosquitto)"
MOSQUITTO=$(command -v mosquitto || echo /usr/sbin/mosquitto)
PASSWD=$(command -v mosquitto_passwd || echo /usr/bin/mosquitto_passwd)
port=${MQTT_PORT:-$(free_port)}
port_in_use "$port" && die "port $port is already in use"

run=$(mktemp -d /tmp/mes-mqtt-XXXXXX)
mkdir -p "$run/data"
"$PASSWD" -c -b "$run/passwd" mes mes 2>/dev/null
chmod 600 "$run/passwd"
cat > "$run/mosquitto.conf" <<CONF
user $(id -un)
pid_file $run/mosquitto.pid
listener $port 127.0.0.1
allow_anonymous false
password_file $run/passwd
persistence true
persistence_location $run/data/
autosave_interval 1
log_dest file $run/mosquitto.log
connection_messages true
max_queued_messages 1000000
# QoS 1 messages in flight per client (the receive maximum offered to v5 clients); 20 by default.
max_inflight_messages 1000
CONF
"$MOSQUITTO" -c "$run/mosquitto.conf" -d 2>"$run/start.log" || { cat "$run/start.log" >&2; die "mosquitto did not start"; }
for _ in $(seq 1 100); do port_in_use "$port" && break; sleep 0.05; done
port_in_use "$port" || { cat "$run/mosquitto.log" >&2; die "mosquitto is not accepting connections on $port"; }

echo "export MES_MQTT_RUN_DIR=$run"
echo "export MES_MQTT_URL=mqtt://mes:mes@127.0.0.1:$port"
echo "export MES_TEST_MQTT_URL=mqtt://mes:mes@127.0.0.1:$port"
