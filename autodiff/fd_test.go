package autodiff

import (
	"fmt"
	"math"
	"math/rand"
	"testing"

	"github.com/onnxloss/onnxloss/graphedit"
	"github.com/onnxloss/onnxloss/internal/goldens"
	"github.com/onnxloss/onnxloss/onnxpb"
	"github.com/onnxloss/onnxloss/verify/eval"
)

// in describes one input of a rule test: a float64 parameter (random data,
// differentiated), a constant float input (Const), or an int64 constant
// (Ints). An input with Empty is left out (an optional input skipped).
type in struct {
	Shape []int64
	// Ints makes the input an int64 constant with these values.
	Ints []int64
	// Floats makes the input a float constant (not differentiated).
	Floats []float64
	// Positive draws parameter values in [0.5, 2] (for Log, Sqrt, Pow bases).
	Positive bool
	// Empty leaves the input out.
	Empty bool
	// Bool makes the input a bool constant from Ints (0/1).
	Bool bool
	// Scale multiplies random parameter values (0 means 1).
	Scale float64
}

type ruleCase struct {
	name  string
	op    string
	opset int64
	attrs []*onnxpb.AttributeProto
	ins   []in
	// nOut is the number of node outputs (default 1); the loss weighs every
	// float output.
	nOut int
	// skipOut lists outputs left out of the loss.
	skipOut []int
	// dynamic lists inputs passed through Reshape(x, Shape(x)), whose dims
	// the engine cannot know statically.
	dynamic []int
}

// buildCase makes a float64 model computing loss = sum_k sum(out_k * R_k)
// with random R_k (so every output element gets a different weight), and
// returns it with the names of its parameters.
func buildCase(t *testing.T, rc ruleCase, rng *rand.Rand) (*onnxpb.ModelProto, []string) {
	t.Helper()
	opset := rc.opset
	if opset == 0 {
		opset = 17
	}
	mp := &onnxpb.ModelProto{
		IrVersion:   ptr(goldens.IRVersion(opset)),
		OpsetImport: []*onnxpb.OperatorSetIdProto{{Domain: ptr(""), Version: ptr(opset)}},
		Graph:       &onnxpb.GraphProto{Name: ptr("rule_test")},
	}
	m := &graphedit.Model{Proto: mp}
	var params, inputs []string
	for i, x := range rc.ins {
		if x.Empty {
			inputs = append(inputs, "")
			continue
		}
		name := fmt.Sprintf("in%d", i)
		n := int(numel(x.Shape))
		var tp *onnxpb.TensorProto
		switch {
		case x.Bool:
			tp = &onnxpb.TensorProto{Name: ptr(name), Dims: x.Shape, DataType: ptr(int32(onnxpb.TensorProto_BOOL))}
			for _, v := range x.Ints {
				tp.Int32Data = append(tp.Int32Data, int32(v))
			}
		case x.Ints != nil:
			tp = graphedit.Int64Tensor(name, x.Shape, x.Ints)
		case x.Floats != nil:
			tp = &onnxpb.TensorProto{Name: ptr(name), Dims: x.Shape, DataType: ptr(int32(onnxpb.TensorProto_DOUBLE)), DoubleData: x.Floats}
		default:
			d := make([]float64, n)
			for k := range d {
				if x.Positive {
					d[k] = 0.5 + 1.5*rng.Float64()
				} else {
					d[k] = rng.NormFloat64()
				}
				if x.Scale != 0 {
					d[k] *= x.Scale
				}
			}
			tp = &onnxpb.TensorProto{Name: ptr(name), Dims: x.Shape, DataType: ptr(int32(onnxpb.TensorProto_DOUBLE)), DoubleData: d}
			params = append(params, name)
		}
		if err := m.AddInitializer(tp); err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, name)
	}
	nOut := max(rc.nOut, 1)
	outs := make([]string, nOut)
	for i := range outs {
		outs[i] = fmt.Sprintf("out%d", i)
	}
	for _, i := range rc.dynamic {
		sh, dyn := fmt.Sprintf("dyn_shape%d", i), fmt.Sprintf("dyn%d", i)
		m.AddNode(&onnxpb.NodeProto{Name: ptr(sh), OpType: ptr("Shape"), Input: []string{inputs[i]}, Output: []string{sh}})
		m.AddNode(&onnxpb.NodeProto{Name: ptr(dyn), OpType: ptr("Reshape"), Input: []string{inputs[i], sh}, Output: []string{dyn}})
		inputs[i] = dyn
	}
	m.AddNode(&onnxpb.NodeProto{Name: ptr("node"), OpType: ptr(rc.op), Input: inputs, Output: outs, Attribute: rc.attrs})
	// The weights R_k get their shapes at run time: R_k = sin(out_k * 0 +
	// index pattern) would need shapes; instead weigh by a fixed elementwise
	// function of the output value itself, cos(3 out) + 2 out, whose
	// derivative is nowhere constant.
	b := graphedit.NewBuilder(m, "test")
	var terms []string
	for k, o := range outs {
		skip := false
		for _, s := range rc.skipOut {
			if s == k {
				skip = true
			}
		}
		if skip {
			continue
		}
		three := b.Float64("three", []int64{}, []float64{3})
		two := b.Float64("two", []int64{}, []float64{2})
		w := b.Op("Add", "weighted", []string{
			b.Op("Cos", "cos", []string{b.Op("Mul", "three_out", []string{o, three})}),
			b.Op("Mul", "two_out", []string{o, two}),
		})
		terms = append(terms, b.ReduceSum("term", w, nil, false))
	}
	loss := terms[0]
	if len(terms) > 1 {
		loss = b.Op("Sum", "loss_sum", terms)
	}
	m.AddNode(&onnxpb.NodeProto{Name: ptr("loss_id"), OpType: ptr("Identity"), Input: []string{loss}, Output: []string{"loss"}})
	mp.Graph.Output = append(mp.Graph.Output, graphedit.TensorValueInfo("loss", graphedit.ValueType{Elem: onnxpb.TensorProto_DOUBLE, Shape: []graphedit.Dim{}}))
	return mp, params
}

func ptr[T any](v T) *T { return &v }

// checkRule compares the rule's gradients with central differences of the
// float64 loss. h = 1e-5 keeps the truncation error (~h^2 |f”'|) and the
// rounding error (~1e-16 |f| / h) both near 1e-10; the tolerance 1e-6
// relative to max(1, |grad|) leaves room for the curvature of the test
// losses (cos(3x) terms) and still catches any wrong factor or sign.
func checkRule(t *testing.T, rc ruleCase) {
	t.Helper()
	rng := rand.New(rand.NewSource(int64(len(rc.name)) * 7919))
	mp, params := buildCase(t, rc, rng)
	fwd := cloneModel(mp)
	grads, err := Gradients(mp, "loss", params)
	if err != nil {
		t.Fatalf("Gradients: %v", err)
	}
	res, err := eval.Run(mp, "", nil, grads)
	if err != nil {
		t.Fatalf("evaluating the gradients: %v", err)
	}
	sess, err := eval.NewSession(fwd, "")
	if err != nil {
		t.Fatal(err)
	}
	checkInferredShapes(t, fwd, sess, max(rc.nOut, 1))
	lossAt := func() float64 {
		out, err := sess.Run(nil, []string{"loss"})
		if err != nil {
			t.Fatalf("forward: %v", err)
		}
		return out["loss"].Float64s()[0]
	}
	for pi, p := range params {
		got := res[grads[pi]]
		var tp *onnxpb.TensorProto
		for _, x := range fwd.Graph.Initializer {
			if x.GetName() == p {
				tp = x
			}
		}
		if !slicesEqual(got.Shape(), tp.GetDims()) {
			t.Fatalf("%s: gradient shape %v, parameter shape %v", p, got.Shape(), tp.GetDims())
		}
		gd := got.AsFloat64()
		const h = 1e-5
		for k := range tp.DoubleData {
			orig := tp.DoubleData[k]
			tp.DoubleData[k] = orig + h
			sess = mustSession(t, fwd)
			up := lossAt()
			tp.DoubleData[k] = orig - h
			sess = mustSession(t, fwd)
			down := lossAt()
			tp.DoubleData[k] = orig
			fd := (up - down) / (2 * h)
			if math.IsNaN(gd[k]) || math.Abs(gd[k]-fd) > 1e-6*math.Max(1, math.Abs(fd)) {
				t.Fatalf("%s[%d]: rule gives %.10g, finite differences %.10g", p, k, gd[k], fd)
			}
		}
	}
	checked[rc.op] = true
}

// checkInferredShapes compares what the engine infers statically about the
// node's outputs with the shapes the evaluator computes: a wrong static dim
// would make Unbroadcast reduce the wrong axes.
func checkInferredShapes(t *testing.T, mp *onnxpb.ModelProto, sess *eval.Session, nOut int) {
	t.Helper()
	g := newGraph(&graphedit.Model{Proto: cloneModel(mp)})
	var outs []string
	for i := 0; i < nOut; i++ {
		outs = append(outs, fmt.Sprintf("out%d", i))
	}
	res, err := sess.Run(nil, outs)
	if err != nil {
		t.Fatalf("forward: %v", err)
	}
	for _, o := range outs {
		s, real := g.shape(o), res[o].Shape()
		if !s.Known {
			continue
		}
		if len(s.Dims) != len(real) {
			t.Fatalf("%s: inferred rank %d (%v), evaluated shape %v", o, len(s.Dims), s.Dims, real)
		}
		for i, d := range s.Dims {
			if d >= 0 && d != real[i] {
				t.Fatalf("%s: inferred shape %v, evaluated %v", o, s.Dims, real)
			}
		}
	}
}

func mustSession(t *testing.T, mp *onnxpb.ModelProto) *eval.Session {
	s, err := eval.NewSession(mp, "")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func slicesEqual(a, b []int64) bool {
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
