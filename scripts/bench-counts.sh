#!/bin/sh
# Benchmark `onnxloss counts` on a generated 100-million-line label file:
# peak RSS (must stay under 32 MiB: the file is streamed) and throughput.
#
#   scripts/bench-counts.sh [LINES]     (default 100000000; needs ~300 MB in $TMPDIR)
#
# Labels follow a long tail over 1000 classes (class c has weight ~ 0.995^c),
# with 1% ignored positions (-100). The file is built from a 1M-line block
# repeated, so generating it takes seconds, not minutes.
set -eu
LINES=${1:-100000000}
BLOCK=1000000
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/bench-counts.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

cd "$ROOT"
go build -o "$WORK/onnxloss" ./cmd/onnxloss

# A 1M-line block: a deterministic long-tailed sequence (quantile lookup of
# a low-discrepancy sequence, so no RNG is needed and every run is the same).
awk -v n="$BLOCK" 'BEGIN {
	C = 1000; Q = 100000; total = 0
	for (c = 0; c < C; c++) { w[c] = 0.995 ^ c; total += w[c] }
	c = 0; acc = w[0] / total
	for (k = 0; k < Q; k++) {
		while (c < C - 1 && (k + 0.5) / Q > acc) { c++; acc += w[c] / total }
		q[k] = c
	}
	for (i = 0; i < n; i++) {
		if (i % 100 == 99) { print -100; continue }
		x = (i * 0.6180339887498949) % 1
		print q[int(x * Q)]
	}
}' > "$WORK/block.txt"
reps=$((LINES / BLOCK))
: > "$WORK/labels.txt"
i=0
while [ $i -lt $reps ]; do cat "$WORK/block.txt"; i=$((i + 1)); done >> "$WORK/labels.txt"
head -n $((LINES - reps * BLOCK)) "$WORK/block.txt" >> "$WORK/labels.txt"
BYTES=$(wc -c < "$WORK/labels.txt")
echo "label file: $LINES lines, $BYTES bytes"

# Warm the page cache so the figure is the parser's, not the disk's.
cat "$WORK/labels.txt" > /dev/null

/usr/bin/time -v "$WORK/onnxloss" counts "$WORK/labels.txt" --ignore-index -100 -o "$WORK/counts.json" 2> "$WORK/time.txt" || {
	cat "$WORK/time.txt"; exit 1
}
grep -E '^counted|^wrote' "$WORK/time.txt" | sed 's/^/  /'
RSS_KB=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$WORK/time.txt")
WALL=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$WORK/time.txt")
SECS=$(echo "$WALL" | awk -F: '{ if (NF == 3) print $1*3600 + $2*60 + $3; else print $1*60 + $2 }')
CPU=$(awk -F': ' '/User time/ {u = $2} /System time/ {s = $2} END {print u + s}' "$WORK/time.txt")
awk -v l="$LINES" -v b="$BYTES" -v s="$SECS" -v cpu="$CPU" -v r="$RSS_KB" 'BEGIN {
	printf "wall %.2f s (CPU %.2f s), peak RSS %.1f MiB\n", s, cpu, r / 1024
	printf "throughput %.1f M lines/s, %.0f MB/s (wall); %.1f M lines/s, %.0f MB/s per CPU second\n", l / s / 1e6, b / s / 1e6, l / cpu / 1e6, b / cpu / 1e6
	if (r / 1024 >= 32) { print "FAIL: peak RSS >= 32 MiB"; exit 1 }
}'
