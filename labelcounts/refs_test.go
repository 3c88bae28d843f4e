package labelcounts_test

import (
	"encoding/json"
	"math"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/onnxloss/onnxloss/internal/refs"
	"github.com/onnxloss/onnxloss/labelcounts"
	"github.com/onnxloss/onnxloss/lossops"
)

// venvPython returns the .venv Python (Debian's packages plus the pinned
// ones of scripts/venv-requirements.txt: pyarrow), or skips.
func venvPython(t *testing.T) string {
	t.Helper()
	pythonOnce.Do(func() {
		root, err := refs.RepoRoot()
		if err != nil {
			return
		}
		py := filepath.Join(root, ".venv", "bin", "python")
		if exec.Command(py, "-c", "import pyarrow, PIL, numpy").Run() == nil {
			pythonPath = py
		}
	})
	if pythonPath == "" {
		refs.Unavailable(t, "the .venv Python with pyarrow, Pillow and NumPy", "run scripts/install-refs.sh")
	}
	return pythonPath
}

var (
	pythonOnce sync.Once
	pythonPath string
)

// runPython runs script with args and decodes the JSON it prints into out.
func runPython(t *testing.T, script string, out any, args ...string) {
	t.Helper()
	cmd := exec.Command(venvPython(t), append([]string{"-c", script}, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, stderr.String())
	}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("python output %q: %v", b, err)
	}
}

// imageFolderScript builds an ImageFolder tree with the awkward cases
// (upper-case extensions, nesting, non-images, a symlinked class folder, a
// hidden folder, names that sort by code point) and prints torchvision's
// view of it.
const imageFolderScript = `
import json, os, sys
import numpy as np
from torchvision.datasets import ImageFolder
root = sys.argv[1]
rng = np.random.default_rng(7)
classes = ["cat", "Dog", "eel", "Zebra", "a_b", "b-a", ".ipynb_checkpoints", "émeu"]
exts = [".jpg", ".JPEG", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".TIFF", ".webp", ".txt", ".json", ".jpgx"]
for c in classes:
    for k in range(int(rng.integers(1, 12))):
        sub = os.path.join(root, c, *(["deep"] * int(rng.integers(0, 3))))
        os.makedirs(sub, exist_ok=True)
        open(os.path.join(sub, "f%d%s" % (k, exts[int(rng.integers(0, len(exts)))])), "w").close()
    open(os.path.join(root, c, "anchor.jpg"), "w").close()  # no empty class (torchvision refuses those)
open(os.path.join(root, "stray.jpg"), "w").close()  # a file in root is not a sample
os.makedirs(os.path.join(root, "..", "elsewhere"), exist_ok=True)
for k in range(3):
    open(os.path.join(root, "..", "elsewhere", "x%d.png" % k), "w").close()
os.symlink(os.path.abspath(os.path.join(root, "..", "elsewhere")), os.path.join(root, "linked"))
ds = ImageFolder(root, loader=lambda p: p)
print(json.dumps({"classes": ds.classes, "counts": np.bincount(ds.targets, minlength=len(ds.classes)).tolist()}))
`

func TestImageFolderMatchesTorchvision(t *testing.T) {
	root := filepath.Join(t.TempDir(), "train")
	var want struct {
		Classes []string
		Counts  []int64
	}
	runPython(t, imageFolderScript, &want, root)
	res, err := labelcounts.CountInputs([]string{root}, labelcounts.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(res.Classes, want.Classes) || !reflect.DeepEqual(res.Counts, want.Counts) {
		t.Errorf("got %v %v, torchvision %v %v", res.Classes, res.Counts, want.Classes, want.Counts)
	}
	if res.Format != labelcounts.ImageFolder {
		t.Errorf("format %s", res.Format)
	}
}

// cocoScript writes a COCO instances file with non-contiguous category ids
// listed out of order and after the annotations, crowd annotations, and the
// usual bulky fields, and counts it with the json module.
const cocoScript = `
import json, sys
import numpy as np
path = sys.argv[1]
rng = np.random.default_rng(11)
ids = [int(i) for i in rng.permutation(np.arange(1, 91))[:17]]
cats = [{"id": i, "name": "cat%02d" % i, "supercategory": "thing"} for i in ids]
anns = []
for k in range(3000):
    poly = rng.random(int(rng.integers(6, 40))).round(2).tolist()
    anns.append({"id": k, "image_id": int(rng.integers(0, 400)), "category_id": ids[int(rng.zipf(1.6)) % len(ids)],
                 "iscrowd": int(rng.random() < 0.1), "bbox": [1.0, 2.0, 3.0, 4.0], "area": 12.0, "segmentation": [poly]})
images = [{"id": i, "file_name": "%012d.jpg" % i, "width": 640, "height": 480} for i in range(400)]
with open(path, "w") as f:
    json.dump({"info": {"year": 2017}, "images": images, "annotations": anns, "licenses": [], "categories": cats}, f)
with open(path) as f:
    d = json.load(f)
order = sorted(c["id"] for c in d["categories"])
index = {c: i for i, c in enumerate(order)}
names = {c["id"]: c["name"] for c in d["categories"]}
inc = np.zeros(len(order), np.int64); exc = np.zeros(len(order), np.int64)
for a in d["annotations"]:
    inc[index[a["category_id"]]] += 1
    if not a["iscrowd"]:
        exc[index[a["category_id"]]] += 1
print(json.dumps({"classes": [names[i] for i in order], "include": inc.tolist(), "exclude": exc.tolist()}))
`

func TestCOCOMatchesPython(t *testing.T) {
	path := filepath.Join(t.TempDir(), "instances_train.json")
	var want struct {
		Classes          []string
		Include, Exclude []int64
	}
	runPython(t, cocoScript, &want, path)
	for _, exclude := range []bool{false, true} {
		res, err := labelcounts.CountInputs([]string{path}, labelcounts.Options{COCOExcludeCrowd: exclude})
		if err != nil {
			t.Fatal(err)
		}
		w := want.Include
		if exclude {
			w = want.Exclude
		}
		if !reflect.DeepEqual(res.Classes, want.Classes) || !reflect.DeepEqual(res.Counts, w) {
			t.Errorf("exclude crowd %v: got %v %v, json module %v %v", exclude, res.Classes, res.Counts, want.Classes, w)
		}
	}
}

// masksScript writes masks with Pillow (palette, 8-bit and 16-bit grey,
// images of different sizes, 255 as the ignore label) and computes with
// NumPy: pixel counts, images per class, pixels of those images, and the
// median-frequency and ENet weights of Eigen & Fergus and Paszke et al.
const masksScript = `
import json, os, sys
import numpy as np
from PIL import Image
d, C, ign = sys.argv[1], 6, 255
rng = np.random.default_rng(5)
masks = []
for k in range(24):
    h, w = int(rng.integers(5, 40)), int(rng.integers(5, 40))
    present = rng.choice(C, size=int(rng.integers(1, C + 1)), replace=False)
    m = rng.choice(present, size=(h, w), p=rng.dirichlet(np.ones(len(present)))).astype(np.uint8)
    m[rng.random((h, w)) < 0.05] = ign
    mode = ["P", "L", "I;16"][k % 3]
    if mode == "P":
        im = Image.fromarray(m, "P"); im.putpalette(list(rng.integers(0, 256, 768)))
    elif mode == "L":
        im = Image.fromarray(m, "L")
    else:
        im = Image.fromarray(m.astype(np.uint16))
    p = os.path.join(d, "m%02d.png" % k); im.save(p)
    back = np.array(Image.open(p)).astype(np.int64)
    assert (back == m).all(), (mode, Image.open(p).mode)
    masks.append(back)
counts = np.zeros(C, np.int64); images = np.zeros(C, np.int64); pix = np.zeros(C, np.int64)
for m in masks:
    flat = m.ravel()
    b = np.bincount(flat[flat != ign], minlength=C)
    counts += b; images += b > 0; pix += (b > 0) * flat.size
f = counts / pix
med = np.median(f)
mf = med / f
p = counts / counts.sum()
enet = 1 / np.log(1.02 + p)
print(json.dumps({"counts": counts.tolist(), "images": images.tolist(), "image_pixels": pix.tolist(),
                  "median_frequency": mf.tolist(), "enet": enet.tolist()}))
`

func TestMasksMatchPILAndNumPy(t *testing.T) {
	d := t.TempDir()
	var want struct {
		Counts, Images, ImagePixels []int64   `json:"-"`
		C                           []int64   `json:"counts"`
		I                           []int64   `json:"images"`
		P                           []int64   `json:"image_pixels"`
		MedianFrequency             []float64 `json:"median_frequency"`
		ENet                        []float64 `json:"enet"`
	}
	runPython(t, masksScript, &want, d)
	ignore := int64(255)
	for _, in := range [][]string{{d}, {filepath.Join(d, "m0*.png"), filepath.Join(d, "m1*.png"), filepath.Join(d, "m2*.png")}} {
		res, err := labelcounts.CountInputs(in, labelcounts.Options{IgnoreIndex: &ignore, NumClasses: 6})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(res.Counts, want.C) || !reflect.DeepEqual(res.Images, want.I) || !reflect.DeepEqual(res.ImagePixels, want.P) {
			t.Fatalf("%v: got counts %v images %v pixels %v, NumPy %v %v %v", in, res.Counts, res.Images, res.ImagePixels, want.C, want.I, want.P)
		}
		if res.Files != 24 {
			t.Errorf("%d files, want 24", res.Files)
		}
		// Through the counts file, as inject reads it.
		b, err := res.JSON()
		if err != nil {
			t.Fatal(err)
		}
		counts, err := lossops.ParseCounts(b)
		if err != nil {
			t.Fatal(err)
		}
		if counts.Origin == nil || *counts.Origin.IgnoreIndex != 255 || counts.Origin.Format != "masks" {
			t.Fatalf("origin %+v", counts.Origin)
		}
		for _, tc := range []struct {
			scheme lossops.Weighting
			want   []float64
		}{{lossops.WeightMedianFrequency, want.MedianFrequency}, {lossops.WeightENet, want.ENet}} {
			w, err := counts.ClassWeights(lossops.WeightConfig{Scheme: tc.scheme})
			if err != nil {
				t.Fatal(err)
			}
			for c := range w {
				// A few float64 operations on both sides: agreement to 1e-12
				// relative is the bar.
				if math.Abs(w[c]-tc.want[c]) > 1e-12*math.Abs(tc.want[c]) {
					t.Errorf("%s class %d: %v, NumPy %v", tc.scheme, c, w[c], tc.want[c])
				}
			}
		}
	}
}

// parquetScript writes Parquet files with pyarrow (integer, string and list
// columns, dictionary and plain encodings, several row groups, nulls in the
// list column, an aggregated label,count table) and counts with NumPy.
const parquetScript = `
import json, os, sys
import numpy as np, pyarrow as pa, pyarrow.parquet as pq
d = sys.argv[1]
rng = np.random.default_rng(3)
names = np.array(["zebra", "ant", "moth", "bee", "yak"])
out = {}
ys = []
for k, dictionary in enumerate([True, False]):
    n = 5000 + 777 * k
    y = rng.integers(0, 5, n); ys.append(y)
    rows = []
    for i in range(n):
        r = rng.random()
        rows.append(None if r < 0.05 else [] if r < 0.1 else sorted(rng.choice(5, int(rng.integers(1, 4)), replace=False).tolist()))
    t = pa.table({"label": pa.array(y, pa.int64()), "label32": pa.array(y, pa.int32()), "name": names[y], "tags": pa.array(rows, pa.list_(pa.int64()))})
    pq.write_table(t, os.path.join(d, "part-%d.parquet" % k), row_group_size=1000, use_dictionary=dictionary)
    out["tags%d" % k] = np.bincount([v for r in rows if r for v in r], minlength=5).tolist()
    out["rows%d" % k] = n
y = np.concatenate(ys)
out["label"] = np.bincount(y, minlength=5).tolist()
u, c = np.unique(names[y], return_counts=True)
out["sorted_names"], out["sorted_counts"] = u.tolist(), c.tolist()
agg = pa.table({"label": u, "count": c})
pq.write_table(agg, os.path.join(d, "agg.parquet"))
print(json.dumps(out))
`

func TestParquetMatchesPyarrow(t *testing.T) {
	d := t.TempDir()
	var want struct {
		Label        []int64
		Tags0, Tags1 []int64
		Rows0, Rows1 int64
		SortedNames  []string `json:"sorted_names"`
		SortedCounts []int64  `json:"sorted_counts"`
	}
	runPython(t, parquetScript, &want, d)
	glob := filepath.Join(d, "part-*.parquet")
	for _, col := range []string{"label", "label32"} {
		res, err := labelcounts.CountInputs([]string{glob}, labelcounts.Options{Column: col})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(res.Counts, want.Label) {
			t.Errorf("%s: got %v, NumPy %v", col, res.Counts, want.Label)
		}
	}
	res, err := labelcounts.CountInputs([]string{glob}, labelcounts.Options{Column: "name"})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(res.Classes, want.SortedNames) || !reflect.DeepEqual(res.Counts, want.SortedCounts) {
		t.Errorf("names: got %v %v, NumPy %v %v", res.Classes, res.Counts, want.SortedNames, want.SortedCounts)
	}
	// --classes fixes the ids of the names.
	classes := []string{"yak", "bee", "moth", "ant", "zebra"}
	res, err = labelcounts.CountInputs([]string{d}, labelcounts.Options{Format: labelcounts.Parquet, Column: "name", Classes: classes})
	if err == nil || !strings.Contains(err.Error(), "agg.parquet") {
		// The directory also holds agg.parquet, which has no "name" column.
		t.Fatalf("directory with agg.parquet: %v", err)
	}
	res, err = labelcounts.CountInputs([]string{glob}, labelcounts.Options{Column: "name", Classes: classes})
	if err != nil {
		t.Fatal(err)
	}
	for i, name := range classes {
		j := indexOf(want.SortedNames, name)
		if res.Counts[i] != want.SortedCounts[j] {
			t.Errorf("--classes: %s counted %d, NumPy %d", name, res.Counts[i], want.SortedCounts[j])
		}
	}
	// A list column is multi-hot: elements counted, rows are the samples.
	for k, file := range []string{"part-0.parquet", "part-1.parquet"} {
		res, err := labelcounts.CountInputs([]string{filepath.Join(d, file)}, labelcounts.Options{Column: "tags", NumClasses: 5})
		if err != nil {
			t.Fatal(err)
		}
		wantTags, wantRows := want.Tags0, want.Rows0
		if k == 1 {
			wantTags, wantRows = want.Tags1, want.Rows1
		}
		if !reflect.DeepEqual(res.Counts, wantTags) || res.Samples != wantRows {
			t.Errorf("%s tags: got %v (%d rows), NumPy %v (%d)", file, res.Counts, res.Samples, wantTags, wantRows)
		}
	}
	// The aggregated table gives the same as counting the rows.
	res, err = labelcounts.CountInputs([]string{filepath.Join(d, "agg.parquet")}, labelcounts.Options{Format: labelcounts.LabelCount})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(res.Classes, want.SortedNames) || !reflect.DeepEqual(res.Counts, want.SortedCounts) {
		t.Errorf("label-count: got %v %v, NumPy %v %v", res.Classes, res.Counts, want.SortedNames, want.SortedCounts)
	}
}

func indexOf(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

// TestNPZMatchesNumPy: an array of a compressed .npz archive written by
// NumPy, streamed out of the archive, and labels on standard input.
func TestNPZMatchesNumPy(t *testing.T) {
	d := t.TempDir()
	path := filepath.Join(d, "data.npz")
	var want struct{ Counts []int64 }
	runPython(t, `
import json, sys, numpy as np
rng = np.random.default_rng(9)
y = rng.integers(0, 7, (50, 8, 8)).astype(np.int16); y[0, 0, :3] = -100
np.savez_compressed(sys.argv[1], x=rng.random((4, 3)), y=y)
print(json.dumps({"counts": np.bincount(y[y != -100].ravel(), minlength=7).tolist()}))`, &want, path)
	ignore := int64(-100)
	res, err := labelcounts.CountInputs([]string{path}, labelcounts.Options{Column: "y", IgnoreIndex: &ignore})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(res.Counts, want.Counts) || res.Ignored != 3 {
		t.Errorf("got %v (%d ignored), NumPy %v (3)", res.Counts, res.Ignored, want.Counts)
	}
	if _, err := labelcounts.CountInputs([]string{path}, labelcounts.Options{}); err == nil || !strings.Contains(err.Error(), "holds 2 arrays (x, y): pick the labels with --column") {
		t.Errorf("two arrays without --column: %v", err)
	}
}
