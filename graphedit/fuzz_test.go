package graphedit_test

import (
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/onnxloss/onnxloss/graphedit"
	"github.com/onnxloss/onnxloss/internal/refs"
)

// fuzzNodeTests are node-test models that seed the fuzzer: subgraphs (If,
// Loop), sparse and Constant tensors, training ops, many attributes.
var fuzzNodeTests = []string{
	"test_if", "test_loop11", "test_constant", "test_sce_mean_weight",
	"test_nllloss_NCd1d2_with_weight", "test_batchnorm_example", "test_gemm_default_scalar_bias",
	"test_reduce_sum_keepdims_example", "test_squeeze", "test_softmax_axis_1",
}

// FuzzLoadSummarize feeds arbitrary bytes to LoadBytes; what loads must
// summarize, answer lookups, marshal, and reload to the same summary, and
// what does not load must give a one-line error. Nothing may panic.
func FuzzLoadSummarize(f *testing.F) {
	for _, p := range testModels(f) {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	if dir, _, ok := refs.FindNodeTestsDir(); ok {
		for _, name := range fuzzNodeTests {
			if b, err := os.ReadFile(filepath.Join(dir, name, "model.onnx")); err == nil {
				f.Add(b)
			}
		}
	}
	f.Add([]byte{})
	f.Add([]byte("{\"not\": \"onnx\"}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := graphedit.LoadBytes(data)
		if err != nil {
			if msg := err.Error(); msg == "" || strings.Contains(msg, "\n") {
				t.Fatalf("error is not one line: %q", msg)
			}
			return
		}
		s := m.Summarize()
		for _, vi := range m.Graph().GetOutput() {
			m.ValueType(vi.GetName())
			m.Producer(vi.GetName())
			m.Consumers(vi.GetName())
		}
		for _, r := range m.ExternalTensors() {
			graphedit.TensorBytes(r.Tensor)
		}
		b, err := m.Marshal()
		if err != nil {
			t.Fatalf("Marshal of a loaded model: %v", err)
		}
		m2, err := graphedit.LoadBytes(b)
		if err != nil {
			t.Fatalf("reloading a marshaled model: %v", err)
		}
		if s2 := m2.Summarize(); !reflect.DeepEqual(s, s2) {
			t.Fatalf("summary changed after a round trip:\n%+v\n%+v", s, s2)
		}
		if b2, _ := m2.Marshal(); string(b2) != string(b) {
			t.Fatal("second Marshal differs")
		}
		// Edits work on anything that loads.
		name := m.UniqueName("onnxloss/x")
		if m.HasName(name) != true {
			t.Fatal("UniqueName did not reserve its name")
		}
		bld := graphedit.NewBuilder(m, "onnxloss")
		bld.ReduceSum("s", name, []int64{1}, false)
		bld.LogSoftmax("ls", name, 1, 4)
		m.SetMetadata("onnxloss", "{}")
		if err := m.Write(io.Discard); err != nil {
			t.Fatalf("Write after edits: %v", err)
		}
	})
}
