#!/usr/bin/env bash
# The local base image for machines without a container registry: a Debian bookworm root
# filesystem from Debian's own packages (debootstrap) with python3, python3-pip, python3-venv
# and ca-certificates, plus the host's CA bundle (HTTPS to PyPI from inside a build), imported
# with `docker import`. Skipped when the image already exists (--force rebuilds).
#   scripts/docker-base.sh [--force] [IMAGE]      (default localhost/nnrosetta-base:bookworm)
# Needs root (debootstrap), a running engine (DOCKER_HOST; scripts/docker-engine.sh start)
# and the Debian mirror: the URIs line of /etc/apt/sources.list.d/debian.sources, or $DEBIAN_MIRROR.
set -euo pipefail
force=0
image=localhost/nnrosetta-base:bookworm
for a in "$@"; do
  case "$a" in
    --force) force=1 ;;
    -h|--help) sed -n 2,8p "$0"; exit 0 ;;
    *) image=$a ;;
  esac
done
if [ "$force" = 0 ] && docker image inspect "$image" >/dev/null 2>&1; then
  echo "[docker-base] $image exists; skipping (--force rebuilds)"
  exit 0
fi
debootstrap_bin=$(command -v debootstrap || echo /usr/sbin/debootstrap)
[ -x "$debootstrap_bin" ] || { echo "[docker-base] debootstrap not found: run scripts/setup-system.sh" >&2; exit 1; }
mirror=${DEBIAN_MIRROR:-}
if [ -z "$mirror" ] && [ -f /etc/apt/sources.list.d/debian.sources ]; then
  mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
fi
if [ -z "$mirror" ] && [ -f /etc/apt/sources.list ]; then
  mirror=$(awk '/^deb / && $0 !~ /security/ {print $2; exit}' /etc/apt/sources.list)
fi
mirror=${mirror:-http://deb.debian.org/debian}
suite=${DEBIAN_SUITE:-bookworm}
work=$(mktemp -d "${TMPDIR:-/tmp}/nnrosetta-base.XXXXXX")
trap 'rm -rf "$work"' EXIT
rootfs="$work/rootfs"
t0=$SECONDS
echo "[docker-base] debootstrap $suite from $mirror (log: $work/debootstrap.log)"
if ! "$debootstrap_bin" --variant=minbase \
     --include=python3,python3-pip,python3-venv,ca-certificates \
     "$suite" "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1; then
  tail -30 "$work/debootstrap.log" >&2
  [ -f "$rootfs/debootstrap/debootstrap.log" ] && tail -30 "$rootfs/debootstrap/debootstrap.log" >&2
  exit 1
fi
echo "[docker-base] debootstrap done in $((SECONDS - t0)) s"
# The host's CA bundle (may carry a proxy's CA that Debian's bundle lacks).
if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
  cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
fi
# The mirror the image was built from, so apt inside works the same way as on the host.
if [ -f /etc/apt/sources.list.d/debian.sources ]; then
  cp /etc/apt/sources.list.d/debian.sources "$rootfs/etc/apt/sources.list.d/debian.sources"
  rm -f "$rootfs/etc/apt/sources.list"
fi
# Smaller image: no package caches, no docs.
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* \
       "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/tmp/*
tar -C "$rootfs" -c . | docker import \
  --change 'ENV LANG=C.UTF-8' \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'CMD ["/bin/bash"]' \
  --message "debootstrap $suite minbase + python3 (nnrosetta scripts/docker-base.sh)" \
  - "$image" >/dev/null
echo "[docker-base] $image ready in $((SECONDS - t0)) s ($(docker image inspect -f '{{.Size}}' "$image" | awk '{printf "%.0f MB", $1/1e6}'))"
