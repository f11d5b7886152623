#!/usr/bin/env bash
# Regenerates src/nnrosetta/proto/*_pb2*.py from protos/ — the one command for generated code.
#
# The code is generated with grpcio-tools 1.62.3 (protoc 25.x) on purpose: gencode from that
# protoc has no runtime-version guard, so it imports under every protobuf runtime our services
# pin (4.25 up to 7.x), while code from a newer protoc refuses older runtimes
# (shared/notes/machine.md). tests/test_protos.py imports it in every service's environment.
#
#   scripts/gen_protos.sh           regenerate in place
#   scripts/gen_protos.sh --check   fail if the checked-in code differs from the protos
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv=${NNROSETTA_PROTOGEN_VENV:-$root/.venvs/protogen}
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q -r "$root/scripts/protogen-requirements.txt"
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
(cd "$root/protos" && "$venv/bin/python" -m grpc_tools.protoc -I. \
  --python_out="$out" --pyi_out="$out" --grpc_python_out="$out" nnrosetta/proto/*.proto)
dest=$root/src/nnrosetta/proto
if [ "${1:-}" = "--check" ]; then
  if ! diff -r -x __init__.py -x __pycache__ "$out/nnrosetta/proto" "$dest" >/dev/null; then
    echo "generated code in src/nnrosetta/proto is stale: run scripts/gen_protos.sh" >&2
    diff -r -x __init__.py -x __pycache__ "$out/nnrosetta/proto" "$dest" | head -20 >&2
    exit 1
  fi
  echo "protos and generated code agree"
  exit 0
fi
find "$dest" -name '*_pb2*.py*' -delete
cp "$out"/nnrosetta/proto/* "$dest/"
echo "generated: $(cd "$dest" && ls *_pb2*.py* | tr '\n' ' ')"
