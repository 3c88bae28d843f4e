#!/usr/bin/env bash
# Compares two onnxloss binaries on the same injections: every loss of the
# first catalogue (the nine before the registry) × the testdata models ×
# a few flag sets; prints each run whose output model, stdout or stderr
# differ, then "N runs, M differ". Used to show that the registry refactor
# kept injected models byte-identical:
#   scripts/compare-inject.sh /path/to/old/onnxloss /path/to/new/onnxloss
set -euo pipefail
old=$(realpath "$1"); new=$(realpath "$2")
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
mkdir -p "$work/A" "$work/B"
n=0; bad=0
for l in weighted_ce focal sigmoid_focal cb_softmax cb_sigmoid cb_focal logit_adjusted balanced_softmax ldam; do
  for m in mlp_o11 mlp_o13 cnn_o17 segnet_o13 token_cls_o17 segnet_nhwc_o13 multilabel_o13; do
    c=counts5.json
    case $m in segnet*) c=counts4.json ;; token_cls_o17) c=counts7.json ;; esac
    for extra in "" "--ignore-index 1 --reduction sum --gamma 0.5" "--reduction none --label-smoothing 0.1" "--targets multi-hot"; do
      # shellcheck disable=SC2086
      (cd "$work/A" && "$old" inject --loss $l --counts "$root/testdata/$c" $extra -o o.onnx "$root/testdata/models/$m.onnx" >out 2>err || true)
      # shellcheck disable=SC2086
      (cd "$work/B" && "$new" inject --loss $l --counts "$root/testdata/$c" $extra -o o.onnx "$root/testdata/models/$m.onnx" >out 2>err || true)
      n=$((n + 1))
      if ! diff -r "$work/A" "$work/B" >/dev/null; then
        bad=$((bad + 1)); echo "differs: $l $m $extra"; diff "$work/A/err" "$work/B/err" || true
      fi
      rm -f "$work"/*/o.onnx
    done
  done
done
echo "$n runs, $bad differ"
