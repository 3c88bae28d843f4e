package graphedit_test

import (
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/onnxloss/onnxloss/graphedit"
	"github.com/onnxloss/onnxloss/internal/refs"
	"github.com/onnxloss/onnxloss/onnxpb"
)

// extModel builds y = MatMul(x, W) + B with x float32 [2,3], W [3,4], B [4].
// With external set, W and B live in dir/dataLoc (W at offset 0, B at offset
// 64, junk between) and the model is saved as dir/model.onnx; otherwise the
// weights are inline. It returns the model path.
func extModel(t *testing.T, dir, dataLoc string, external bool) string {
	t.Helper()
	w := []float32{0.5, -1, 2, 0.25, 1.5, 0, -0.75, 3, -2, 1, 0.125, -0.5}
	b := []float32{0.1, -0.2, 0.3, -0.4}
	mp := &onnxpb.ModelProto{
		IrVersion:    ptr(int64(8)),
		ProducerName: ptr("graphedit-test"),
		OpsetImport:  []*onnxpb.OperatorSetIdProto{{Domain: ptr(""), Version: ptr(int64(13))}},
		Graph:        &onnxpb.GraphProto{Name: ptr("ext")},
	}
	// The locations written below are relative to dir.
	m := &graphedit.Model{Proto: mp, Dir: dir}
	f32 := func(dims ...int64) graphedit.ValueType {
		vt := graphedit.ValueType{Elem: onnxpb.TensorProto_FLOAT, Shape: []graphedit.Dim{}}
		for _, d := range dims {
			vt.Shape = append(vt.Shape, graphedit.Dim{Value: d})
		}
		return vt
	}
	m.AddInput(graphedit.TensorValueInfo("x", f32(2, 3)), -1)
	m.AddOutput(graphedit.TensorValueInfo("y", f32(2, 4)), -1)
	wt := graphedit.Float32Tensor("W", []int64{3, 4}, w)
	bt := graphedit.Float32Tensor("B", []int64{4}, b)
	if external {
		blob := make([]byte, 64+16)
		copy(blob, wt.RawData)
		for i := len(wt.RawData); i < 64; i++ {
			blob[i] = 0xAB // junk: offsets must be honoured
		}
		copy(blob[64:], bt.RawData)
		data := filepath.Join(dir, filepath.FromSlash(dataLoc))
		if err := os.MkdirAll(filepath.Dir(data), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(data, blob, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, x := range []struct {
			t           *onnxpb.TensorProto
			off, length int
		}{{wt, 0, 48}, {bt, 64, 16}} {
			x.t.RawData = nil
			x.t.DataLocation = onnxpb.TensorProto_EXTERNAL.Enum()
			x.t.ExternalData = []*onnxpb.StringStringEntryProto{
				{Key: ptr("location"), Value: ptr(dataLoc)},
				{Key: ptr("offset"), Value: ptr(strconv.Itoa(x.off))},
				{Key: ptr("length"), Value: ptr(strconv.Itoa(x.length))},
			}
		}
	}
	for _, tp := range []*onnxpb.TensorProto{wt, bt} {
		if err := m.AddInitializer(tp); err != nil {
			t.Fatal(err)
		}
	}
	m.AddNode(&onnxpb.NodeProto{Name: ptr("mm"), OpType: ptr("MatMul"), Input: []string{"x", "W"}, Output: []string{"xw"}})
	m.AddNode(&onnxpb.NodeProto{Name: ptr("add"), OpType: ptr("Add"), Input: []string{"xw", "B"}, Output: []string{"y"}})
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "model.onnx")
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	return path
}

// locations returns the location of every external tensor, by tensor name.
func locations(m *graphedit.Model) map[string]string {
	out := map[string]string{}
	for _, r := range m.ExternalTensors() {
		out[r.Tensor.GetName()] = r.Location
	}
	return out
}

func sameFile(t *testing.T, a, b string) bool {
	t.Helper()
	sa, err := os.Stat(a)
	if err != nil {
		t.Errorf("%v", err)
		return false
	}
	sb, err := os.Stat(b)
	if err != nil {
		t.Errorf("%v", err)
		return false
	}
	return os.SameFile(sa, sb)
}

// Saving a model with external data elsewhere rewrites relative locations so
// they still name the same file, never reads or copies the payload, and the
// result runs in ONNX Runtime and passes the onnx checker.
//
// What ONNX Runtime 1.30 accepts (found while writing this test):
// it resolves a location against the model's directory, canonicalizes it
// (symlinks followed) and refuses, with "External data path escapes model
// directory", any location whose real path is not inside the model's
// directory — "../src/weights.bin", a symlink "link.bin -> ../src/…" and
// a symlinked directory alike — and refuses absolute locations ("Absolute
// path not allowed for external data location"). So a model saved to a
// sibling directory (locations with "..") is correct ONNX but ORT will not
// run it; saved into the data's directory or any ancestor of it (locations
// "src/weights.bin") it runs. The onnx 1.12 checker given the file path
// (onnx.checker.check_model(path)) follows "../" locations; onnx.load as
// Debian ships it strips "../" (CVE-2022-25882 fix) and then cannot find them.
func TestExternalDataSaveElsewhere(t *testing.T) {
	root := t.TempDir()
	src := extModel(t, filepath.Join(root, "src"), "weights/data.bin", true)
	inline := extModel(t, filepath.Join(root, "inline"), "", false)
	dataFile := filepath.Join(root, "src", "weights", "data.bin")

	m, err := graphedit.Load(src)
	if err != nil {
		t.Fatal(err)
	}
	if got := locations(m); got["W"] != "weights/data.bin" || got["B"] != "weights/data.bin" || len(got) != 2 {
		t.Fatalf("external tensors after Load: %v", got)
	}

	cases := []struct {
		name, out, wantLoc string
		ortRuns            bool // inside the data's real directory tree
	}{
		{"same dir", filepath.Join(root, "src", "copy.onnx"), "weights/data.bin", true},
		{"ancestor dir", filepath.Join(root, "up.onnx"), "src/weights/data.bin", true},
		{"sibling dir", filepath.Join(root, "out", "nested", "model.onnx"), "../../src/weights/data.bin", false},
		{"sub dir", filepath.Join(root, "src", "sub", "model.onnx"), "../weights/data.bin", false},
	}
	var jobs []refs.Job
	var saved []string
	x := []float64{1, 2, 3, -1, 0.5, 4}
	for _, c := range cases {
		if err := os.MkdirAll(filepath.Dir(c.out), 0o755); err != nil {
			t.Fatal(err)
		}
		m, err := graphedit.Load(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Save(c.out); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if m.Dir != filepath.Dir(c.out) {
			t.Errorf("%s: Dir = %q after Save, want %q", c.name, m.Dir, filepath.Dir(c.out))
		}
		back, err := graphedit.Load(c.out)
		if err != nil {
			t.Fatal(err)
		}
		locs := locations(back)
		for _, name := range []string{"W", "B"} {
			// (a) rewritten relative to the new directory, same file.
			if locs[name] != c.wantLoc {
				t.Errorf("%s: %s location = %q, want %q", c.name, name, locs[name], c.wantLoc)
			}
			if !sameFile(t, filepath.Join(filepath.Dir(c.out), filepath.FromSlash(locs[name])), dataFile) {
				t.Errorf("%s: %s location %q does not name %s", c.name, name, locs[name], dataFile)
			}
		}
		// Offsets and lengths are untouched, payloads still external.
		for _, tp := range back.Graph().GetInitializer() {
			if tp.GetDataLocation() != onnxpb.TensorProto_EXTERNAL || len(tp.GetRawData()) != 0 {
				t.Errorf("%s: %s is no longer external", c.name, tp.GetName())
			}
		}
		// Saving back to the original directory restores the locations.
		home := filepath.Join(root, "src", "back_"+strings.ReplaceAll(c.name, " ", "_")+".onnx")
		if err := back.Save(home); err != nil {
			t.Fatal(err)
		}
		if got := locations(back); got["W"] != "weights/data.bin" {
			t.Errorf("%s: saved back home, location = %q, want weights/data.bin", c.name, got["W"])
		}
		saved = append(saved, c.out)
		jobs = append(jobs, refs.Job{Model: c.out, Inputs: map[string]refs.Tensor{"x": refs.FloatTensor("float32", []int{2, 3}, x)}})
	}

	// A location that is absolute stays as it is.
	abs, err := graphedit.Load(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range abs.ExternalTensors() {
		for _, kv := range r.Tensor.ExternalData {
			if kv.GetKey() == "location" {
				kv.Value = ptr(dataFile)
			}
		}
	}
	if err := abs.Save(filepath.Join(root, "out", "abs.onnx")); err != nil {
		t.Fatal(err)
	}
	if got := locations(abs); got["W"] != dataFile {
		t.Errorf("absolute location became %q", got["W"])
	}
	absJob := refs.Job{Model: filepath.Join(root, "out", "abs.onnx"), Inputs: jobs[0].Inputs}

	// (c) the onnx checker resolves every saved model's tensors (given the
	// path, it follows "../"); as a control it rejects one whose data is gone.
	missing := extModel(t, filepath.Join(root, "gone"), "data.bin", true)
	if err := os.Remove(filepath.Join(root, "gone", "data.bin")); err != nil {
		t.Fatal(err)
	}
	bad := refs.CheckModels(t, append(append([]string{}, saved...), missing))
	for _, p := range saved {
		if msg, ok := bad[p]; ok {
			t.Errorf("onnx checker rejects %s: %s", p, msg)
		}
	}
	if _, ok := bad[missing]; !ok {
		t.Errorf("onnx checker accepted %s whose external data file is missing: the check does not resolve locations", missing)
	}
	// (b) ONNX Runtime gives the inline model's output.
	jobs = append(jobs, absJob, refs.Job{Model: inline, Inputs: jobs[0].Inputs})
	res := refs.RunORT(t, jobs)
	if r := res[len(res)-2]; r.Error != "" {
		t.Logf("absolute location: ONNX Runtime refuses it: %s", r.Error)
	} else {
		t.Logf("absolute location: ONNX Runtime accepts it")
	}
	want := res[len(res)-1]
	if want.Error != "" {
		t.Fatalf("ONNX Runtime on the inline model: %s", want.Error)
	}
	wantY, _ := want.Outputs["y"].Floats()
	// And the inline output is MatMul+Add computed in Go.
	wf := []float64{0.5, -1, 2, 0.25, 1.5, 0, -0.75, 3, -2, 1, 0.125, -0.5}
	bf := []float64{0.1, -0.2, 0.3, -0.4}
	for i := 0; i < 2; i++ {
		for j := 0; j < 4; j++ {
			s := float64(float32(bf[j]))
			for k := 0; k < 3; k++ {
				s += x[3*i+k] * wf[4*k+j]
			}
			if math.Abs(s-wantY[4*i+j]) > 1e-5 {
				t.Errorf("inline y[%d,%d] = %g, want %g", i, j, wantY[4*i+j], s)
			}
		}
	}
	for i, c := range cases {
		r := res[i]
		if !c.ortRuns {
			// ORT 1.30 refuses locations that leave the model's directory;
			// if a later version accepts them, the output must still match.
			if r.Error != "" {
				if !strings.Contains(r.Error, "escapes model directory") {
					t.Errorf("%s: ONNX Runtime failed for another reason than the escaping location: %s", c.name, r.Error)
				}
				t.Logf("%s: ONNX Runtime refuses location %q: %s", c.name, c.wantLoc, r.Error)
				continue
			}
		}
		if r.Error != "" {
			t.Errorf("%s: ONNX Runtime: %s", c.name, r.Error)
			continue
		}
		got, _ := r.Outputs["y"].Floats()
		for k := range wantY {
			if got[k] != wantY[k] {
				t.Errorf("%s: y[%d] = %g, inline model gives %g", c.name, k, got[k], wantY[k])
			}
		}
	}
}

// Load and Summarize never read external payloads: they work when the side
// file is missing, and the summary counts the declared bytes.
func TestExternalDataNotRead(t *testing.T) {
	dir := t.TempDir()
	path := extModel(t, dir, "missing/data.bin", true)
	if err := os.RemoveAll(filepath.Join(dir, "missing")); err != nil {
		t.Fatal(err)
	}
	m, err := graphedit.Load(path)
	if err != nil {
		t.Fatalf("Load with the side file missing: %v", err)
	}
	s := m.Summarize()
	if s.ExternalTensors != 2 || s.Initializers != 2 || s.InitializerBytes != 48+16 {
		t.Errorf("summary: %d external tensors, %d initializers, %d bytes; want 2, 2, 64", s.ExternalTensors, s.Initializers, s.InitializerBytes)
	}
	// Saving elsewhere rewrites locations without needing the file either.
	out := filepath.Join(dir, "elsewhere", "m.onnx")
	if err := os.Mkdir(filepath.Dir(out), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := m.Save(out); err != nil {
		t.Fatalf("Save with the side file missing: %v", err)
	}
	if got := locations(m)["W"]; got != "../missing/data.bin" {
		t.Errorf("location = %q, want ../missing/data.bin", got)
	}
	// LoadBytes: locations resolve against the working directory until saved.
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	mb, err := graphedit.LoadBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	if mb.Dir != "" || mb.Summarize().ExternalTensors != 2 {
		t.Errorf("LoadBytes: Dir %q, %d external tensors", mb.Dir, mb.Summarize().ExternalTensors)
	}
}

// A failed Save leaves the model's locations as they were.
func TestExternalDataFailedSaveKeepsLocations(t *testing.T) {
	dir := t.TempDir()
	m, err := graphedit.Load(extModel(t, dir, "data.bin", true))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Save(filepath.Join(dir, "no", "such", "dir", "m.onnx")); err == nil {
		t.Fatal("Save into a missing directory succeeded")
	}
	if got := locations(m)["W"]; got != "data.bin" || m.Dir != dir {
		t.Errorf("after a failed Save: location %q, Dir %q; want data.bin, %q", got, m.Dir, dir)
	}
}

func ptr[T any](v T) *T { return &v }
