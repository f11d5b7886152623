#!/usr/bin/env bash
# The containerised stack (docker/compose.yaml) in one command:
#   scripts/compose.sh up [--build]   start the engine if needed, build missing images (--build:
#                                     rebuild all; cached layers make that quick), start
#                                     SeaweedFS, the converters (Caffe, PyTorch, ONNX, TensorFlow)
#                                     and the gateway, wait until the gateway and every converter
#                                     are healthy (gRPC health SERVING), print the addresses
#   scripts/compose.sh down [-v]      stop and remove the containers (-v: the S3 data too)
#   scripts/compose.sh ps | logs [ARGS] | config | env
#                                     docker-compose pass-through; env prints the settings
# Settings: the variables docker/compose.yaml lists (ports, NNROSETTA_HOST, ...);
# NNROSETTA_COMPOSE_PROJECT (default nnrosetta); NNROSETTA_UP_TIMEOUT (s, default 300).
# S3 credentials, unless NNROSETTA_S3_ACCESS_KEY / NNROSETTA_S3_SECRET_KEY are set: generated
# once into .nnrosetta/compose.env (mode 600) and reused.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
file=$root/docker/compose.yaml
project=${NNROSETTA_COMPOSE_PROJECT:-nnrosetta}
cmd=${1:-}
[ $# -gt 0 ] && shift

eval "$(bash "$root/scripts/docker-engine.sh" start 2>/dev/null)" \
  || { bash "$root/scripts/docker-engine.sh" start; exit 1; }

if command -v docker-compose >/dev/null 2>&1; then
  compose=(docker-compose)
elif docker compose version >/dev/null 2>&1; then
  compose=(docker compose)
else
  echo "[compose] neither docker-compose nor 'docker compose': run scripts/setup-system.sh" >&2
  exit 1
fi
compose+=(-f "$file" -p "$project")

if [ -z "${NNROSETTA_S3_ACCESS_KEY:-}" ] || [ -z "${NNROSETTA_S3_SECRET_KEY:-}" ]; then
  envfile=$root/.nnrosetta/compose.env
  if [ ! -f "$envfile" ]; then
    mkdir -p "$(dirname "$envfile")"
    (umask 077; python3 - >"$envfile" <<'PY'
import secrets
print(f"NNROSETTA_S3_ACCESS_KEY=nnr{secrets.token_hex(8)}")
print(f"NNROSETTA_S3_SECRET_KEY={secrets.token_hex(24)}")
PY
    )
    echo "[compose] generated S3 credentials into $envfile" >&2
  fi
  set -a
  # shellcheck disable=SC1090
  . "$envfile"
  set +a
fi

# docker/compose.yaml's converter services (each waited for, and built when its image is missing)
converters=(frontend-caffe backend-pytorch frontend-onnx backend-onnx frontend-tf frontend-tf-legacy
            backend-tf)

gateway_addr() { echo "${NNROSETTA_HOST:-127.0.0.1}:${NNROSETTA_GATEWAY_PORT:-50151}"; }

health_of() {  # SERVICE -> health status of its container ("" when there is none)
  local id
  id=$("${compose[@]}" ps -q "$1" 2>/dev/null | head -1)
  [ -n "$id" ] || return 0
  docker inspect -f '{{.State.Status}}/{{if .State.Health}}{{.State.Health.Status}}{{end}}' "$id" 2>/dev/null || true
}

up() {
  local build=0 images=() missing=() t0=$SECONDS deadline status svc
  [ "${1:-}" = --build ] && build=1
  images=(seaweedfs:${NNROSETTA_SEAWEEDFS_TAG:-latest})
  for svc in "${converters[@]}" gateway; do
    images+=("$svc:${NNROSETTA_TAG:-latest}")
  done
  for i in "${images[@]}"; do
    docker image inspect "nnrosetta/$i" >/dev/null 2>&1 || missing+=("${i%%:*}")
  done
  if [ "$build" = 1 ]; then
    bash "$root/scripts/docker-build.sh"
  elif [ ${#missing[@]} -gt 0 ]; then
    echo "[compose] building missing images: ${missing[*]}"
    bash "$root/scripts/docker-build.sh" "${missing[@]}"
  fi
  echo "[compose] starting project $project (gateway at $(gateway_addr))"
  # depends_on (service_healthy) makes `up` wait for SeaweedFS and the converters
  "${compose[@]}" up -d --no-build
  deadline=$((SECONDS + ${NNROSETTA_UP_TIMEOUT:-300}))
  while :; do
    status=$(health_of gateway)
    case "$status" in
      running/healthy) break ;;
      exited/*|dead/*|"")
        echo "[compose] the gateway is not running ($status)" >&2
        "${compose[@]}" ps >&2 || true
        "${compose[@]}" logs --tail 30 >&2 || true
        exit 1 ;;
    esac
    if [ $SECONDS -ge $deadline ]; then
      echo "[compose] the gateway is not healthy after ${NNROSETTA_UP_TIMEOUT:-300} s ($status)" >&2
      "${compose[@]}" ps >&2 || true
      "${compose[@]}" logs --tail 30 >&2 || true
      exit 1
    fi
    sleep 1
  done
  for svc in seaweedfs "${converters[@]}"; do
    status=$(health_of "$svc")
    [ "$status" = running/healthy ] || { echo "[compose] $svc is $status" >&2; exit 1; }
  done
  echo "[compose] up in $((SECONDS - t0)) s: gateway $(gateway_addr) (SERVING)," \
       "S3 http://${NNROSETTA_HOST:-127.0.0.1}:${NNROSETTA_S3_PORT:-8433}" \
       "(keys: \$NNROSETTA_S3_ACCESS_KEY / \$NNROSETTA_S3_SECRET_KEY${envfile:+, in $envfile})"
  echo "[compose] e.g. .venv/bin/nnrosetta convert --gateway $(gateway_addr) -sf caffe -in s3://BUCKET/net.prototxt -iw s3://BUCKET/net.caffemodel -df pytorch -om s3://BUCKET/out"
}

case "$cmd" in
  up) up "$@" ;;
  down) "${compose[@]}" down --remove-orphans "$@" ;;
  ps|logs|config) "${compose[@]}" "$cmd" "$@" ;;
  env) echo "export DOCKER_HOST=$DOCKER_HOST"
       echo "NNROSETTA_COMPOSE_PROJECT=$project gateway=$(gateway_addr)" ;;
  *) sed -n 2,14p "$0" >&2; exit 2 ;;
esac
