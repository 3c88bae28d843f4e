package paramload_test

import (
	"math"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onnxloss/onnxloss/graphedit"
	"github.com/onnxloss/onnxloss/internal/refs"
	"github.com/onnxloss/onnxloss/onnxpb"
	"github.com/onnxloss/onnxloss/paramload"
	"github.com/onnxloss/onnxloss/tensorfile"
)

const mlp = "../testdata/models/mlp_o13.onnx"

func f32(t *testing.T, name string, dims []int64, rng *rand.Rand) *onnxpb.TensorProto {
	t.Helper()
	n := int64(1)
	for _, d := range dims {
		n *= d
	}
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(rng.NormFloat64())
	}
	tp, err := tensorfile.New(name, dims, v)
	if err != nil {
		t.Fatal(err)
	}
	return tp
}

func TestApply(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	m, err := graphedit.Load(mlp)
	if err != nil {
		t.Fatal(err)
	}
	before := m.Initializer("fc2.bias").GetRawData()
	w := f32(t, "fc1.weight_next", []int64{32, 16}, rng) // a step model's output name
	b := f32(t, "fc1.bias", []int64{32}, rng)
	lr := f32(t, "lr", nil, rng)
	mom := f32(t, "fc1.bias_momentum_next", []int64{32}, rng)
	rep, err := paramload.Apply(m, []*onnxpb.TensorProto{w, b, lr, mom})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rep.Updated, ",") != "fc1.weight,fc1.bias" || strings.Join(rep.Skipped, ",") != "lr,fc1.bias_momentum_next" {
		t.Fatalf("report %+v", rep)
	}
	got, _ := tensorfile.Float64s(m.Initializer("fc1.weight"))
	want, _ := tensorfile.Float64s(w)
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("fc1.weight[%d] = %v, want %v", i, got[i], want[i])
		}
	}
	if string(m.Initializer("fc2.bias").GetRawData()) != string(before) {
		t.Error("fc2.bias changed though the file did not name it")
	}
}

func TestApplyRejects(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	f64, _ := tensorfile.New("fc1.bias", []int64{32}, make([]float64, 32))
	cases := []struct {
		name    string
		tensors []*onnxpb.TensorProto
		want    string
	}{
		{"unknown key", []*onnxpb.TensorProto{f32(t, "fc3.weight", []int64{5}, rng)}, `key "fc3.weight" names no initializer`},
		{"prefixed key", []*onnxpb.TensorProto{f32(t, "model.fc1.bias", []int64{32}, rng)}, `did you mean "fc1.bias"?`},
		{"wrong shape", []*onnxpb.TensorProto{f32(t, "fc1.weight", []int64{16, 32}, rng)}, `key "fc1.weight" has shape [16 32] but initializer "fc1.weight" has shape [32 16]`},
		{"wrong type", []*onnxpb.TensorProto{f64}, `key "fc1.bias" is float64 but initializer "fc1.bias" is float32: save it as float32`},
		{"two keys", []*onnxpb.TensorProto{f32(t, "fc1.bias", []int64{32}, rng), f32(t, "fc1.bias_next", []int64{32}, rng)}, `keys "fc1.bias" and "fc1.bias_next" both set initializer "fc1.bias"`},
		{"several problems", []*onnxpb.TensorProto{f32(t, "a", []int64{1}, rng), f32(t, "b", []int64{1}, rng)}, `(and 1 more problems)`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := graphedit.Load(mlp)
			if err != nil {
				t.Fatal(err)
			}
			orig, _ := m.Marshal()
			_, err = paramload.Apply(m, c.tensors)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want it to contain %q", err, c.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error has several lines: %q", err)
			}
			after, _ := m.Marshal()
			if string(orig) != string(after) {
				t.Error("a failed Apply changed the model")
			}
		})
	}
}

// TestSafetensorsFromHuggingFace reads files written by Hugging Face's own
// safetensors package (numpy API) and compares every value with the .npz
// NumPy wrote from the same arrays.
func TestSafetensorsFromHuggingFace(t *testing.T) {
	py := refs.VenvPython(t, "safetensors", "numpy")
	dir := t.TempDir()
	script := `
import sys, numpy as np
from safetensors.numpy import save_file
rng = np.random.default_rng(3)
a = {"fc1.weight": rng.standard_normal((32, 16)).astype(np.float32),
     "scalar": np.array(2.5, dtype=np.float64),
     "ids": rng.integers(-5, 5, size=(3, 2)).astype(np.int64),
     "half": rng.standard_normal(7).astype(np.float16),
     "empty": np.zeros((0, 4), dtype=np.float32),
     "mask": np.array([True, False, True])}
save_file(a, sys.argv[1] + "/p.safetensors", metadata={"format": "np"})
np.savez(sys.argv[1] + "/p.npz", **a)
`
	if out, err := exec.Command(py, "-c", script, dir).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	st, err := paramload.ReadFile(filepath.Join(dir, "p.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	npz, err := paramload.ReadFile(filepath.Join(dir, "p.npz"))
	if err != nil {
		t.Fatal(err)
	}
	if len(st) != len(npz) {
		t.Fatalf("%d tensors from safetensors, %d from npz", len(st), len(npz))
	}
	byName := map[string]*onnxpb.TensorProto{}
	for _, tp := range npz {
		byName[tp.GetName()] = tp
	}
	for _, s := range st {
		n := byName[s.GetName()]
		if n == nil {
			t.Fatalf("safetensors key %q not in the npz", s.GetName())
		}
		if s.GetDataType() != n.GetDataType() || !equalDims(s.GetDims(), n.GetDims()) {
			t.Fatalf("%s: type %v dims %v, npz %v %v", s.GetName(), s.GetDataType(), s.GetDims(), n.GetDataType(), n.GetDims())
		}
		a, err1 := tensorfile.Float64s(s)
		b, err2 := tensorfile.Float64s(n)
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		for i := range a {
			if a[i] != b[i] && !(math.IsNaN(a[i]) && math.IsNaN(b[i])) {
				t.Fatalf("%s[%d] = %v, npz %v", s.GetName(), i, a[i], b[i])
			}
		}
	}
}

func equalDims(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestSafetensorsCorrupt(t *testing.T) {
	good := safetensorsBytes(`{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, 8)
	if _, err := paramload.ParseSafetensors(good); err != nil {
		t.Fatalf("valid file: %v", err)
	}
	cases := map[string][]byte{
		"empty":             {},
		"short":             {1, 2, 3},
		"huge header":       {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, '{', '}'},
		"header past end":   safetensorsBytes(`{}`, 0)[:9],
		"bad json":          safetensorsBytes(`{"w":`, 0),
		"offsets past data": safetensorsBytes(`{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, 4),
		"size mismatch":     safetensorsBytes(`{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, 8),
		"gap":               safetensorsBytes(`{"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, 8),
		"overflowing shape": safetensorsBytes(`{"w":{"dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,8]}}`, 8),
		"unknown dtype":     safetensorsBytes(`{"w":{"dtype":"F8","shape":[1],"data_offsets":[0,1]}}`, 1),
	}
	for name, data := range cases {
		if _, err := paramload.ParseSafetensors(data); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func safetensorsBytes(header string, dataLen int) []byte {
	b := make([]byte, 8, 8+len(header)+dataLen)
	n := uint64(len(header))
	for i := 0; i < 8; i++ {
		b[i] = byte(n >> (8 * i))
	}
	b = append(b, header...)
	return append(b, make([]byte, dataLen)...)
}

// FuzzParseSafetensors: arbitrary bytes never panic or allocate from an
// unchecked size, and errors are one line.
func FuzzParseSafetensors(f *testing.F) {
	f.Add(safetensorsBytes(`{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, 8))
	f.Add(safetensorsBytes(`{"__metadata__":{"a":"b"},"x":{"dtype":"I64","shape":[],"data_offsets":[0,8]},"y":{"dtype":"BF16","shape":[1,1],"data_offsets":[8,10]}}`, 10))
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		ts, err := paramload.ParseSafetensors(data)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("multi-line error %q", err)
			}
			return
		}
		for _, tp := range ts {
			if _, err := tensorfile.Normalize(tp); err != nil {
				t.Fatalf("decoded tensor %q does not normalize: %v", tp.GetName(), err)
			}
		}
	})
}

func TestReadFileRejectsOtherFormats(t *testing.T) {
	p := filepath.Join(t.TempDir(), "p.json")
	if err := os.WriteFile(p, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := paramload.ReadFile(p); err == nil || !strings.Contains(err.Error(), ".npz or .safetensors") {
		t.Fatalf("error %v", err)
	}
}
