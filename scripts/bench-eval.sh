#!/usr/bin/env bash
# Benchmarks the pure-Go evaluator (verify/eval) against ONNX Runtime
# (onnxruntime-node, 1 and 2 intra-op threads) on injected loss subgraphs:
# N×C float32 logits (default 65536×1000), same model, same inputs, same run.
# Each runtime runs in its own process under /usr/bin/time -v (peak RSS),
# warms up once and times K session runs; the whole set repeats R times and
# the table reports the best min and the spread of the mins over the repeats.
#
# Every loss of the catalogue by default; each row shows the loss value the
# runtime computed beside the float64 closed form on the same data.
#
#   scripts/bench-eval.sh [-n N] [-c C] [-k K] [-r R] [-l "cb_focal weighted_ce"]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"

N=65536 C=1000 K=5 R=3
LOSSES="weighted_ce focal sigmoid_focal cb_softmax cb_sigmoid cb_focal balanced_softmax logit_adjusted ldam"
while getopts n:c:k:r:l: opt; do
  case $opt in
    n) N=$OPTARG ;; c) C=$OPTARG ;; k) K=$OPTARG ;; r) R=$OPTARG ;; l) LOSSES=$OPTARG ;;
    *) exit 2 ;;
  esac
done

if [ ! -d ortharness/node_modules/onnxruntime-node ]; then
  (cd ortharness && npm ci --silent)
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/benchloss" ./scripts/benchloss

results="$work/results.jsonl"
: >"$results"
# measure LOSS REP LABEL CMD... runs CMD under /usr/bin/time -v and appends its
# JSON line, tagged with the loss, repeat, label and peak RSS, to $results.
measure() {
  local loss=$1 rep=$2 label=$3
  shift 3
  "/usr/bin/time" -v -o "$work/time.txt" "$@" >"$work/out.json"
  local rss
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time.txt")
  node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    Object.assign(r, {loss_name: process.argv[2], rep: +process.argv[3], label: process.argv[4], rss_kb: +process.argv[5]});
    console.log(JSON.stringify(r));' "$work/out.json" "$loss" "$rep" "$label" "$rss" >>"$results"
  tail -n 1 "$results" | cut -c1-160 >&2
}

machine="$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
echo "machine: $machine" >&2
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
echo "load before: $load_before" >&2
for loss in $LOSSES; do
  "$work/benchloss" build -loss "$loss" -c "$C" -o "$work/$loss.onnx"
done
for rep in $(seq 1 "$R"); do
  for loss in $LOSSES; do
    m="$work/$loss.onnx"
    measure "$loss" "$rep" eval "$work/benchloss" run -model "$m" -n "$N" -c "$C" -k "$K"
    measure "$loss" "$rep" ort1 node --expose-gc ortharness/bench.js "$m" --n "$N" --c "$C" --k "$K" --threads 1
    measure "$loss" "$rep" ort2 node --expose-gc ortharness/bench.js "$m" --n "$N" --c "$C" --k "$K" --threads 2
  done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
echo "load after: $load_after" >&2

node -e '
const rows = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map(JSON.parse);
const [N, C, K, R, machine, before, after] = process.argv.slice(2);
const pick = (loss, label) => rows.filter((r) => r.loss_name === loss && r.label === label);
const best = (rs) => Math.min(...rs.map((r) => r.min_ms));
const spread = (rs) => { const m = rs.map((r) => r.min_ms); return Math.max(...m) / Math.min(...m); };
const median = (rs) => rs.reduce((a, r) => (r.min_ms < a.min_ms ? r : a)).median_ms;
const cpu = (rs) => Math.min(...rs.map((r) => r.min_cpu_ms));
const rss = (rs) => (Math.max(...rs.map((r) => r.rss_kb)) / 1024).toFixed(0);
const names = { eval: "Go evaluator (2 goroutines)", ort1: "ONNX Runtime, 1 thread", ort2: "ONNX Runtime, 2 threads" };
console.log(`N=${N}, C=${C}, float32 logits, int64 labels. Each runtime in its own process: 1 warm-up, ${K} timed runs; ${R} repeats.`);
console.log(`min = best of the ${R} repeats (their fastest run); spread = slowest/fastest of those ${R} minima; median = of the best repeat (${K} runs);`);
console.log(`CPU = least process CPU time (user+system, all threads) of one run; ratio = evaluator min / the runtime min.`);
console.log(`machine: ${machine}; load average (1/5/15 min) before ${before}, after ${after}`);
console.log("");
console.log("| loss | runtime | min ms | spread | median ms | CPU ms | peak RSS MB | evaluator ÷ this | loss value | float64 value |");
console.log("|---|---|---|---|---|---|---|---|---|---|");
for (const loss of [...new Set(rows.map((r) => r.loss_name))]) {
  const e = pick(loss, "eval");
  for (const label of ["eval", "ort1", "ort2"]) {
    const rs = pick(loss, label);
    const ratio = label === "eval" ? "" : (best(e) / best(rs)).toFixed(2);
    const ref = e[0].ref_loss;
    console.log(`| ${loss} | ${names[label]} | ${best(rs).toFixed(0)} | ×${spread(rs).toFixed(2)} | ${median(rs).toFixed(0)} | ${cpu(rs).toFixed(0)} | ${rss(rs)} | ${ratio} | ${rs[0].loss.toPrecision(7)} | ${ref.toPrecision(7)} |`);
  }
}' "$results" "$N" "$C" "$K" "$R" "$machine" "$load_before" "$load_after"
