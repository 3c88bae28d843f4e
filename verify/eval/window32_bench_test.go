package eval

import (
	"fmt"
	"math/rand"
	"testing"

	"github.com/onnxloss/onnxloss/onnxpb"
)

// Benchmarks of depthwise Conv, MaxPool, AveragePool and BatchNormalization
// on float32 shapes of the exported architectures (2×3×64×64 inputs):
// efficientnet/mobilenet depthwise stages, convnext's 7×7, resnet18's
// stem MaxPool, densenet121's transition AveragePool and its BatchNorm.

func randF32(rng *rand.Rand, shape ...int64) *Tensor {
	d := make([]float32, NumElements(shape))
	for i := range d {
		d[i] = float32(rng.NormFloat64())
	}
	return NewFloat32(shape, d)
}

func BenchmarkWindowDepthwise(b *testing.B) {
	for _, tc := range []struct{ c, hw, k, s int }{
		{32, 32, 3, 1}, {96, 32, 3, 2}, {240, 8, 5, 1}, {672, 8, 5, 2}, {96, 16, 7, 1}, {384, 4, 7, 1},
	} {
		b.Run(fmt.Sprintf("c%d_%dx%d_k%d_s%d", tc.c, tc.hw, tc.hw, tc.k, tc.s), func(b *testing.B) {
			rng := rand.New(rand.NewSource(1))
			x := randF32(rng, 2, int64(tc.c), int64(tc.hw), int64(tc.hw))
			w := randF32(rng, int64(tc.c), 1, int64(tc.k), int64(tc.k))
			bias := randF32(rng, int64(tc.c))
			p := tc.k / 2
			c := &opCtx{opset: 17, attrs: map[string]*onnxpb.AttributeProto{
				"strides": intsAttr("strides", tc.s, tc.s), "pads": intsAttr("pads", p, p, p, p),
				"group": {Name: ptrTo("group"), I: ptrTo(int64(tc.c)), Type: onnxpb.AttributeProto_INT.Enum()},
			}}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := opConv(c, []*Tensor{x, w, bias}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkWindowPool(b *testing.B) {
	for _, tc := range []struct {
		op          string
		c, hw, k, s int
		p           int
	}{
		{"MaxPool", 64, 32, 3, 2, 1}, {"MaxPool", 64, 16, 3, 1, 1}, {"AveragePool", 128, 16, 2, 2, 0}, {"AveragePool", 256, 8, 3, 1, 1},
	} {
		b.Run(fmt.Sprintf("%s_c%d_%dx%d_k%d_s%d_p%d", tc.op, tc.c, tc.hw, tc.hw, tc.k, tc.s, tc.p), func(b *testing.B) {
			rng := rand.New(rand.NewSource(1))
			x := randF32(rng, 2, int64(tc.c), int64(tc.hw), int64(tc.hw))
			c := &opCtx{opset: 17, nOut: 1, want: []bool{true}, attrs: map[string]*onnxpb.AttributeProto{
				"kernel_shape": intsAttr("kernel_shape", tc.k, tc.k),
				"strides":      intsAttr("strides", tc.s, tc.s), "pads": intsAttr("pads", tc.p, tc.p, tc.p, tc.p),
			}}
			f := poolOp(tc.op == "MaxPool")
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := f(c, []*Tensor{x}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkWindowBatchNorm(b *testing.B) {
	rng := rand.New(rand.NewSource(1))
	const ch = 256
	x := randF32(rng, 2, ch, 16, 16)
	sc, bs, mean := randF32(rng, ch), randF32(rng, ch), randF32(rng, ch)
	vr := randF32(rng, ch)
	for i, v := range vr.Float32s() {
		vr.Float32s()[i] = v*v + 0.1
	}
	c := &opCtx{opset: 15, nOut: 1, want: []bool{true}}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := opBatchNorm(c, []*Tensor{x, sc, bs, mean, vr}); err != nil {
			b.Fatal(err)
		}
	}
}
