package eval

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onnxloss/onnxloss/onnxpb"
	"google.golang.org/protobuf/proto"
)

func runOne(t *testing.T, m *onnxpb.ModelProto, feeds map[string]*Tensor) map[string]*Tensor {
	t.Helper()
	out, err := Run(m, "", feeds, nil)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestBroadcastAdd(t *testing.T) {
	seq := func(shape ...int64) *Tensor {
		d := make([]float32, NumElements(shape))
		for i := range d {
			d[i] = float32(i)
		}
		return NewFloat32(shape, d)
	}
	cases := []struct {
		name   string
		a, b   *Tensor
		shape  []int64
		sample map[int]float32 // flat output index -> value
	}{
		{"same", seq(2, 3), seq(2, 3), []int64{2, 3}, map[int]float32{5: 10}},
		{"scalar", seq(2, 3), seq(), []int64{2, 3}, map[int]float32{4: 4}},
		{"row", seq(2, 3), seq(3), []int64{2, 3}, map[int]float32{4: 5}},
		{"column", seq(2, 3), seq(2, 1), []int64{2, 3}, map[int]float32{4: 5, 2: 2}},
		{"outer", seq(3, 1), seq(1, 4), []int64{3, 4}, map[int]float32{11: 5, 4: 1}},
		{"scalar-left", seq(1), seq(2, 2), []int64{2, 2}, map[int]float32{3: 3}},
		{"middle", seq(2, 1, 3), seq(4, 1), []int64{2, 4, 3}, map[int]float32{23: 8, 3: 1}},
		{"rank0-both", seq(), seq(), []int64{}, map[int]float32{0: 0}},
		{"zero-size", seq(0, 3), seq(3), []int64{0, 3}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := model(17, []string{"a", "b"}, []string{"y"}, nil, node("Add", []string{"a", "b"}, []string{"y"}))
			y := runOne(t, m, map[string]*Tensor{"a": c.a, "b": c.b})["y"]
			if !shapeEq(y.Shape(), c.shape) {
				t.Fatalf("shape %v, want %v", y.Shape(), c.shape)
			}
			for i, v := range c.sample {
				if got := y.Float32s()[i]; got != v {
					t.Errorf("y[%d] = %v, want %v", i, got, v)
				}
			}
		})
	}
	m := model(17, []string{"a", "b"}, []string{"y"}, nil, node("Add", []string{"a", "b"}, []string{"y"}))
	_, err := Run(m, "", map[string]*Tensor{"a": seq(2, 3), "b": seq(4)}, nil)
	if err == nil || !strings.Contains(err.Error(), `node "Add_y" (Add)`) || !strings.Contains(err.Error(), "broadcastable") {
		t.Errorf("shape mismatch error = %v", err)
	}
}

// TestOpsetForms checks the attribute-vs-input forms of ops across opsets.
func TestOpsetForms(t *testing.T) {
	x := NewFloat32([]int64{2, 3}, []float32{1, 2, 3, 4, 5, 6})
	ax := NewInt64([]int64{1}, []int64{1}).Proto("axes")
	x3 := NewFloat32([]int64{1, 2, 2}, []float32{1, 2, 3, 4})
	cases := []struct {
		name  string
		m     *onnxpb.ModelProto
		feeds map[string]*Tensor
		shape []int64
		want  []float64
	}{
		{"ReduceSum-11-attr", model(11, []string{"x"}, []string{"y"}, nil, node("ReduceSum", []string{"x"}, []string{"y"}, attrInts("axes", 1), attrInt("keepdims", 0))),
			map[string]*Tensor{"x": x}, []int64{2}, []float64{6, 15}},
		{"ReduceSum-13-input", model(13, []string{"x"}, []string{"y"}, []*onnxpb.TensorProto{ax}, node("ReduceSum", []string{"x", "axes"}, []string{"y"}, attrInt("keepdims", 0))),
			map[string]*Tensor{"x": x}, []int64{2}, []float64{6, 15}},
		{"ReduceSum-13-noaxes", model(13, []string{"x"}, []string{"y"}, nil, node("ReduceSum", []string{"x"}, []string{"y"})),
			map[string]*Tensor{"x": x}, []int64{1, 1}, []float64{21}},
		{"ReduceMean-17-attr", model(17, []string{"x"}, []string{"y"}, nil, node("ReduceMean", []string{"x"}, []string{"y"}, attrInts("axes", 0))),
			map[string]*Tensor{"x": x}, []int64{1, 3}, []float64{2.5, 3.5, 4.5}},
		{"ReduceMean-18-input", model(18, []string{"x"}, []string{"y"}, []*onnxpb.TensorProto{NewInt64([]int64{1}, []int64{0}).Proto("axes")}, node("ReduceMean", []string{"x", "axes"}, []string{"y"})),
			map[string]*Tensor{"x": x}, []int64{1, 3}, []float64{2.5, 3.5, 4.5}},
		{"Unsqueeze-11-attr", model(11, []string{"x"}, []string{"y"}, nil, node("Unsqueeze", []string{"x"}, []string{"y"}, attrInts("axes", 1))),
			map[string]*Tensor{"x": x}, []int64{2, 1, 3}, []float64{1, 2, 3, 4, 5, 6}},
		{"Unsqueeze-13-input", model(13, []string{"x"}, []string{"y"}, []*onnxpb.TensorProto{ax}, node("Unsqueeze", []string{"x", "axes"}, []string{"y"})),
			map[string]*Tensor{"x": x}, []int64{2, 1, 3}, []float64{1, 2, 3, 4, 5, 6}},
		{"Squeeze-11-attr", model(11, []string{"x"}, []string{"y"}, nil, node("Squeeze", []string{"x"}, []string{"y"}, attrInts("axes", 0))),
			map[string]*Tensor{"x": x3}, []int64{2, 2}, []float64{1, 2, 3, 4}},
		{"Squeeze-13-input", model(13, []string{"x"}, []string{"y"}, []*onnxpb.TensorProto{NewInt64([]int64{1}, []int64{0}).Proto("axes")}, node("Squeeze", []string{"x", "axes"}, []string{"y"})),
			map[string]*Tensor{"x": x3}, []int64{2, 2}, []float64{1, 2, 3, 4}},
		// Softmax before 13 coerces to 2-D at axis 1: over the last two dims jointly.
		{"Softmax-11-coerce", model(11, []string{"x"}, []string{"y"}, nil, node("Softmax", []string{"x"}, []string{"y"})),
			map[string]*Tensor{"x": NewFloat32([]int64{1, 2, 2}, []float32{0, 0, 0, 0})}, []int64{1, 2, 2}, []float64{0.25, 0.25, 0.25, 0.25}},
		{"Softmax-13-axis", model(13, []string{"x"}, []string{"y"}, nil, node("Softmax", []string{"x"}, []string{"y"}, attrInt("axis", 1))),
			map[string]*Tensor{"x": NewFloat32([]int64{1, 2, 2}, []float32{0, 0, 0, 0})}, []int64{1, 2, 2}, []float64{0.5, 0.5, 0.5, 0.5}},
		{"Clip-6-attr", model(6, []string{"x"}, []string{"y"}, nil, node("Clip", []string{"x"}, []string{"y"}, attrFloat("min", 2), attrFloat("max", 4))),
			map[string]*Tensor{"x": x}, []int64{2, 3}, []float64{2, 2, 3, 4, 4, 4}},
		{"Clip-11-input", model(11, []string{"x", "lo"}, []string{"y"}, nil, node("Clip", []string{"x", "lo", ""}, []string{"y"})),
			map[string]*Tensor{"x": x, "lo": NewFloat32([]int64{}, []float32{3})}, []int64{2, 3}, []float64{3, 3, 3, 4, 5, 6}},
		{"Split-11-attr", model(11, []string{"x"}, []string{"a"}, nil, node("Split", []string{"x"}, []string{"a", "b"}, attrInt("axis", 1), attrInts("split", 1, 2))),
			map[string]*Tensor{"x": x}, []int64{2, 1}, []float64{1, 4}},
		{"Split-18-num_outputs", model(18, []string{"x"}, []string{"b"}, nil, node("Split", []string{"x"}, []string{"a", "b"}, attrInt("axis", 1), attrInt("num_outputs", 2))),
			map[string]*Tensor{"x": x}, []int64{2, 1}, []float64{3, 6}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := runOne(t, c.m, c.feeds)
			var y *Tensor
			for _, v := range out {
				y = v
			}
			if !shapeEq(y.Shape(), c.shape) {
				t.Fatalf("shape %v, want %v", y.Shape(), c.shape)
			}
			for i, w := range c.want {
				if g := y.AsFloat64()[i]; math.Abs(g-w) > 1e-6 {
					t.Errorf("y[%d] = %v, want %v", i, g, w)
				}
			}
		})
	}
}

func TestErrors(t *testing.T) {
	m := model(17, []string{"x"}, []string{"y"}, nil, node("FancyOp", []string{"x"}, []string{"t"}),
		node("OtherOp", []string{"t"}, []string{"u"}), node("FancyOp", []string{"u"}, []string{"y"}))
	_, err := Run(m, "", map[string]*Tensor{"x": NewFloat32([]int64{1}, []float32{1})}, nil)
	// Every unsupported op is named at once, before anything runs.
	if err == nil || err.Error() != `the evaluator does not implement 2 operator(s) this model uses: FancyOp (2 nodes), OtherOp (node "OtherOp_u") (docs/OPS.md lists the supported ones)` {
		t.Errorf("unsupported op error = %v", err)
	}
	if u := UnsupportedOps(m); len(u) != 2 || u[0].OpType != "FancyOp" || u[0].Nodes != 2 || u[1].OpType != "OtherOp" {
		t.Errorf("UnsupportedOps = %v", u)
	}
	m = model(17, []string{"x"}, []string{"y"}, nil, node("Exp", []string{"x"}, []string{"y"}))
	if _, err = Run(m, "", nil, nil); err == nil || !strings.Contains(err.Error(), `missing feed for graph input "x"`) {
		t.Errorf("missing feed error = %v", err)
	}
	// Malformed: a Gather index out of range must be an error, not a panic.
	m = model(17, []string{"x", "i"}, []string{"y"}, nil, node("Gather", []string{"x", "i"}, []string{"y"}))
	if _, err = Run(m, "", map[string]*Tensor{"x": NewFloat32([]int64{2}, []float32{1, 2}), "i": NewInt64([]int64{1}, []int64{5})}, nil); err == nil {
		t.Error("out-of-range Gather did not fail")
	}
	if _, err = Run(&onnxpb.ModelProto{}, "", nil, nil); err == nil {
		t.Error("empty model did not fail")
	}
}

// TestOnlyNeeded checks that only nodes needed for the requested outputs run
// and that unsorted node order works.
func TestOnlyNeeded(t *testing.T) {
	m := model(17, []string{"x"}, []string{"b", "c"}, nil,
		node("Exp", []string{"a"}, []string{"b"}),
		node("Neg", []string{"x"}, []string{"a"}),
		node("FancyOp", []string{"x"}, []string{"c"}),
	)
	out, err := Run(m, "", map[string]*Tensor{"x": NewFloat32([]int64{1}, []float32{0})}, []string{"b"})
	if err != nil {
		t.Fatal(err)
	}
	if got := out["b"].Float32s()[0]; got != 1 {
		t.Errorf("b = %v, want 1", got)
	}
}

func TestInPlaceDoesNotClobberFeeds(t *testing.T) {
	x := NewFloat32([]int64{3}, []float32{1, 2, 3})
	m := model(17, []string{"x"}, []string{"z", "a"}, nil,
		node("Neg", []string{"x"}, []string{"a"}),
		node("Exp", []string{"a"}, []string{"b"}),
		node("Log", []string{"b"}, []string{"z"}),
	)
	out := runOne(t, m, map[string]*Tensor{"x": x})
	if x.Float32s()[1] != 2 || out["a"].Float32s()[1] != -2 || math.Abs(float64(out["z"].Float32s()[1])+2) > 1e-6 {
		t.Errorf("x %v, a %v, z %v", x, out["a"], out["z"])
	}
}

func TestTensorProtoRoundTrip(t *testing.T) {
	for _, x := range []*Tensor{
		NewFloat32([]int64{2, 2}, []float32{1, -2, 3.5, float32(math.Inf(1))}),
		NewInt64([]int64{}, []int64{-7}),
		NewBool([]int64{3}, []bool{true, false, true}),
		NewFloat16([]int64{2}, []uint16{f32ToF16(1.5), f32ToF16(-2)}),
		NewFloat64([]int64{0, 3}, nil),
	} {
		y, err := FromProto(x.Proto("t"), "")
		if err != nil {
			t.Fatal(err)
		}
		if msg := Compare(y, x, 0, 0); msg != "" {
			t.Errorf("%v: %s", x, msg)
		}
	}
}

// ExampleRun evaluates a two-node graph: y = ReduceSum(Softmax(x, axis 1), axes [1]).
func ExampleRun() {
	str := proto.String
	m := &onnxpb.ModelProto{
		IrVersion:   proto.Int64(8),
		OpsetImport: []*onnxpb.OperatorSetIdProto{{Domain: str(""), Version: proto.Int64(17)}},
		Graph: &onnxpb.GraphProto{
			Input:       []*onnxpb.ValueInfoProto{{Name: str("x")}},
			Output:      []*onnxpb.ValueInfoProto{{Name: str("y")}},
			Initializer: []*onnxpb.TensorProto{NewInt64([]int64{1}, []int64{1}).Proto("axes")},
			Node: []*onnxpb.NodeProto{
				{OpType: str("Softmax"), Input: []string{"x"}, Output: []string{"p"}},
				{OpType: str("ReduceSum"), Input: []string{"p", "axes"}, Output: []string{"y"}},
			},
		},
	}
	x := NewFloat32([]int64{2, 3}, []float32{1, 2, 3, 0, 0, 0})
	out, err := Run(m, "", map[string]*Tensor{"x": x}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(out["y"].Shape(), out["y"].Float32s())
	// Output: [2 1] [1 1]
}

func TestExternalData(t *testing.T) {
	dir := t.TempDir()
	x := NewFloat32([]int64{2}, []float32{1.5, -3})
	raw := x.Proto("").GetRawData()
	if err := os.WriteFile(filepath.Join(dir, "w.bin"), append([]byte("pad!"), raw...), 0o644); err != nil {
		t.Fatal(err)
	}
	tp := x.Proto("w")
	tp.RawData = nil
	loc := onnxpb.TensorProto_EXTERNAL
	tp.DataLocation = &loc
	tp.ExternalData = []*onnxpb.StringStringEntryProto{
		{Key: proto.String("location"), Value: proto.String("w.bin")},
		{Key: proto.String("offset"), Value: proto.String("4")},
		{Key: proto.String("length"), Value: proto.String("8")},
	}
	y, err := FromProto(tp, dir)
	if err != nil {
		t.Fatal(err)
	}
	if msg := Compare(y, x, 0, 0); msg != "" {
		t.Error(msg)
	}
	if _, err := FromProto(tp, t.TempDir()); err == nil {
		t.Error("missing external file did not fail")
	}
}
