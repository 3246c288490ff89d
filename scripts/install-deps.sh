#!/usr/bin/env bash
# Installs the Debian 12 packages the build and the tests need. As root it runs apt-get; as a
# normal user it only checks and prints the command to run.
#   scripts/install-deps.sh [--browser]    (--browser adds chromium and its driver)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
packages=(libpq-dev postgresql libmosquitto-dev mosquitto mosquitto-clients libcmark-dev zlib1g-dev pkg-config curl python3-venv)
[ "${1:-}" = "--browser" ] && packages+=(chromium chromium-driver)

missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
    die "missing packages: ${missing[*]}; install them with: sudo apt-get install ${missing[*]}"
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# Another apt run on the machine can delete downloaded .debs mid-install; one retry finishes it.
for attempt in 1 2; do
    if apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends --no-upgrade "${missing[@]}" >/dev/null; then
        exit 0
    fi
    echo "apt-get install failed (attempt $attempt), retrying" >&2
done
die "cannot install: ${missing[*]}"
