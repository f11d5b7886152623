#!/usr/bin/env bash
# Sets up a fresh checkout: the development/CLI environment (.venv) and every service's own
# environment (.venvs/<service>, built from that service's requirements.txt). Idempotent.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
t0=$SECONDS
# System packages: Docker engine, docker-compose, debootstrap (skipped when present).
bash scripts/setup-system.sh
if [ ! -x .venv/bin/python ]; then
  echo "[setup] creating .venv"
  python3 -m venv .venv
fi
echo "[setup] installing requirements-dev.txt into .venv (log: .venv-install.log)"
.venv/bin/pip install -q --upgrade pip > .venv-install.log 2>&1
.venv/bin/pip install -q -r requirements-dev.txt >> .venv-install.log 2>&1 \
  || { tail -30 .venv-install.log; exit 1; }
# The shared library and the services' Python packages (for unit tests that import them).
pkgs=(-e .)
for d in services/*/; do pkgs+=(-e "$d"); done
.venv/bin/pip install -q --no-deps "${pkgs[@]}" >> .venv-install.log 2>&1 \
  || { tail -30 .venv-install.log; exit 1; }
echo "[setup] .venv ready ($((SECONDS - t0)) s); building service environments"
.venv/bin/python -m nnrosetta.stack build
echo "[setup] done in $((SECONDS - t0)) s"
