#!/usr/bin/env bash
# The test command (README): lint, generated-code drift, docs drift, then every test —
# unit tests and the end-to-end tests that start SeaweedFS and the services as real processes.
# Extra arguments go to pytest (e.g. scripts/test.sh -m "not integration").
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export PYTHONDONTWRITEBYTECODE=1
echo "[test] ruff"
.venv/bin/ruff check src services tests bench
echo "[test] protos vs generated code"
bash scripts/gen_protos.sh --check
echo "[test] docs vs registry"
.venv/bin/python -m nnrosetta.ir.docs --check
echo "[test] pytest"
.venv/bin/python -m pytest -p no:cacheprovider -q -ra --durations=15 "$@"
