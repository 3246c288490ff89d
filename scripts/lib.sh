# Shared helpers for the scripts in this folder. Source it; do not run it.

# Prints a free TCP port on 127.0.0.1.
free_port() {
    if command -v python3 >/dev/null 2>&1; then
        python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
        return
    fi
    local port
    for _ in $(seq 1 50); do
        port=$(( (RANDOM % 20000) + 40000 ))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return; fi
    done
    echo "no free port found" >&2
    return 1
}

# True when something accepts connections on 127.0.0.1:$1.
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

die() { echo "$(basename "$0"): $*" >&2; exit 1; }

# Prints the port `mes serve` says it listens on in the log file $1, waiting up to 10 s for the
# line; prints nothing if it never comes.
served_port() {
    local port=""
    for _ in $(seq 1 200); do
        port=$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$1" 2>/dev/null | grep -o '[0-9]*$' || true)
        [ -n "$port" ] && break
        sleep 0.05
    done
    echo "$port"
}

# For scripts that start their own PostgreSQL and Mosquitto: forget any servers the calling
# shell points at, so that a cleanup after a failed start never stops someone else's.
forget_inherited_servers() { unset MES_PG_RUN_DIR MES_MQTT_RUN_DIR PGPORT; }
