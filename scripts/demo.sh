#!/usr/bin/env bash
# The whole MES on embedded defaults, from nothing: installs the Debian packages it needs (as
# root), builds `mes`, and runs `mes demo`: its own PostgreSQL and Mosquitto under .mes/, the
# schema, a seeded 22-machine plant, the simulator, the collector and the web server. It prints
# the URL and the demo sign-ins; Ctrl-C stops everything. Run it again to reuse the data.
#   scripts/demo.sh [--reset] [--speed 10] [--http-address 127.0.0.1:8080]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
forget_inherited_servers

scripts/install-deps.sh
echo "== building mes (the first build takes a few minutes)"
swift build --product mes
exec .build/debug/mes demo "$@"
