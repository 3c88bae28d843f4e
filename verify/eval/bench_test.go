package eval

import (
	"math/rand"
	"testing"

	"github.com/onnxloss/onnxloss/onnxpb"
	"google.golang.org/protobuf/proto"
)

const benchN, benchC = 65536, 1000

// node builds a NodeProto.
func node(op string, in, out []string, attrs ...*onnxpb.AttributeProto) *onnxpb.NodeProto {
	return &onnxpb.NodeProto{OpType: proto.String(op), Name: proto.String(op + "_" + out[0]), Input: in, Output: out, Attribute: attrs}
}

func attrInt(name string, v int64) *onnxpb.AttributeProto {
	t := onnxpb.AttributeProto_INT
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: &t, I: proto.Int64(v)}
}

func attrInts(name string, v ...int64) *onnxpb.AttributeProto {
	t := onnxpb.AttributeProto_INTS
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: &t, Ints: v}
}

func attrFloat(name string, v float32) *onnxpb.AttributeProto {
	t := onnxpb.AttributeProto_FLOAT
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: &t, F: proto.Float32(v)}
}

// model builds a model of the given opset; inputs and outputs are value names
// (types are not needed by the evaluator).
func model(opset int64, inputs, outputs []string, inits []*onnxpb.TensorProto, nodes ...*onnxpb.NodeProto) *onnxpb.ModelProto {
	g := &onnxpb.GraphProto{Name: proto.String("g"), Node: nodes, Initializer: inits}
	for _, n := range inputs {
		g.Input = append(g.Input, &onnxpb.ValueInfoProto{Name: proto.String(n)})
	}
	for _, n := range outputs {
		g.Output = append(g.Output, &onnxpb.ValueInfoProto{Name: proto.String(n)})
	}
	return &onnxpb.ModelProto{IrVersion: proto.Int64(8), Graph: g,
		OpsetImport: []*onnxpb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(opset)}}}
}

var benchLogits *Tensor

func logits(b *testing.B) *Tensor {
	if benchLogits == nil {
		r := rand.New(rand.NewSource(1))
		d := make([]float32, benchN*benchC)
		for i := range d {
			d[i] = float32(r.NormFloat64() * 3)
		}
		benchLogits = NewFloat32([]int64{benchN, benchC}, d)
	}
	return benchLogits
}

func benchModel(b *testing.B, m *onnxpb.ModelProto, feeds map[string]*Tensor) {
	s, err := NewSession(m, "")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(benchN * benchC * 4))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.Run(feeds, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkExp(b *testing.B) {
	benchModel(b, model(17, []string{"x"}, []string{"y"}, nil, node("Exp", []string{"x"}, []string{"y"})),
		map[string]*Tensor{"x": logits(b)})
}

func BenchmarkLog(b *testing.B) {
	x := logits(b)
	a := make([]float32, x.Len())
	for i, v := range x.Float32s() {
		if v < 0 {
			v = -v
		}
		a[i] = v + 1e-3
	}
	benchModel(b, model(17, []string{"x"}, []string{"y"}, nil, node("Log", []string{"x"}, []string{"y"})),
		map[string]*Tensor{"x": NewFloat32(x.Shape(), a)})
}

func BenchmarkSigmoid(b *testing.B) {
	benchModel(b, model(17, []string{"x"}, []string{"y"}, nil, node("Sigmoid", []string{"x"}, []string{"y"})),
		map[string]*Tensor{"x": logits(b)})
}

func BenchmarkAddSameShape(b *testing.B) {
	benchModel(b, model(17, []string{"x"}, []string{"y"}, nil, node("Add", []string{"x", "x"}, []string{"y"})),
		map[string]*Tensor{"x": logits(b)})
}

func BenchmarkMulRowBroadcast(b *testing.B) {
	w := make([]float32, benchC)
	for i := range w {
		w[i] = float32(i)
	}
	benchModel(b, model(17, []string{"x", "w"}, []string{"y"}, nil, node("Mul", []string{"x", "w"}, []string{"y"})),
		map[string]*Tensor{"x": logits(b), "w": NewFloat32([]int64{benchC}, w)})
}

func BenchmarkLogSoftmaxAxis1(b *testing.B) {
	benchModel(b, model(17, []string{"x"}, []string{"y"}, nil, node("LogSoftmax", []string{"x"}, []string{"y"}, attrInt("axis", 1))),
		map[string]*Tensor{"x": logits(b)})
}

func BenchmarkReduceSumAxis1(b *testing.B) {
	axes := NewInt64([]int64{1}, []int64{1}).Proto("axes")
	benchModel(b, model(17, []string{"x"}, []string{"y"}, []*onnxpb.TensorProto{axes},
		node("ReduceSum", []string{"x", "axes"}, []string{"y"}, attrInt("keepdims", 0))),
		map[string]*Tensor{"x": logits(b)})
}

func labels(n, c int) *Tensor {
	r := rand.New(rand.NewSource(2))
	l := make([]int64, n)
	for i := range l {
		l[i] = int64(r.Intn(c))
	}
	return NewInt64([]int64{int64(n)}, l)
}

// cbFocalModel is the shape of the subgraph inject emits for cb_focal (opset 17):
// t = OneHot(y); bce = softplus(x) - x*t; mod = exp(-γ(t·x + softplus(-x)));
// loss = Σ_p w_y · Σ_c mod·bce / N.
func cbFocalModel(c int) *onnxpb.ModelProto {
	w := make([]float32, c)
	for i := range w {
		w[i] = 1 + float32(i%7)/7
	}
	inits := []*onnxpb.TensorProto{
		NewFloat32([]int64{int64(c)}, w).Proto("cw"),
		NewInt64([]int64{}, []int64{int64(c)}).Proto("depth"),
		NewFloat32([]int64{2}, []float32{0, 1}).Proto("onoff"),
		NewFloat32([]int64{}, []float32{-2}).Proto("neg_gamma"),
		NewInt64([]int64{1}, []int64{1}).Proto("ax1"),
	}
	return model(17, []string{"x", "y"}, []string{"loss"}, inits,
		node("OneHot", []string{"y", "depth", "onoff"}, []string{"t"}, attrInt("axis", -1)),
		node("Softplus", []string{"x"}, []string{"sp"}),
		node("Mul", []string{"x", "t"}, []string{"xt"}),
		node("Sub", []string{"sp", "xt"}, []string{"bce"}),
		node("Neg", []string{"x"}, []string{"nx"}),
		node("Softplus", []string{"nx"}, []string{"spn"}),
		node("Add", []string{"xt", "spn"}, []string{"z"}),
		node("Mul", []string{"z", "neg_gamma"}, []string{"gz"}),
		node("Exp", []string{"gz"}, []string{"mod"}),
		node("Mul", []string{"mod", "bce"}, []string{"fl"}),
		node("ReduceSum", []string{"fl", "ax1"}, []string{"rowsum"}, attrInt("keepdims", 0)),
		node("Gather", []string{"cw", "y"}, []string{"wy"}),
		node("Mul", []string{"rowsum", "wy"}, []string{"lp"}),
		node("ReduceMean", []string{"lp"}, []string{"loss"}, attrInt("keepdims", 0)),
	)
}

func BenchmarkCBFocal(b *testing.B) {
	benchModel(b, cbFocalModel(benchC), map[string]*Tensor{"x": logits(b), "y": labels(benchN, benchC)})
}

// BenchmarkSoftmaxCE is a weighted cross-entropy subgraph: LogSoftmax, GatherElements, weights.
func BenchmarkSoftmaxCE(b *testing.B) {
	w := make([]float32, benchC)
	for i := range w {
		w[i] = 1
	}
	inits := []*onnxpb.TensorProto{NewFloat32([]int64{benchC}, w).Proto("cw"), NewInt64([]int64{1}, []int64{1}).Proto("ax1")}
	m := model(17, []string{"x", "y"}, []string{"loss"}, inits,
		node("LogSoftmax", []string{"x"}, []string{"lp"}, attrInt("axis", 1)),
		node("Unsqueeze", []string{"y", "ax1"}, []string{"y1"}),
		node("GatherElements", []string{"lp", "y1"}, []string{"lpy"}, attrInt("axis", 1)),
		node("Squeeze", []string{"lpy", "ax1"}, []string{"lpy0"}),
		node("Gather", []string{"cw", "y"}, []string{"wy"}),
		node("Mul", []string{"lpy0", "wy"}, []string{"wl"}),
		node("Neg", []string{"wl"}, []string{"nl"}),
		node("ReduceSum", []string{"nl"}, []string{"s"}, attrInt("keepdims", 0)),
		node("ReduceSum", []string{"wy"}, []string{"ws"}, attrInt("keepdims", 0)),
		node("Div", []string{"s", "ws"}, []string{"loss"}),
	)
	benchModel(b, m, map[string]*Tensor{"x": logits(b), "y": labels(benchN, benchC)})
}

// seeded returns a float32 tensor of the shape with unit-normal values.
func seeded(seed int64, shape ...int64) *Tensor {
	r := rand.New(rand.NewSource(seed))
	d := make([]float32, NumElements(shape))
	for i := range d {
		d[i] = float32(r.NormFloat64())
	}
	return NewFloat32(shape, d)
}

// benchNode times one node through a session: inits are initializers (so
// weights are packed once, as in a model), feeds are the inputs.
func benchNode(b *testing.B, n *onnxpb.NodeProto, inits map[string]*Tensor, feeds map[string]*Tensor) {
	var ps []*onnxpb.TensorProto
	for name, t := range inits {
		ps = append(ps, t.Proto(name))
	}
	var ins []string
	for name := range feeds {
		ins = append(ins, name)
	}
	benchRun(b, model(17, ins, n.Output, ps, n), feeds)
}

// BenchmarkConvShapes times resnet18's convolutions at its 2×3×64×64
// benchmark input (scripts/bench-archs.sh): the 7×7 stem, a 3×3 of each
// stage (16×16 down to 2×2 maps) and a strided 1×1 shortcut.
func BenchmarkConvShapes(b *testing.B) {
	for _, tc := range []struct {
		name              string
		c, hw, m, k, s, p int
	}{
		{"stem_3to64_7x7s2_64px", 3, 64, 64, 7, 2, 3},
		{"l1_64to64_3x3_16px", 64, 16, 64, 3, 1, 1},
		{"l2_128to128_3x3_8px", 128, 8, 128, 3, 1, 1},
		{"l3_256to256_3x3_4px", 256, 4, 256, 3, 1, 1},
		{"l4_512to512_3x3_2px", 512, 2, 512, 3, 1, 1},
		{"l4_down_256to512_1x1s2_4px", 256, 4, 512, 1, 2, 0},
	} {
		b.Run(tc.name, func(b *testing.B) {
			n := node("Conv", []string{"x", "w", "b"}, []string{"y"},
				attrInts("strides", int64(tc.s), int64(tc.s)), attrInts("pads", int64(tc.p), int64(tc.p), int64(tc.p), int64(tc.p)))
			benchNode(b, n,
				map[string]*Tensor{"w": seeded(1, int64(tc.m), int64(tc.c), int64(tc.k), int64(tc.k)), "b": seeded(2, int64(tc.m))},
				map[string]*Tensor{"x": seeded(3, 2, int64(tc.c), int64(tc.hw), int64(tc.hw))})
		})
	}
}

// BenchmarkMatMulShapes times swin_t's products at its 1×3×64×64 input:
// the batched attention products of one stage (windows × heads of 49×32
// by 32×49, then 49×49 by 49×32) and a weight-shared linear layer.
func BenchmarkMatMulShapes(b *testing.B) {
	for _, tc := range []struct {
		name string
		a, w []int64
		init bool // w is an initializer
	}{
		{"swin_qk_9x3x49x32_by_32x49", []int64{9, 3, 49, 32}, []int64{9, 3, 32, 49}, false},
		{"swin_av_9x3x49x49_by_49x32", []int64{9, 3, 49, 49}, []int64{9, 3, 49, 32}, false},
		{"swin_qk_4x6x49x32_by_32x49", []int64{4, 6, 49, 32}, []int64{4, 6, 32, 49}, false},
		{"swin_mlp_1x256x96_by_96x384", []int64{1, 256, 96}, []int64{96, 384}, true},
		{"swin_proj_4x49x192_by_192x192", []int64{4, 49, 192}, []int64{192, 192}, true},
		{"swin_mlp_1x4x4x1536_by_1536x384", []int64{1, 4, 4, 1536}, []int64{1536, 384}, true},
	} {
		b.Run(tc.name, func(b *testing.B) {
			n := node("MatMul", []string{"a", "w"}, []string{"y"})
			inits, feeds := map[string]*Tensor{}, map[string]*Tensor{"a": seeded(1, tc.a...)}
			if tc.init {
				inits["w"] = seeded(2, tc.w...)
			} else {
				feeds["w"] = seeded(2, tc.w...)
			}
			benchNode(b, n, inits, feeds)
		})
	}
}
