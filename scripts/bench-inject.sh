#!/usr/bin/env bash
# Benchmark of `onnxloss inject` on large models, side by side with `cp` of
# the same file and Python's onnx.load + onnx.save (Debian's python3-onnx):
# wall time and peak RSS (/usr/bin/time -v), as a markdown table.
#
#   scripts/bench-inject.sh            # models under $TMPDIR (or /tmp), removed at the end
#   BENCH_DIR=/big/disk scripts/bench-inject.sh
#
# Generates (streaming/internal/genbig) an MLP of 4096x4096 float32 Gemm
# weights of random bytes: ~250 MB and ~1 GB inline, and ~8 GB in a sparse
# external-data file. Needs ~3 GB of disk and ~4 GB of memory (for the
# in-memory runs). The page cache cannot be dropped here, so every command
# runs once to warm it, then three times measured (median wall time).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=/usr/bin/python3 # Debian's, with onnx 1.12; the python3 first on PATH may lack it
tmp=$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/bench-inject.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

go build -o "$tmp/onnxloss" ./cmd/onnxloss
go build -o "$tmp/genbig" ./streaming/internal/genbig
echo '[5000, 3000, 2000, 1200, 800, 500, 300, 200, 120, 80]' >"$tmp/counts.json"
"$tmp/genbig" -o "$tmp/m250.onnx" -mib 250 >&2
"$tmp/genbig" -o "$tmp/m1g.onnx" -mib 1024 >&2
mkdir "$tmp/ext"
"$tmp/genbig" -o "$tmp/ext/m8g.onnx" -mib 8192 -external weights.bin >&2

# measure OUT CMD...: a warm run, then three measured runs, each after
# removing OUT (so no run pays for freeing the previous output); prints the
# median wall time in ms and the largest peak RSS in KiB.
measure() {
	local out=$1
	shift
	"$@" >/dev/null 2>&1
	local walls=() rss=0 start end r
	for _ in 1 2 3; do
		rm -f "$out"
		start=$(date +%s%N)
		if ! /usr/bin/time -v -o "$tmp/time.txt" "$@" >/dev/null 2>"$tmp/err.txt"; then
			echo "failed: $*" >&2
			cat "$tmp/err.txt" >&2
			exit 1
		fi
		end=$(date +%s%N)
		walls+=($(((end - start) / 1000000)))
		r=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$tmp/time.txt")
		rss=$((r > rss ? r : rss))
	done
	echo "$(printf '%s\n' "${walls[@]}" | sort -n | sed -n 2p) $rss"
}

inject=("$tmp/onnxloss" inject --loss cb_focal --counts "$tmp/counts.json")
# onnx.load + onnx.save; external data is not loaded (it would be 8 GB in memory).
pyresave=("$PY" -c 'import onnx, sys; onnx.save(onnx.load(sys.argv[1], load_external_data=sys.argv[3] == "1"), sys.argv[2])')

echo "| model | command | wall (s) | wall / cp | peak RSS (MiB) |"
echo "|---|---|---:|---:|---:|"
row() { # row MODEL LABEL MS KIB, with cp_ms set
	awk -v m="$1" -v l="$2" -v ms="$3" -v kib="$4" -v cp="$cp_ms" \
		'BEGIN { printf "| %s | %s | %.2f | %.2f | %.0f |\n", m, l, ms / 1000, ms / cp, kib / 1024 }'
}
for m in m250 m1g ext/m8g; do
	in="$tmp/$m.onnx"
	out="$tmp/$(basename "$m").out"
	size=$(stat -c %s "$in")
	label="$(basename "$m") ($(awk -v s="$size" 'BEGIN { printf "%.0f MB", s / 1e6 }')"
	inline=1
	if [ "$m" = ext/m8g ]; then
		label="$label + 8.6 GB external"
		inline=0
	fi
	label="$label)"
	read -r cp_ms cp_kib < <(measure "$out.cp.onnx" cp "$in" "$out.cp.onnx")
	cp_ms=$((cp_ms > 0 ? cp_ms : 1))
	row "$label" "cp" "$cp_ms" "$cp_kib"
	read -r ms kib < <(measure "$out.stream.onnx" "${inject[@]}" --stream -o "$out.stream.onnx" "$in")
	row "$label" "onnxloss inject (streaming)" "$ms" "$kib"
	read -r ms kib < <(measure "$out.mem.onnx" "${inject[@]}" --no-stream -o "$out.mem.onnx" "$in")
	row "$label" "onnxloss inject --no-stream" "$ms" "$kib"
	read -r ms kib < <(measure "$out.py.onnx" "${pyresave[@]}" "$in" "$out.py.onnx" "$inline")
	row "$label" "python onnx.load + onnx.save" "$ms" "$kib"
	"$tmp/genbig" -equal "$out.stream.onnx" "$out.mem.onnx" >&2
	rm -f "$out".*
done

# The external data is never opened: trace the streaming inject's opens.
strace -f -qq -e trace=open,openat -o "$tmp/strace.txt" \
	"$tmp/onnxloss" inject --loss cb_focal --counts "$tmp/counts.json" -o "$tmp/ext.out.onnx" "$tmp/ext/m8g.onnx" 2>/dev/null
if grep -q weights.bin "$tmp/strace.txt"; then
	echo "FAIL: inject opened the external data file" >&2
	exit 1
fi
echo >&2 "inject never opened ext/weights.bin (strace); copies use copy_file_range:"
strace -f -qq -c -e trace=copy_file_range,read,write -o "$tmp/strace.txt" \
	"$tmp/onnxloss" inject --loss cb_focal --counts "$tmp/counts.json" -o "$tmp/m1g.out.onnx" "$tmp/m1g.onnx" 2>/dev/null
cat "$tmp/strace.txt" >&2
