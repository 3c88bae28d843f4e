#!/usr/bin/env bash
# Benchmarks the pure-Go evaluator against ONNX Runtime (1 and 2 intra-op
# threads) on the exported architectures of testdata/archs (one batch: the
# model's own seeded input), side by side in one run. Each runtime runs in
# its own process: one warm-up, K timed runs; the table reports the fastest
# run (min) and the median, and evaluator ÷ ONNX Runtime.
#
#   scripts/bench-archs.sh [-k K] [-o "17"] [NAME ...]   (default: every model, opset 17)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"

K=5 OPSETS="17"
while getopts k:o: opt; do
  case $opt in
    k) K=$OPTARG ;; o) OPSETS=$OPTARG ;;
    *) exit 2 ;;
  esac
done
shift $((OPTIND - 1))
NAMES=${*:-resnet18 mobilenet_v3_small efficientnet_b0 densenet121 convnext_tiny vit_small swin_t lraspp_mobilenet_v3_large deeplabv3_mobilenet_v3_large text_classifier}
CACHE=${ONNXLOSS_ARCHS_CACHE:-testdata/archs/cache}

/usr/bin/python3 testdata/archs/export.py "$CACHE" $NAMES
if [ ! -d ortharness/node_modules/onnxruntime-node ]; then
  (cd ortharness && npm ci --silent)
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/bencharchs" ./scripts/bencharchs

machine="$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
results="$work/results.jsonl"
: >"$results"
for name in $NAMES; do
  for k in $OPSETS; do
    m="$CACHE/${name}_opset$k.onnx" in="$CACHE/${name}_input.npy"
    for label in eval ort1 ort2; do
      case $label in
        eval) out=$("$work/bencharchs" -model "$m" -input "$in" -k "$K") ;;
        ort1) out=$(node --expose-gc scripts/bench-archs.js "$m" "$in" --k "$K" --threads 1) ;;
        ort2) out=$(node --expose-gc scripts/bench-archs.js "$m" "$in" --k "$K" --threads 2) ;;
      esac
      echo "{\"model\":\"${name}_opset$k\",\"label\":\"$label\",\"r\":$out}" >>"$results"
      echo "${name}_opset$k $label $out" | cut -c1-150 >&2
    done
  done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

node -e '
const rows = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map(JSON.parse);
const [K, machine, before, after] = process.argv.slice(2);
console.log(`One batch per model (its seeded input), float32. Each runtime in its own process: 1 warm-up, ${K} timed runs.`);
console.log(`min = fastest run, median of the ${K}; ratio = evaluator ÷ ONNX Runtime (min). Evaluator: Go, GOMAXPROCS=2.`);
console.log(`machine: ${machine}; load average (1/5/15 min) before ${before}, after ${after}`);
console.log("");
console.log("| model | nodes | evaluator ms (min / median) | ORT 1 thread ms | ORT 2 threads ms | eval ÷ ORT 1 | eval ÷ ORT 2 |");
console.log("|---|---|---|---|---|---|---|");
for (const m of [...new Set(rows.map((r) => r.model))]) {
  const g = (l) => rows.find((r) => r.model === m && r.label === l).r;
  const e = g("eval"), o1 = g("ort1"), o2 = g("ort2");
  const f = (r) => `${r.min_ms.toFixed(1)} / ${r.median_ms.toFixed(1)}`;
  console.log(`| ${m} | ${e.nodes} | ${f(e)} | ${f(o1)} | ${f(o2)} | ${(e.min_ms / o1.min_ms).toFixed(1)}× | ${(e.min_ms / o2.min_ms).toFixed(1)}× |`);
}' "$results" "$K" "$machine" "$load_before" "$load_after"
