package tensorfile

import (
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/onnxloss/onnxloss/onnxpb"
)

// debianPython is Debian's Python, which has numpy (python3-numpy); the
// python3 first on PATH may be another one.
const debianPython = "/usr/bin/python3"

// requireNumpy skips (or fails under CI=true) when numpy is not available.
func requireNumpy(t *testing.T) {
	t.Helper()
	if err := exec.Command(debianPython, "-c", "import numpy").Run(); err != nil {
		msg := "numpy not found in " + debianPython + ": apt-get install -y python3-numpy to enable this cross-check"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
}

// TestNumpyReadsOurFiles writes every dtype as .npz and .npy and has numpy
// load them, comparing dtype, shape and values.
func TestNumpyReadsOurFiles(t *testing.T) {
	requireNumpy(t)
	dir := t.TempDir()
	all := allDtypes(t)
	if err := WriteFile(filepath.Join(dir, "all.npz"), all); err != nil {
		t.Fatal(err)
	}
	for _, tt := range all {
		if err := WriteFile(filepath.Join(dir, tt.GetName()+".npy"), []*onnxpb.TensorProto{tt}); err != nil {
			t.Fatal(err)
		}
	}
	script := `
import json, sys, numpy as np
d = sys.argv[1]
out = {}
def enc(a):
    if a.dtype.kind == "f":
        vals = [float(x).hex() for x in a.ravel(order="C").tolist()]
    else:
        vals = [str(int(x)) for x in a.ravel(order="C").tolist()]
    return {"dtype": str(a.dtype), "shape": list(a.shape), "data": vals}
with np.load(d + "/all.npz") as z:
    for k in z.files:
        out["npz/" + k] = enc(z[k])
        out["npy/" + k] = enc(np.load(d + "/" + k + ".npy"))
print(json.dumps(out))
`
	cmd := exec.Command(debianPython, "-c", script, dir)
	cmd.Stderr = os.Stderr
	b, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	type arr struct {
		DType string
		Shape []int64
		Data  []string
	}
	var got map[string]arr
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	for _, tt := range all {
		d, _ := dtypeOf(tt.GetDataType())
		vals, err := Float64s(tt)
		if err != nil {
			t.Fatal(err)
		}
		for _, kind := range []string{"npz/", "npy/"} {
			a, ok := got[kind+tt.GetName()]
			if !ok {
				t.Errorf("%s%s: numpy did not see it", kind, tt.GetName())
				continue
			}
			if a.DType != d.name || !slices.Equal(a.Shape, tt.Dims) || len(a.Data) != len(vals) {
				t.Errorf("%s%s: numpy has %s %v with %d values; want %s %v", kind, tt.GetName(), a.DType, a.Shape, len(a.Data), d.name, tt.Dims)
				continue
			}
			for i, s := range a.Data {
				var want string
				if d.npyKind == 'f' {
					f, err := strconv.ParseFloat(s, 64)
					if err != nil {
						t.Fatalf("numpy value %q: %v", s, err)
					}
					if math.Float64bits(f) != math.Float64bits(vals[i]) {
						t.Errorf("%s%s[%d]: numpy %g, want %g", kind, tt.GetName(), i, f, vals[i])
					}
					continue
				}
				want = jsonElem(d, tt.RawData[i*d.size:(i+1)*d.size])
				if d.dt == onnxpb.TensorProto_BOOL {
					want = map[string]string{"true": "1", "false": "0"}[want]
				}
				if s != want {
					t.Errorf("%s%s[%d]: numpy %s, want %s", kind, tt.GetName(), i, s, want)
				}
			}
		}
	}
}
