package graphedit_test

import (
	"fmt"
	"math"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/onnxloss/onnxloss/graphedit"
	"github.com/onnxloss/onnxloss/internal/goldens"
	"github.com/onnxloss/onnxloss/internal/refs"
	"github.com/onnxloss/onnxloss/onnxpb"
)

// nd is a dense row-major float64 tensor, the Go reference.
type nd struct {
	shape []int
	data  []float64
}

func (t nd) strides() []int {
	s := make([]int, len(t.shape))
	k := 1
	for i := len(t.shape) - 1; i >= 0; i-- {
		s[i] = k
		k *= t.shape[i]
	}
	return s
}

// index returns the multi-index of flat position p.
func (t nd) index(p int) []int {
	idx := make([]int, len(t.shape))
	for i := len(t.shape) - 1; i >= 0; i-- {
		idx[i] = p % t.shape[i]
		p /= t.shape[i]
	}
	return idx
}

func normAxes(axes []int64, rank int) map[int]bool {
	set := map[int]bool{}
	if axes == nil {
		for i := 0; i < rank; i++ {
			set[i] = true
		}
	}
	for _, a := range axes {
		if a < 0 {
			a += int64(rank)
		}
		set[int(a)] = true
	}
	return set
}

func refReduce(x nd, axes []int64, keep, mean bool) nd {
	set := normAxes(axes, len(x.shape))
	var outShape, keptShape []int
	for i, d := range x.shape {
		if set[i] {
			keptShape = append(keptShape, 1)
			if keep {
				outShape = append(outShape, 1)
			}
		} else {
			keptShape = append(keptShape, d)
			outShape = append(outShape, d)
		}
	}
	if outShape == nil {
		outShape = []int{}
	}
	k := nd{shape: keptShape}
	n := 1
	for _, d := range keptShape {
		n *= d
	}
	sum := make([]float64, n)
	cnt := make([]float64, n)
	ks := k.strides()
	for p, v := range x.data {
		q := 0
		for i, j := range x.index(p) {
			if !set[i] {
				q += j * ks[i]
			}
		}
		sum[q] += v
		cnt[q]++
	}
	if mean {
		for i := range sum {
			sum[i] /= cnt[i]
		}
	}
	return nd{shape: outShape, data: sum}
}

func refSoftmax(x nd, axis int, log bool) nd {
	if axis < 0 {
		axis += len(x.shape)
	}
	st := x.strides()[axis]
	out := make([]float64, len(x.data))
	for p := range x.data {
		if x.index(p)[axis] != 0 {
			continue
		}
		mx := math.Inf(-1)
		for j := 0; j < x.shape[axis]; j++ {
			mx = math.Max(mx, x.data[p+j*st])
		}
		s := 0.0
		for j := 0; j < x.shape[axis]; j++ {
			s += math.Exp(x.data[p+j*st] - mx)
		}
		for j := 0; j < x.shape[axis]; j++ {
			v := x.data[p+j*st] - mx
			if log {
				out[p+j*st] = v - math.Log(s)
			} else {
				out[p+j*st] = math.Exp(v) / s
			}
		}
	}
	return nd{shape: x.shape, data: out}
}

func reshaped(x nd, shape ...int) nd { return nd{shape: shape, data: x.data} }

// builderCase is one op the builder emits into a model and its reference.
type builderCase struct {
	name  string
	build func(b *graphedit.Builder, x string) string
	ref   func(x nd) nd
	// opType is the node that must carry the axes; axesInput reports, per
	// opset, whether they go as an input (else the "axes" attribute).
	opType    string
	axesInput func(opset int64) bool
	// transposes reports whether the op must be wrapped in Transposes.
	transposes func(opset int64) bool
}

var builderCases = []builderCase{
	{
		name:      "ReduceSum_axis1",
		build:     func(b *graphedit.Builder, x string) string { return b.ReduceSum("rs1", x, []int64{1}, false) },
		ref:       func(x nd) nd { return refReduce(x, []int64{1}, false, false) },
		opType:    "ReduceSum",
		axesInput: func(o int64) bool { return o >= 13 },
	},
	{
		name:      "ReduceSum_neg_keep",
		build:     func(b *graphedit.Builder, x string) string { return b.ReduceSum("rs2", x, []int64{-1, 0}, true) },
		ref:       func(x nd) nd { return refReduce(x, []int64{-1, 0}, true, false) },
		opType:    "ReduceSum",
		axesInput: func(o int64) bool { return o >= 13 },
	},
	{
		name:   "ReduceSum_all",
		build:  func(b *graphedit.Builder, x string) string { return b.ReduceSum("rs3", x, nil, false) },
		ref:    func(x nd) nd { return refReduce(x, nil, false, false) },
		opType: "ReduceSum",
	},
	{
		name:      "ReduceMean_axes23",
		build:     func(b *graphedit.Builder, x string) string { return b.ReduceMean("rm1", x, []int64{2, 3}, true) },
		ref:       func(x nd) nd { return refReduce(x, []int64{2, 3}, true, true) },
		opType:    "ReduceMean",
		axesInput: func(o int64) bool { return o >= 18 },
	},
	{
		name:   "ReduceMean_all",
		build:  func(b *graphedit.Builder, x string) string { return b.ReduceMean("rm2", x, nil, false) },
		ref:    func(x nd) nd { return refReduce(x, nil, false, true) },
		opType: "ReduceMean",
	},
	{
		name: "Squeeze",
		build: func(b *graphedit.Builder, x string) string {
			return b.Squeeze("sq", b.ReduceMean("sq_in", x, []int64{0, 2}, true), []int64{0, 2})
		},
		ref:       func(x nd) nd { return reshaped(refReduce(x, []int64{0, 2}, true, true), 3, 5) },
		opType:    "Squeeze",
		axesInput: func(o int64) bool { return o >= 13 },
	},
	{
		name: "Unsqueeze",
		build: func(b *graphedit.Builder, x string) string {
			return b.Unsqueeze("us", b.ReduceSum("us_in", x, []int64{1, 2}, false), []int64{0, -1})
		},
		ref:       func(x nd) nd { return reshaped(refReduce(x, []int64{1, 2}, false, false), 1, 2, 5, 1) },
		opType:    "Unsqueeze",
		axesInput: func(o int64) bool { return o >= 13 },
	},
	{
		name:       "Softmax_axis1",
		build:      func(b *graphedit.Builder, x string) string { return b.Softmax("sm", x, 1, 4) },
		ref:        func(x nd) nd { return refSoftmax(x, 1, false) },
		opType:     "Softmax",
		transposes: func(o int64) bool { return o < 13 },
	},
	{
		name:       "LogSoftmax_axis1",
		build:      func(b *graphedit.Builder, x string) string { return b.LogSoftmax("lsm", x, 1, 4) },
		ref:        func(x nd) nd { return refSoftmax(x, 1, true) },
		opType:     "LogSoftmax",
		transposes: func(o int64) bool { return o < 13 },
	},
	{
		name:       "LogSoftmax_axis_minus3",
		build:      func(b *graphedit.Builder, x string) string { return b.LogSoftmax("lsm3", x, -3, 4) },
		ref:        func(x nd) nd { return refSoftmax(x, 1, true) },
		opType:     "LogSoftmax",
		transposes: func(o int64) bool { return o < 13 },
	},
	{
		name:   "Softmax_last",
		build:  func(b *graphedit.Builder, x string) string { return b.Softmax("sml", x, -1, 4) },
		ref:    func(x nd) nd { return refSoftmax(x, 3, false) },
		opType: "Softmax",
	},
	{
		name: "Cast_roundtrip",
		build: func(b *graphedit.Builder, x string) string {
			return b.Cast("c2", b.Cast("c1", x, onnxpb.TensorProto_DOUBLE), onnxpb.TensorProto_FLOAT)
		},
		ref:    func(x nd) nd { return x },
		opType: "Cast",
	},
}

var builderOpsets = []int64{11, 12, 13, 17, 18, 21}

// builderModel builds one model at opset with one output per case, from
// input x float32 [2,3,4,5]. It returns the model and the case outputs.
func builderModel(t *testing.T, opset int64) (*graphedit.Model, []string) {
	t.Helper()
	m := &graphedit.Model{Proto: &onnxpb.ModelProto{
		IrVersion:    ptr(goldens.IRVersion(opset)),
		ProducerName: ptr("graphedit-test"),
		OpsetImport:  []*onnxpb.OperatorSetIdProto{{Domain: ptr(""), Version: ptr(opset)}},
		Graph:        &onnxpb.GraphProto{Name: ptr(fmt.Sprintf("builders_o%d", opset))},
	}}
	m.AddInput(graphedit.TensorValueInfo("x", f32(2, 3, 4, 5)), -1)
	b := graphedit.NewBuilder(m, "t")
	if b.Opset != opset {
		t.Fatalf("builder opset %d, want %d", b.Opset, opset)
	}
	var outs []string
	x := testInput()
	for _, c := range builderCases {
		out := c.build(b, "x")
		// The checker wants graph outputs with shapes: the reference's.
		var ds []any
		for _, d := range c.ref(x).shape {
			ds = append(ds, d)
		}
		m.AddOutput(graphedit.TensorValueInfo(out, f32(ds...)), -1)
		outs = append(outs, out)
	}
	return m, outs
}

// Each node has the form its opset wants.
func TestBuilderForms(t *testing.T) {
	for _, opset := range builderOpsets {
		m, outs := builderModel(t, opset)
		for i, c := range builderCases {
			t.Run(fmt.Sprintf("opset%d/%s", opset, c.name), func(t *testing.T) {
				// Walk back from the output to the node of c.opType.
				n := m.Producer(outs[i])
				transposed := false
				for n != nil && n.GetOpType() != c.opType {
					if n.GetOpType() == "Transpose" {
						transposed = true
					}
					n = m.Producer(n.GetInput()[0])
				}
				if n == nil {
					t.Fatalf("no %s node behind %s", c.opType, outs[i])
				}
				if want := c.transposes != nil && c.transposes(opset); transposed != want {
					t.Errorf("wrapped in Transpose: %v, want %v", transposed, want)
				}
				var attrAxes []int64
				hasAttr := false
				for _, a := range n.GetAttribute() {
					if a.GetName() == "axes" {
						hasAttr, attrAxes = true, a.GetInts()
					}
				}
				hasInput := len(n.GetInput()) > 1
				if c.axesInput == nil {
					if hasAttr || hasInput {
						t.Errorf("%s without axes carries axes (attr %v, inputs %v)", c.opType, attrAxes, n.GetInput())
					}
					return
				}
				if want := c.axesInput(opset); hasInput != want || hasAttr == want {
					t.Errorf("axes as input: %v, as attribute: %v; want input %v", hasInput, hasAttr, want)
				}
				if hasInput {
					init := m.Initializer(n.GetInput()[1])
					if init == nil || init.GetDataType() != int32(onnxpb.TensorProto_INT64) || len(init.GetDims()) != 1 {
						t.Errorf("axes input %q is not a 1-D int64 initializer", n.GetInput()[1])
					}
				}
			})
		}
	}
}

func testInput() nd {
	x := nd{shape: []int{2, 3, 4, 5}, data: make([]float64, 120)}
	for i := range x.data {
		// float32-exact values, varied signs and magnitudes
		x.data[i] = float64(float32(3 * math.Sin(float64(i)*0.7+0.3)))
	}
	return x
}

// The built models compute in ONNX Runtime what the Go reference computes,
// at every opset, and pass the onnx checker at opsets it knows (≤ 17).
func TestBuildersRunInORT(t *testing.T) {
	dir := t.TempDir()
	x := testInput()
	var jobs []refs.Job
	var checked []string
	var allOuts [][]string
	for _, opset := range builderOpsets {
		m, outs := builderModel(t, opset)
		path := filepath.Join(dir, fmt.Sprintf("builders_o%d.onnx", opset))
		if err := m.Save(path); err != nil {
			t.Fatal(err)
		}
		if opset <= 17 {
			checked = append(checked, path)
		}
		jobs = append(jobs, refs.Job{Model: path, Inputs: map[string]refs.Tensor{"x": refs.FloatTensor("float32", x.shape, x.data)}})
		allOuts = append(allOuts, outs)
	}
	for p, msg := range refs.CheckModels(t, checked) {
		t.Errorf("onnx checker rejects %s: %s", filepath.Base(p), msg)
	}
	res := refs.RunORT(t, jobs)
	for k, opset := range builderOpsets {
		if res[k].Error != "" {
			t.Errorf("opset %d: ONNX Runtime: %s", opset, res[k].Error)
			continue
		}
		for i, c := range builderCases {
			want := c.ref(x)
			got, ok := res[k].Outputs[allOuts[k][i]]
			if !ok {
				t.Errorf("opset %d %s: no output %s", opset, c.name, allOuts[k][i])
				continue
			}
			if !reflect.DeepEqual(got.Dims, want.shape) && !(len(got.Dims) == 0 && len(want.shape) == 0) {
				t.Errorf("opset %d %s: shape %v, want %v", opset, c.name, got.Dims, want.shape)
				continue
			}
			vals, err := got.Floats()
			if err != nil {
				t.Fatal(err)
			}
			for j := range vals {
				if d := math.Abs(vals[j] - want.data[j]); d > 1e-5+1e-5*math.Abs(want.data[j]) {
					t.Errorf("opset %d %s: [%d] = %g, want %g", opset, c.name, j, vals[j], want.data[j])
					break
				}
			}
		}
	}
}

// NewBuilder names every node and value Prefix/…, uniquely.
func TestBuilderNames(t *testing.T) {
	m, _ := builderModel(t, 13)
	seen := map[string]bool{}
	for _, n := range m.Graph().GetNode() {
		for _, s := range append([]string{n.GetName()}, n.GetOutput()...) {
			if len(s) < 2 || s[:2] != "t/" {
				t.Errorf("name %q does not start with the prefix", s)
			}
			if seen[s] {
				t.Errorf("name %q used twice", s)
			}
			seen[s] = true
		}
	}
	b := graphedit.NewBuilder(m, "t")
	if got := b.Name("rs1"); got != "t/rs1_1" {
		t.Errorf("Name(rs1) = %q, want t/rs1_1", got)
	}
	outs := b.OpN("Split", "part", 2, []string{"x"}, graphedit.AttrInt("axis", 1))
	if len(outs) != 2 || outs[0] == outs[1] {
		t.Errorf("OpN outputs %v", outs)
	}
}
