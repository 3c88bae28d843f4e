#!/usr/bin/env bash
# Measures the two maintained pure-Go Parquet readers side by side on what
# onnxloss counts does (read one label column, count each value): wall time,
# peak RSS (/usr/bin/time -v) and how much each adds to a binary.
# Usage: scripts/bench-parquet-libs.sh [ROWS]   (default 20000000)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
rows=${1:-20000000}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
scripts/install-refs.sh >/dev/null
.venv/bin/python - "$tmp/labels.parquet" "$rows" <<'PY'
import sys, numpy as np, pyarrow as pa, pyarrow.parquet as pq
path, n = sys.argv[1], int(sys.argv[2])
y = np.random.default_rng(0).integers(0, 1000, n)
names = np.array([f"class_{i:03d}" for i in range(1000)])
pq.write_table(pa.table({"label": y, "name": names[y]}), path, row_group_size=1 << 20)
PY
(cd scripts/parquetlibs && go build -o "$tmp/none" . && go build -tags arrow -o "$tmp/arrow" . && go build -tags pqgo -o "$tmp/pqgo" .)
none=$(stat -c %s "$tmp/none")
echo "rows $rows, file $(($(stat -c %s "$tmp/labels.parquet") / 1048576)) MiB (pyarrow defaults: dictionary-encoded, snappy)"
for col in label name; do
  for lib in arrow parquet-go; do
    bin="$tmp/arrow"; [ "$lib" = parquet-go ] && bin="$tmp/pqgo"
    /usr/bin/time -v "$bin" "$lib" "$tmp/labels.parquet" "$col" >"$tmp/out" 2>"$tmp/time"
    printf '%-10s %-5s column: wall %ss, peak RSS %d MiB, adds %d MiB to a binary; %s\n' "$lib" "$col" \
      "$(grep 'Elapsed' "$tmp/time" | awk '{print $NF}')" \
      $(( $(grep 'Maximum resident' "$tmp/time" | awk '{print $NF}') / 1024 )) \
      $(( ($(stat -c %s "$bin") - none) / 1048576 )) "$(cut -d' ' -f2- "$tmp/out")"
  done
done
