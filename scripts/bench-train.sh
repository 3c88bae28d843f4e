#!/usr/bin/env bash
# Benchmark: one training step (forward, backward, AdamW update) of the test CNN
# and of torchvision's ResNet-18 — ONNX Runtime (.venv's onnxruntime) running the
# onnxloss step model vs PyTorch 1.13 (Debian) on the same module, batch and loss
# (cross-entropy, no weights). Each measurement runs in its own process under
# /usr/bin/time -v: median of K timed steps after 3 warm-up steps; peak RSS.
#   scripts/bench-train.sh [K] [THREADS]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
k=${1:-10}
threads=${2:-1}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/onnxloss" ./cmd/onnxloss
/usr/bin/python3 scripts/bench-train.py export "$work"
cp testdata/models/cnn_o17.onnx "$work/cnn.onnx"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores; threads $threads; $k timed steps"
echo
echo "| model | batch | runtime | median ms/step | min ms/step | peak RSS MB | step-model nodes |"
echo "|---|---:|---|---:|---:|---:|---:|"
for spec in "cnn 32" "resnet18 8"; do
  set -- $spec
  model=$1 n=$2
  "$work/onnxloss" inject --loss weighted_ce --weighting none --counts "$work/counts_$model.json" -o "$work/$model.train.onnx" "$work/$model.onnx" 2>/dev/null
  "$work/onnxloss" step --optimizer adamw --lr 1e-3 -o "$work/$model.step.onnx" "$work/$model.train.onnx" 2>"$work/step.log"
  nodes=$(grep -o '[0-9]* nodes' "$work/step.log" | cut -d' ' -f1)
  for rt in ort torch; do
    if [ $rt = ort ]; then
      cmd=(.venv/bin/python scripts/bench-train.py ort "$work/$model.step.onnx" "$work/$model.step.init.onnx" "$n" "$threads" "$k")
      label="ONNX Runtime $(.venv/bin/python -c 'import onnxruntime; print(onnxruntime.__version__)'), onnxloss step model"
    else
      cmd=(/usr/bin/python3 scripts/bench-train.py torch "$model" "$n" "$threads" "$k")
      label="PyTorch $(/usr/bin/python3 -c 'import torch; print(torch.__version__)'), forward+backward+AdamW.step"
    fi
    /usr/bin/time -v "${cmd[@]}" >"$work/out.json" 2>"$work/time.log"
    rss=$(awk '/Maximum resident set size/ {printf "%.0f", $6/1024}' "$work/time.log")
    med=$(/usr/bin/python3 -c "import json,sys; d=json.load(open('$work/out.json')); print('%.1f %.1f %.4f' % (d['median_ms'], d['min_ms'], d['loss']))")
    set -- $med
    echo "| $model | $n | $label | $1 | $2 | $rss | $([ $rt = ort ] && echo "$nodes" || echo "") |"
  done
done
echo
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
