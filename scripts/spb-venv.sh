#!/usr/bin/env bash
# Prints the path of a Python interpreter that has pysparkplug 0.6.1, the third-party
# Sparkplug B library the collector is tested against (scripts/spb-edge.py); see py-venv.sh.
exec "$(dirname "$0")/py-venv.sh" spb pysparkplug 'pysparkplug==0.6.1'
