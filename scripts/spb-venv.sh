#!/usr/bin/env bash
# Prints the path of a Python interpreter that has pysparkplug 0.6.1, the third-party
# Sparkplug B library the collector is tested against (scripts/spb-edge.py). The venv lives
# outside the repository, in MES_SPB_VENV (default ~/.cache/mes/venv-spb), and is created on
# first use (about 10 s from PyPI); later calls only check it.
set -euo pipefail
venv=${MES_SPB_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/mes/venv-spb}
if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c 'import pysparkplug' 2>/dev/null; then
    echo "$venv/bin/python"
    exit 0
fi
if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c 'import ensurepip' 2>/dev/null; then
    echo "spb-venv: python3 cannot make virtual environments; install the Debian package python3-venv" >&2
    exit 1
fi
echo "spb-venv: installing pysparkplug 0.6.1 into $venv" >&2
mkdir -p "$(dirname "$venv")"
python3 -m venv "$venv" >&2
"$venv/bin/pip" install --quiet --disable-pip-version-check 'pysparkplug==0.6.1' >&2
echo "$venv/bin/python"
