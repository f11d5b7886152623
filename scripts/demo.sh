#!/usr/bin/env bash
# A real conversion end to end: writes a Caffe ResNet-50 (prototxt + caffemodel with random
# weights: no model hub is reachable), then converts it to PyTorch with MMdnn's flags. The CLI
# starts the services itself (each from its own virtual environment), verifies the result
# against OpenCV's Caffe runtime and writes model.py, weights.pth, model.torchscript.pt and
# report.json into out/resnet50-pytorch.  Usage: scripts/demo.sh [zoo model name]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
name=${1:-resnet50}
mkdir -p out/zoo
PYTHONPATH=. .venv/bin/python -m tests.zoo.build "$name" --folder out/zoo >/dev/null
dir=$(ls -d out/zoo/"$name"-*/ | head -1)
.venv/bin/nnrosetta convert -sf caffe -in "$dir/$name.prototxt" -iw "$dir/$name.caffemodel" \
  -df pytorch -om "out/$name-pytorch" --overwrite
ls -l "out/$name-pytorch"
