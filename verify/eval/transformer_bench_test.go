package eval

import (
	"fmt"
	"math/rand"
	"testing"

	"github.com/onnxloss/onnxloss/onnxpb"
	"google.golang.org/protobuf/proto"
)

// Benchmarks of the ops transformer exports lean on (LayerNormalization,
// Transpose, Pad, Concat, Slice, Constant) at the shapes convnext_tiny,
// swin_t and vit_small give them, and of the per-node overhead of Run on a
// graph as long as swin_t's.

// normalF32 returns a float32 tensor of seeded standard normal values.
func normalF32(r *rand.Rand, shape ...int64) *Tensor {
	d := make([]float32, NumElements(shape))
	for i := range d {
		d[i] = float32(r.NormFloat64())
	}
	return NewFloat32(shape, d)
}

// sinkShape makes the graph output Shape(y) instead of y, so that y's
// buffer is recycled from run to run as an intermediate value's is.
func sinkShape(m *onnxpb.ModelProto) *onnxpb.ModelProto {
	g := m.GetGraph()
	y := g.GetOutput()[0].GetName()
	g.Node = append(g.Node, node("Shape", []string{y}, []string{y + "_shape"}))
	g.Output[0].Name = proto.String(y + "_shape")
	return m
}

// benchRun times runs of m on feeds, after one untimed run (which packs
// the weights, as a model's first run does).
func benchRun(b *testing.B, m *onnxpb.ModelProto, feeds map[string]*Tensor) {
	b.Helper()
	s, err := NewSession(m, "")
	if err != nil {
		b.Fatal(err)
	}
	if _, err := s.Run(feeds, nil); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.Run(feeds, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLayerNormLastAxis(b *testing.B) {
	for _, sh := range [][]int64{{1, 56, 56, 96}, {1, 197, 384}, {1, 7, 7, 768}} {
		b.Run(fmt.Sprint(sh), func(b *testing.B) {
			r := rand.New(rand.NewSource(1))
			c := sh[len(sh)-1]
			x := normalF32(r, sh...)
			m := model(17, []string{"x"}, []string{"y"},
				[]*onnxpb.TensorProto{normalF32(r, c).Proto("s"), normalF32(r, c).Proto("b")},
				node("LayerNormalization", []string{"x", "s", "b"}, []string{"y"}, attrInt("axis", -1)))
			b.SetBytes(int64(x.Len() * 4))
			benchRun(b, sinkShape(m), map[string]*Tensor{"x": x})
		})
	}
}

func BenchmarkTranspose(b *testing.B) {
	cases := []struct {
		shape []int64
		perm  []int64
	}{
		{[]int64{1, 96, 56, 56}, []int64{0, 2, 3, 1}},           // convnext NCHW -> NHWC
		{[]int64{1, 56, 56, 96}, []int64{0, 3, 1, 2}},           // and back
		{[]int64{1, 8, 7, 8, 7, 96}, []int64{0, 1, 3, 2, 4, 5}}, // swin window partition
		{[]int64{64, 49, 3, 3, 32}, []int64{2, 0, 3, 1, 4}},     // swin qkv split
		{[]int64{1, 197, 6, 64}, []int64{0, 2, 1, 3}},           // vit heads
		{[]int64{1, 96, 16, 16}, []int64{0, 2, 3, 1}},           // swin patch embedding
		{[]int64{4, 6, 49, 32}, []int64{0, 1, 3, 2}},            // swin keys
	}
	for _, tc := range cases {
		b.Run(fmt.Sprint(tc.shape, tc.perm), func(b *testing.B) {
			r := rand.New(rand.NewSource(1))
			x := normalF32(r, tc.shape...)
			m := model(17, []string{"x"}, []string{"y"}, nil,
				node("Transpose", []string{"x"}, []string{"y"}, attrInts("perm", tc.perm...)))
			b.SetBytes(int64(x.Len() * 4))
			benchRun(b, sinkShape(m), map[string]*Tensor{"x": x})
		})
	}
}

func BenchmarkPadConstant(b *testing.B) {
	r := rand.New(rand.NewSource(1))
	x := normalF32(r, 1, 64, 56, 56)
	pads := NewInt64([]int64{8}, []int64{0, 0, 1, 1, 0, 0, 1, 1})
	m := model(17, []string{"x"}, []string{"y"}, []*onnxpb.TensorProto{pads.Proto("p")},
		node("Pad", []string{"x", "p"}, []string{"y"}))
	b.SetBytes(int64(x.Len() * 4))
	benchRun(b, sinkShape(m), map[string]*Tensor{"x": x})
}

func BenchmarkConcatChannels(b *testing.B) {
	r := rand.New(rand.NewSource(1))
	feeds := map[string]*Tensor{}
	var names []string
	for i := 0; i < 8; i++ {
		n := fmt.Sprint("x", i)
		names = append(names, n)
		feeds[n] = normalF32(r, 1, 32, 28, 28)
	}
	m := model(17, names, []string{"y"}, nil, node("Concat", names, []string{"y"}, attrInt("axis", 1)))
	b.SetBytes(8 * 32 * 28 * 28 * 4)
	benchRun(b, sinkShape(m), feeds)
}

// BenchmarkNodeOverhead runs a chain of 4000 small nodes (Constant, Add,
// Slice, Reshape on a few elements): the time is the evaluator's per-node
// bookkeeping.
func BenchmarkNodeOverhead(b *testing.B) {
	r := rand.New(rand.NewSource(1))
	x := normalF32(r, 4, 8)
	valT := onnxpb.AttributeProto_TENSOR
	var nodes []*onnxpb.NodeProto
	inits := []*onnxpb.TensorProto{
		NewInt64([]int64{1}, []int64{0}).Proto("zero"),
		NewInt64([]int64{1}, []int64{4}).Proto("four"),
		NewInt64([]int64{2}, []int64{4, 8}).Proto("shape"),
	}
	cur := "x"
	for i := 0; i < 1000; i++ {
		c, a, s, o := fmt.Sprint("c", i), fmt.Sprint("a", i), fmt.Sprint("s", i), fmt.Sprint("r", i)
		ct := normalF32(r, 8).Proto("")
		nodes = append(nodes,
			node("Constant", nil, []string{c}, &onnxpb.AttributeProto{Name: proto.String("value"), Type: &valT, T: ct}),
			node("Add", []string{cur, c}, []string{a}),
			node("Slice", []string{a, "zero", "four"}, []string{s}),
			node("Reshape", []string{s, "shape"}, []string{o}))
		cur = o
	}
	m := model(17, []string{"x"}, []string{cur}, inits, nodes...)
	benchRun(b, m, map[string]*Tensor{"x": x})
}
