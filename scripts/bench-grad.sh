#!/bin/bash
# Gradient benchmark: ONNX Runtime 1.30 running `onnxloss step --optimizer
# none` models vs PyTorch's loss.backward() on the same module and batch,
# for the small CNN (testdata/models/cnn_o17.onnx, batch 64) and
# torchvision's mobilenet_v3_small (batch 8 x 3 x 224 x 224). One thread
# each; each runner is its own process under /usr/bin/time -v (wall time and
# peak RSS include start-up: loading torch or onnxruntime-node), and prints
# the median time of one forward+backward pass after a warm-up run.
#
#   bash scripts/bench-grad.sh [ITERS]      (default 20)
set -euo pipefail
cd "$(dirname "$0")/.."
ITERS=${1:-20}
PY=/usr/bin/python3
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
export PATH=$PATH:/usr/local/go/bin
go build -o "$WORK/onnxloss" ./cmd/onnxloss
$PY scripts/benchgrad/bench.py prepare "$WORK"

measure() { # label, command...
  local label=$1; shift
  /usr/bin/time -v "$@" >"$WORK/out" 2>"$WORK/time" || { cat "$WORK/time"; exit 1; }
  local ms wall rss loss
  ms=$($PY -c 'import json,sys; print("%.1f" % json.load(open(sys.argv[1]))["median_ms"])' "$WORK/out")
  loss=$($PY -c 'import json,sys; print("%.6f" % json.load(open(sys.argv[1]))["loss"])' "$WORK/out")
  wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$WORK/time")
  rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$WORK/time")
  printf '%-34s %10s ms %12s %10d MiB   loss %s\n' "$label" "$ms" "$wall" $((rss / 1024)) "$loss"
}

printf '%-34s %13s %12s %14s\n' "runner" "median/pass" "wall" "peak RSS"
for name in cnn mbv3; do
  if [ $name = cnn ]; then model=testdata/models/cnn_o17.onnx; else model=$WORK/mbv3_small_o17.onnx; fi
  "$WORK/onnxloss" inject --loss weighted_ce --counts "$WORK/$name.counts.json" -o "$WORK/$name.train.onnx" "$model" 2>/dev/null
  "$WORK/onnxloss" step --optimizer none -o "$WORK/$name.step.onnx" "$WORK/$name.train.onnx" 2>/dev/null
  nodes=$($PY -c 'import onnx,sys; print(len(onnx.load(sys.argv[1]).graph.node), len(onnx.load(sys.argv[2]).graph.node))' "$model" "$WORK/$name.step.onnx")
  echo "== $name: nodes (forward model, step model): $nodes"
  measure "$name: ONNX Runtime step model" node scripts/benchgrad/ort.js "$WORK/$name.step.onnx" "$WORK/$name.json" "$ITERS"
  measure "$name: PyTorch loss.backward()" $PY scripts/benchgrad/bench.py torch "$WORK" $name "$ITERS"
done
