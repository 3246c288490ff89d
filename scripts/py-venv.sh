#!/usr/bin/env bash
# Prints the path of a Python interpreter whose venv holds the given PyPI packages, for the
# third-party tools the tests check against. The venv lives outside the repository, in
# ${XDG_CACHE_HOME:-~/.cache}/mes/venv-NAME, is made on first use, and is only checked later.
#   scripts/py-venv.sh NAME MODULE PACKAGE...     e.g. py-venv.sh spb pysparkplug 'pysparkplug==0.6.1'
# MODULE is what must import for the venv to count as ready.
set -euo pipefail
[ $# -ge 3 ] || { echo "usage: py-venv.sh NAME MODULE PACKAGE..." >&2; exit 64; }
name=$1 module=$2
shift 2
venv=${XDG_CACHE_HOME:-$HOME/.cache}/mes/venv-$name
stamp=$venv/.mes-requirements
ready() { [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$*" ] && "$venv/bin/python" -c "import $module" 2>/dev/null; }
if ready "$@"; then
    echo "$venv/bin/python"
    exit 0
fi
if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
    echo "py-venv: python3 cannot make virtual environments; install the Debian package python3-venv" >&2
    exit 1
fi
mkdir -p "$(dirname "$venv")"
exec 9>"$venv.lock"
flock 9    # one installer at a time; the others wait, then reuse
if ! ready "$@"; then
    echo "py-venv: installing $* into $venv" >&2
    rm -rf "$venv"
    python3 -m venv "$venv" >&2
    "$venv/bin/pip" install --quiet --disable-pip-version-check "$@" >&2 || { echo "py-venv: pip install $* failed (is PyPI reachable?)" >&2; exit 1; }
    echo "$*" > "$stamp"
fi
echo "$venv/bin/python"
