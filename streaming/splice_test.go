package streaming

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/onnxloss/onnxloss/graphedit"
	"github.com/onnxloss/onnxloss/inject"
	"github.com/onnxloss/onnxloss/lossops"
)

// TestPayloadsKeepTheirOffsets streams a model in canonical field order
// holding MiBs of tensor data, then streams the output again with Replace:
// each time the tensor payloads lie at the same byte offsets in the output
// as in the input (so the kernel copies them page-aligned), and the output
// is proto.Equal to the in-memory path's.
func TestPayloadsKeepTheirOffsets(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "big.onnx")
	if err := os.WriteFile(in, bigModel(t), 0o644); err != nil {
		t.Fatal(err)
	}
	opt := inject.Options{Loss: lossops.CBFocal, Counts: &lossops.Counts{Values: []float64{50, 12, 7, 42, 100}},
		Beta: 0.999, Gamma: 2, Reduction: lossops.Mean, Normalize: true}
	replace := opt
	replace.Replace, replace.Loss = true, lossops.Focal
	steps := []struct {
		name string
		opt  inject.Options
	}{{"inject", opt}, {"replace", replace}}
	for i, step := range steps {
		out := filepath.Join(dir, step.name+".onnx")
		res, err := Inject(in, out, step.opt)
		if err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		if n := res.Notes[len(res.Notes)-1]; len(n) < 9 || n[:9] != "streamed:" {
			t.Fatalf("%s did not stream: %q", step.name, res.Notes)
		}
		a, err := os.ReadFile(in)
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		m, err := graphedit.LoadBytes(a)
		if err != nil {
			t.Fatal(err)
		}
		checked := 0
		for _, tensor := range m.Graph().GetInitializer() {
			if len(tensor.GetRawData()) < 1<<20 {
				continue
			}
			probe := tensor.GetRawData()[:4096]
			if ia, ib := bytes.Index(a, probe), bytes.Index(b, probe); ia < 0 || ia != ib {
				t.Errorf("%s: the data of %s is at byte %d of the input, %d of the output", step.name, tensor.GetName(), ia, ib)
			}
			checked++
		}
		if checked == 0 {
			t.Fatalf("%s: no big raw_data initializer in the input", step.name)
		}
		memOut := filepath.Join(dir, step.name+".mem.onnx")
		if _, err := InMemory(in, memOut, step.opt); err != nil {
			t.Fatal(err)
		}
		want, err := graphedit.Load(memOut)
		if err != nil {
			t.Fatal(err)
		}
		got, err := graphedit.LoadBytes(b)
		if err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(want.Proto, got.Proto) {
			t.Fatalf("%s: the streamed model differs from the in-memory one", step.name)
		}
		if i == 0 {
			in = out
		}
	}
}
