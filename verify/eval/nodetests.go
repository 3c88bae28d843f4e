package eval

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/onnxloss/onnxloss/onnxpb"
	"google.golang.org/protobuf/proto"
)

// NodeTest is one ONNX backend node test directory (test_NAME/model.onnx
// plus test_data_set_K/{input,output}_I.pb).
type NodeTest struct {
	// Name is the directory name, e.g. "test_sce_mean".
	Name string
	// Dir is the test directory.
	Dir string
	// Model is the parsed model.onnx.
	Model *onnxpb.ModelProto
	// Ops are the distinct op types of the graph (domain-qualified outside the default domain).
	Ops []string
	// Skip is why the evaluator cannot run this test ("" if it can).
	Skip string
}

// nondeterministic lists node tests whose expected outputs come from a random
// number generator the evaluator cannot reproduce (training-mode Dropout).
var nondeterministic = map[string]bool{
	"test_training_dropout":              true,
	"test_training_dropout_default":      true,
	"test_training_dropout_default_mask": true,
	"test_training_dropout_mask":         true,
}

// LoadNodeTests reads every test_* directory under dir and decides which ones
// the evaluator can run.
func LoadNodeTests(dir string) ([]*NodeTest, error) {
	dirs, err := filepath.Glob(filepath.Join(dir, "test_*"))
	if err != nil {
		return nil, err
	}
	var out []*NodeTest
	for _, d := range dirs {
		if fi, err := os.Stat(d); err != nil || !fi.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(d, "model.onnx"))
		if err != nil {
			return nil, fmt.Errorf("node test %s: %w", filepath.Base(d), err)
		}
		m := &onnxpb.ModelProto{}
		if err := proto.Unmarshal(b, m); err != nil {
			return nil, fmt.Errorf("node test %s: parsing model.onnx: %w", filepath.Base(d), err)
		}
		nt := &NodeTest{Name: filepath.Base(d), Dir: d, Model: m}
		seen := map[string]bool{}
		for _, n := range m.GetGraph().GetNode() {
			k := n.GetOpType()
			if dom := n.GetDomain(); dom != "" && dom != "ai.onnx" {
				k = dom + ":" + k
			}
			if !seen[k] {
				seen[k] = true
				nt.Ops = append(nt.Ops, k)
			}
			if nt.Skip == "" && !Supported(n.GetDomain(), n.GetOpType()) {
				nt.Skip = "unsupported op " + k
			}
		}
		sort.Strings(nt.Ops)
		if nt.Skip == "" {
			nt.Skip = checkTypes(m)
		}
		if nt.Skip == "" && nondeterministic[nt.Name] {
			nt.Skip = "expected output depends on a random number generator"
		}
		out = append(out, nt)
	}
	return out, nil
}

func checkTypes(m *onnxpb.ModelProto) string {
	g := m.GetGraph()
	vis := append(append([]*onnxpb.ValueInfoProto{}, g.GetInput()...), g.GetOutput()...)
	for _, vi := range vis {
		tt := vi.GetType().GetTensorType()
		if tt == nil {
			return fmt.Sprintf("value %q is not a tensor", vi.GetName())
		}
		if dt := DType(tt.GetElemType()); !dt.Supported() {
			return fmt.Sprintf("value %q has unsupported type %v", vi.GetName(), dt)
		}
	}
	var bad string
	var walk func(g *onnxpb.GraphProto)
	walk = func(g *onnxpb.GraphProto) {
		for _, t := range g.GetInitializer() {
			if !DType(t.GetDataType()).Supported() {
				bad = fmt.Sprintf("initializer of unsupported type %v", DType(t.GetDataType()))
			}
		}
		for _, n := range g.GetNode() {
			for _, a := range n.GetAttribute() {
				if t := a.GetT(); t != nil && !DType(t.GetDataType()).Supported() {
					bad = fmt.Sprintf("attribute tensor of unsupported type %v", DType(t.GetDataType()))
				}
				if a.GetType() == onnxpb.AttributeProto_STRING && a.GetName() == "value_string" || a.GetName() == "value_strings" {
					bad = "string constant"
				}
				if a.GetName() == "sparse_value" {
					bad = "sparse constant"
				}
				if a.GetName() == "to" && !DType(a.GetI()).Supported() {
					bad = fmt.Sprintf("cast to unsupported type %v", DType(a.GetI()))
				}
			}
		}
	}
	walk(g)
	return bad
}

// DataSet is one test_data_set_K of a node test.
type DataSet struct {
	Name    string
	Inputs  map[string]*Tensor
	Outputs []string
	Want    []*Tensor
	// LegacyBFloat16 is set when an expected output was stored as UINT16
	// bits of a declared bfloat16 (test data of ONNX <= 1.12).
	LegacyBFloat16 bool
}

// DataSets loads the inputs and expected outputs of every data set, bound to
// the graph's inputs and outputs by position.
func (nt *NodeTest) DataSets() ([]*DataSet, error) {
	dirs, err := filepath.Glob(filepath.Join(nt.Dir, "test_data_set_*"))
	if err != nil {
		return nil, err
	}
	g := nt.Model.GetGraph()
	inits := map[string]bool{}
	for _, t := range g.GetInitializer() {
		inits[t.GetName()] = true
	}
	var inNames []string
	var inInfos []*onnxpb.ValueInfoProto
	for _, vi := range g.GetInput() {
		if !inits[vi.GetName()] {
			inNames = append(inNames, vi.GetName())
			inInfos = append(inInfos, vi)
		}
	}
	var res []*DataSet
	for _, d := range dirs {
		ds := &DataSet{Name: filepath.Base(d), Inputs: map[string]*Tensor{}}
		for i := 0; ; i++ {
			p := filepath.Join(d, fmt.Sprintf("input_%d.pb", i))
			if _, err := os.Stat(p); err != nil {
				break
			}
			if i >= len(inNames) {
				return nil, fmt.Errorf("%s: more input files than graph inputs", ds.Name)
			}
			t, err := readTensorFile(p)
			if err != nil {
				return nil, err
			}
			ds.Inputs[inNames[i]] = asDeclared(t, inInfos[i])
		}
		for i, vi := range g.GetOutput() {
			p := filepath.Join(d, fmt.Sprintf("output_%d.pb", i))
			t, err := readTensorFile(p)
			if err != nil {
				return nil, err
			}
			ds.Outputs = append(ds.Outputs, vi.GetName())
			want := asDeclared(t, vi)
			ds.LegacyBFloat16 = ds.LegacyBFloat16 || want != t
			ds.Want = append(ds.Want, want)
		}
		res = append(res, ds)
	}
	return res, nil
}

// asDeclared retags uint16 test data as bfloat16 where the graph declares
// bfloat16: ONNX up to 1.12 (Debian's libonnx-testdata) stored bfloat16 test
// tensors as UINT16 bit patterns, since NumPy has no bfloat16.
func asDeclared(t *Tensor, vi *onnxpb.ValueInfoProto) *Tensor {
	declared := DType(vi.GetType().GetTensorType().GetElemType())
	if t.dtype == Uint16 && declared == BFloat16 {
		return &Tensor{dtype: BFloat16, shape: t.shape, data: t.data}
	}
	return t
}

func readTensorFile(p string) (*Tensor, error) {
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	tp := &onnxpb.TensorProto{}
	if err := proto.Unmarshal(b, tp); err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	t, err := FromProto(tp, filepath.Dir(p))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return t, nil
}

// Compare checks got against want like ONNX's backend test runner: same type
// and shape, |got-want| <= atol + rtol*|want|, NaNs equal, infinities exact.
// It returns "" when they match, else a description of the first mismatch.
func Compare(got, want *Tensor, rtol, atol float64) string {
	if got.dtype != want.dtype {
		return fmt.Sprintf("type %v, want %v", got.dtype, want.dtype)
	}
	if !shapeEq(got.shape, want.shape) {
		return fmt.Sprintf("shape %v, want %v", got.shape, want.shape)
	}
	if !got.dtype.isFloat() {
		gb, wb := got.bytes(), want.bytes()
		if got.dtype == Bool {
			gv, wv := got.data.([]bool), want.data.([]bool)
			for i := range gv {
				if gv[i] != wv[i] {
					return fmt.Sprintf("element %d: %v, want %v", i, gv[i], wv[i])
				}
			}
			return ""
		}
		for i := range gb {
			if gb[i] != wb[i] {
				k := i / got.dtype.Size()
				return fmt.Sprintf("element %d: %v, want %v", k, got.i64At(k), want.i64At(k))
			}
		}
		return ""
	}
	var bad []string
	nbad := 0
	for i := 0; i < got.Len(); i++ {
		g, w := got.f64At(i), want.f64At(i)
		ok := false
		switch {
		case g != g || w != w:
			ok = g != g && w != w
		case isInf(g) || isInf(w):
			ok = g == w
		default:
			d := g - w
			if d < 0 {
				d = -d
			}
			aw := w
			if aw < 0 {
				aw = -aw
			}
			ok = d <= atol+rtol*aw
		}
		if !ok {
			nbad++
			if len(bad) < 3 {
				bad = append(bad, fmt.Sprintf("element %d: %g, want %g", i, g, w))
			}
		}
	}
	if nbad > 0 {
		return fmt.Sprintf("%d of %d elements differ: %s", nbad, got.Len(), strings.Join(bad, "; "))
	}
	return ""
}

func isInf(v float64) bool { return v > 1.7976931348623157e308 || v < -1.7976931348623157e308 }

// OpCount is how many node tests exercise one supported op.
type OpCount struct {
	// OpType is the operator name.
	OpType string
	// Family is the op family (source file) implementing it.
	Family string
	// Run is the number of node tests containing the op that the evaluator runs (and must pass).
	Run int
	// Total is the number of node tests in the directory containing the op.
	Total int
}

// OpCoverage counts, for every supported op, the node tests under testsDir
// whose graph contains it: how many the evaluator runs and how many exist.
func OpCoverage(testsDir string) ([]OpCount, error) {
	tests, err := LoadNodeTests(testsDir)
	if err != nil {
		return nil, err
	}
	var res []OpCount
	for _, op := range Ops() {
		oc := OpCount{OpType: op.OpType, Family: op.Family}
		for _, nt := range tests {
			for _, o := range nt.Ops {
				if o == op.OpType {
					oc.Total++
					if nt.Skip == "" {
						oc.Run++
					}
				}
			}
		}
		res = append(res, oc)
	}
	return res, nil
}
