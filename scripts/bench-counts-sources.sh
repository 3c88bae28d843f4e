#!/usr/bin/env bash
# Benchmarks `onnxloss counts` on the dataset sources of issue 18, side by
# side with the Python way in the same run (wall time and peak RSS from
# /usr/bin/time -v); the data is generated here, never committed:
#   1. MASKS 512×512 palette mask PNGs (Pillow): onnxloss (all cores) vs a
#      Pillow + numpy.bincount loop; the two must give the same counts.
#   2. a COCO-style instances JSON of COCO_MB MiB: onnxloss's peak RSS must
#      stay within 64 MiB (the file is streamed; json.load would need
#      several times the file size, so Python is not run on it).
#   3. a Parquet label column of ROWS rows (pyarrow, 1000 classes):
#      onnxloss vs pyarrow.parquet.read_table + numpy.bincount.
# Usage: scripts/bench-counts-sources.sh [MASKS [COCO_MB [ROWS]]]
#        (defaults 2000, 1024, 100000000; needs ~1.5 GB in $TMPDIR)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
MASKS=${1:-2000}
COCO_MB=${2:-1024}
ROWS=${3:-100000000}
scripts/install-refs.sh >/dev/null
PY=.venv/bin/python
WORK=$(mktemp -d "${TMPDIR:-/tmp}/bench-counts-sources.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
go build -o "$WORK/onnxloss" ./cmd/onnxloss

# timed LABEL CMD...: runs CMD under /usr/bin/time -v, prints wall and RSS.
timed() {
  local label=$1; shift
  /usr/bin/time -v "$@" >"$WORK/out.txt" 2>"$WORK/time.txt" || { cat "$WORK/time.txt"; exit 1; }
  printf '  %-44s wall %8s  peak RSS %6d MiB\n' "$label" \
    "$(awk -F': ' '/Elapsed/ {print $2}' "$WORK/time.txt")" \
    $(( $(awk -F': ' '/Maximum resident/ {print $2}' "$WORK/time.txt") / 1024 ))
}
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"

# 1. Masks.
mkdir -p "$WORK/masks"
$PY - "$WORK/masks" "$MASKS" <<'PY'
import sys, numpy as np
from PIL import Image
d, n = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng(0)
yy, xx = np.mgrid[0:512, 0:512]
pal = list(rng.integers(0, 256, 768))
for k in range(n):
    # Blobs of classes, like a scene parse: a few random half-planes.
    m = np.zeros((512, 512), np.uint8)
    for c in rng.choice(20, 6, replace=False):
        a, b, o = rng.normal(size=3)
        m[(a * (xx - 256) + b * (yy - 256)) > o * 100] = c + 1
    m[rng.random((512, 512)) < 0.01] = 255
    im = Image.fromarray(m, "P"); im.putpalette(pal); im.save(f"{d}/m{k:05d}.png")
PY
echo "1. $MASKS palette masks of 512×512 ($(du -sm "$WORK/masks" | cut -f1) MiB)"
cat "$WORK/masks"/*.png > /dev/null  # warm the page cache for both
timed "onnxloss counts (all cores)" "$WORK/onnxloss" counts "$WORK/masks" --ignore-index 255 --num-classes 21 -q -o "$WORK/masks.json"
timed "Pillow + numpy.bincount loop (one core)" $PY -c '
import glob, json, sys, numpy as np
from PIL import Image
counts = np.zeros(21, np.int64); images = np.zeros(21, np.int64)
for p in sorted(glob.glob(sys.argv[1] + "/*.png")):
    flat = np.array(Image.open(p)).ravel()
    b = np.bincount(flat[flat != 255], minlength=21)
    counts += b; images += b > 0
print(json.dumps({"counts": counts.tolist(), "images": images.tolist()}))' "$WORK/masks"
$PY - "$WORK/masks.json" "$WORK/out.txt" <<'PY'
import json, sys
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert a["counts"] == b["counts"] and a["images"] == b["images"], "the counts differ"
print("  same counts and per-class image counts")
PY
rm -rf "$WORK/masks"

# 2. COCO, streamed.
$PY - "$WORK/coco.json" "$COCO_MB" <<'PY'
import json, sys
import numpy as np
path, mb = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng(1)
ids = sorted(rng.choice(np.arange(1, 91), 80, replace=False).tolist())
with open(path, "w") as f:
    f.write('{"info": {"description": "generated"}, "images": [')
    f.write(",".join(json.dumps({"id": i, "file_name": "%012d.jpg" % i, "width": 640, "height": 480}) for i in range(100000)))
    f.write('], "annotations": [')
    poly = ",".join("%.2f" % v for v in rng.random(60) * 500)
    k, first = 0, True
    while f.tell() < mb << 20:
        cats = rng.choice(ids, 10000)
        crowd = rng.random(10000) < 0.01
        rows = ['{"id": %d, "image_id": %d, "category_id": %d, "iscrowd": %d, "area": 1234.5, "bbox": [1.5, 2.5, 30.0, 40.0], "segmentation": [[%s]]}'
                % (k + j, (k + j) % 100000, cats[j], crowd[j], poly) for j in range(10000)]
        f.write(("" if first else ",") + ",".join(rows)); first = False; k += 10000
    f.write('], "categories": [' + ",".join(json.dumps({"id": int(i), "name": "class%d" % i, "supercategory": "x"}) for i in ids) + "]}")
PY
echo "2. COCO instances JSON of $(($(stat -c %s "$WORK/coco.json") >> 20)) MiB"
timed "onnxloss counts (streamed)" "$WORK/onnxloss" counts "$WORK/coco.json" -q -o "$WORK/coco-counts.json"
rss=$(awk -F': ' '/Maximum resident/ {print $2}' "$WORK/time.txt")
[ "$rss" -le $((64 * 1024)) ] || { echo "  peak RSS $((rss / 1024)) MiB is above 64 MiB" >&2; exit 1; }
echo "  peak RSS within 64 MiB; $($PY -c 'import json,sys; print(sum(json.load(open(sys.argv[1]))["counts"]), "annotations counted")' "$WORK/coco-counts.json")"
rm -f "$WORK/coco.json"

# 3. A Parquet label column.
$PY - "$WORK/labels.parquet" "$ROWS" <<'PY'
import sys, numpy as np, pyarrow as pa, pyarrow.parquet as pq
path, n = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng(2)
p = 0.995 ** np.arange(1000); p /= p.sum()
with pq.ParquetWriter(path, pa.schema([("label", pa.int64())])) as w:
    for start in range(0, n, 10_000_000):
        w.write_table(pa.table({"label": rng.choice(1000, min(10_000_000, n - start), p=p)}), row_group_size=1 << 20)
PY
echo "3. Parquet label column of $ROWS rows ($(($(stat -c %s "$WORK/labels.parquet") >> 20)) MiB, pyarrow defaults)"
cat "$WORK/labels.parquet" > /dev/null
timed "onnxloss counts" "$WORK/onnxloss" counts "$WORK/labels.parquet" --column label -q -o "$WORK/pq.json"
timed "pyarrow read_table + numpy.bincount" $PY -c '
import json, sys, numpy as np, pyarrow.parquet as pq
y = pq.read_table(sys.argv[1], columns=["label"]).column("label").to_numpy()
print(json.dumps({"counts": np.bincount(y, minlength=1000).tolist()}))' "$WORK/labels.parquet"
$PY - "$WORK/pq.json" "$WORK/out.txt" <<'PY'
import json, sys
assert json.load(open(sys.argv[1]))["counts"] == json.load(open(sys.argv[2]))["counts"], "the counts differ"
print("  same counts")
PY
